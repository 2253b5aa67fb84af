//! `mqtt-lab-bench`: see [`mqtt_lab_bench::options::USAGE`].

use std::io::Write as _;
use std::net::ToSocketAddrs as _;
use std::process::ExitCode;

use mqtt_lab_bench::options::USAGE;
use mqtt_lab_bench::relay::Relay;
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
    if args[0] == "relay" {
        raise_open_files_limit();
        return relay(&args[1..]);
    }
    let options = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("Error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    raise_open_files_limit();
    if let (Some(path), false) =
        (mqtt_lab_psk_hint::keylog::path_from_env(), options.security == mqtt_lab_bench::transport::Security::Plain)
    {
        eprintln!("Note: TLS keys logged to {} (SSLKEYLOGFILE)", path.display());
    }
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

/// `relay [--host H] [--port P]`: serves until killed; prints the address it listens on.
fn relay(args: &[String]) -> ExitCode {
    let (mut host, mut port) = ("127.0.0.1".to_owned(), 1883u16);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next();
        match (flag.as_str(), value) {
            ("--host", Some(h)) => host.clone_from(h),
            ("--port", Some(p)) => {
                let Ok(p) = p.parse() else {
                    eprintln!("Error: --port {p:?}: not a port number");
                    return ExitCode::from(2);
                };
                port = p;
            }
            _ => {
                eprintln!("Error: relay takes --host HOST and --port PORT, not {flag}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Ok(Some(addr)) = (host.as_str(), port).to_socket_addrs().map(|mut a| a.next()) else {
        eprintln!("Error: cannot resolve {host}");
        return ExitCode::FAILURE;
    };
    let relay = match Relay::bind(addr) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(at) = relay.local_addr() {
        let _ = writeln!(std::io::stdout(), "relay listening on {at}");
    }
    match relay.serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: relay: {e}");
            ExitCode::FAILURE
        }
    }
}
