//! `mqtt-lab-bench`: see [`mqtt_lab_bench::options::USAGE`].

use std::io::Write as _;
use std::process::ExitCode;

use mqtt_lab_bench::options::USAGE;
use mqtt_lab_bench::{Options, Outcome, scenario, summary};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        // Not println!: a closed pipe (`| head`) is not a reason to panic.
        let _ = writeln!(std::io::stdout(), "{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args[0] == "summarize" {
        return summarize(&args[1..]);
    }
    let options = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("Error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    raise_open_files_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("bench-worker").build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(scenario::run(&options)) {
        Ok(outcome) => {
            if !options.quiet {
                eprint!("{}", outcome.table());
            }
            let _ = writeln!(std::io::stdout(), "{}", serde_json::to_string(&outcome).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {} against {}: {e}", options.scenario.name(), options.label);
            ExitCode::FAILURE
        }
    }
}

/// Thousands of connections need as many file descriptors; the soft limit is often 1024.
fn raise_open_files_limit() {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("Warning: cannot raise the open files limit: {e}");
    }
}

fn summarize(args: &[String]) -> ExitCode {
    let mut ours = "mqtt-lab".to_owned();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--ours" {
            ours = it.next().cloned().unwrap_or(ours);
            continue;
        }
        let text = match std::fs::read_to_string(a) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("Error: cannot read {a}: {e}");
                return ExitCode::FAILURE;
            }
        };
        for (n, line) in text.lines().enumerate().filter(|(_, l)| l.starts_with('{')) {
            match serde_json::from_str(line) {
                Ok(o) => outcomes.push(o),
                Err(e) => eprintln!("Warning: {a}:{}: not a result line: {e}", n + 1),
            }
        }
    }
    let _ = write!(std::io::stdout(), "{}", summary::summarize(&outcomes, &ours));
    ExitCode::SUCCESS
}
