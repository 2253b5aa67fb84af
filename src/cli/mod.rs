//! The command line. `mqtt-lab` opens the window; `mqtt-lab check PROFILE_FILE [--topic TOPIC]`
//! runs the connection self-test and exits with the failing step's code; `mqtt-lab simulate`
//! runs a simulated device (`simulate`).

mod capture;
mod import;
mod replay;
mod simulate;

pub use capture::{CaptureArgs, capture};
pub use import::{Destination, ImportArgs, import};
pub use replay::{ReplayArgs, replay};
pub use simulate::simulate;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::check::{self, CheckOptions, Step, StepReport};
use crate::profile::ProfileStore;
use crate::simulate::{Device, TIME_LAPSE};

pub const USAGE: &str = "\
Usage:
  mqtt-lab                                  open the window (with the built-in broker)
  mqtt-lab check PROFILE_FILE [--topic T]   test a profile's connection step by step
  mqtt-lab simulate pv|lamp --profile FILE [--time-lapse | --speed N] [--count N]
                                            run the simulated PV plant or ESP32 lamp until
                                            Ctrl+C (or N updates); --time-lapse: a day in 10 min
  mqtt-lab replay FILE.jsonl --profile FILE [--speed N | --as-fast-as-possible] [--loop | --loops N]
          [--prefix X] [--remove-prefix X] [--qos N] [--retain yes|no]
                                            publish a JSON-lines recording again on its timing
                                            (--speed 10: ten times faster; 0: no pauses)
  mqtt-lab capture PROFILE_FILE --out FILE.pcapng [--topic T] [--seconds N]
                                            record a session (subscribed to T, default #, for
                                            N s, default 10) as pcapng for Wireshark
  mqtt-lab import FILE [--save | --into DIR]
                                            read MQTT.fx's mqttfx-config.xml or an MQTTX export
                                            and print what is imported and what is not

check exit codes: 0 all steps passed, 1 bad profile or arguments, 2 DNS lookup, 3 TCP connection,
4 TLS handshake, 5 MQTT CONNECT refused, 6 SUBSCRIBE refused, 7 the message did not come back.
capture exit codes: 0 written, 1 bad profile or arguments, 5 the connection failed, 6 SUBSCRIBE
refused, 8 the file could not be written.
simulate exit codes: 0 stopped or done, 1 bad profile or arguments, 5 the connection failed.
replay exit codes: 0 done or stopped, 1 bad profile, file or arguments, 5 the connection failed.
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    Window,
    Help,
    Check { profile: PathBuf, topic: Option<String> },
    Simulate { device: Device, profile: PathBuf, speed: f64, count: Option<u64> },
    Replay(ReplayArgs),
    Capture(CaptureArgs),
    Import(ImportArgs),
}

/// Reads the arguments after the program name.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Invocation, String> {
    match args.next().as_deref() {
        None => Ok(Invocation::Window),
        Some("-h" | "--help" | "help") => Ok(Invocation::Help),
        Some("check") => {
            let (mut profile, mut topic) = (None, None);
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "--topic" => topic = Some(args.next().ok_or("--topic needs a topic")?),
                    other if other.starts_with('-') => return Err(format!("unknown option {other:?}")),
                    _ if profile.is_some() => return Err(format!("one profile file at a time ({arg:?} is extra)")),
                    _ => profile = Some(PathBuf::from(arg)),
                }
            }
            let profile = profile.ok_or("check needs a profile file (export one from the app's profile editor)")?;
            Ok(Invocation::Check { profile, topic })
        }
        Some("simulate") => {
            let device = match args.next().as_deref() {
                Some("pv") => Device::Pv,
                Some("lamp") => Device::Lamp,
                other => return Err(format!("simulate pv or lamp, not {other:?}")),
            };
            let (mut profile, mut speed, mut count) = (None, 1.0, None);
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "--profile" => profile = Some(PathBuf::from(args.next().ok_or("--profile needs a file")?)),
                    "--time-lapse" => speed = TIME_LAPSE,
                    "--speed" => {
                        let text = args.next().ok_or("--speed needs a factor")?;
                        speed = text.parse().ok().filter(|s: &f64| *s > 0.0 && s.is_finite()).ok_or_else(|| {
                            format!("--speed {text:?}: a factor above 0 (1 real time, 144 a day in 10 minutes)")
                        })?;
                    }
                    "--count" => {
                        let text = args.next().ok_or("--count needs a number")?;
                        count = Some(text.parse().map_err(|_| format!("--count {text:?} is not a number"))?);
                    }
                    other => return Err(format!("unknown option {other:?}")),
                }
            }
            let profile = profile.ok_or("simulate needs --profile FILE (export one from the app's profile editor)")?;
            Ok(Invocation::Simulate { device, profile, speed, count })
        }
        Some("replay") => replay::parse(args).map(Invocation::Replay),
        Some("capture") => capture::parse(args).map(Invocation::Capture),
        Some("import") => import::parse(args).map(Invocation::Import),
        Some(other) => Err(format!("unknown command {other:?}")),
    }
}

/// One step as a line of the report.
pub fn format_step(report: &StepReport) -> String {
    let (mark, text) = match &report.outcome {
        Ok(text) => ("ok  ", text),
        Err(text) => ("FAIL", text),
    };
    let ms = report.elapsed.as_secs_f64() * 1000.0;
    format!("  {mark}  {:<20} {text} ({ms:.1} ms)", report.step.name())
}

/// Runs the self-test of the profile in `path`, writing the report to `out`; the exit code.
pub fn check(path: &Path, topic: Option<String>, out: &mut impl Write) -> u8 {
    let Some(profile) = read_profile(path, out) else { return 1 };
    if profile.builtin_broker {
        let _ = writeln!(
            out,
            "The profile {:?} connects to the built-in broker, which runs inside the app's window; test it there.",
            profile.name
        );
        return 1;
    }
    if profile.username.is_some() && profile.password.is_none() {
        let _ = writeln!(
            out,
            "Note: the file has a user name but no password (exports leave it out unless asked); the broker may refuse."
        );
    }
    let settings = match profile.connect_settings(None) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return 1;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(out, "Cannot start: {e}");
            return 1;
        }
    };
    let address = match &settings.websocket {
        // ws:// or wss://, as the broker's console would print it.
        Some(path) => {
            let scheme = if settings.security == crate::connection::Security::Plain { "ws" } else { "wss" };
            format!("{scheme}://{}:{}{path}", settings.host, settings.port)
        }
        None => format!("{}:{}", settings.host, settings.port),
    };
    let _ = writeln!(out, "Checking {:?}: {address} as client id {}", profile.name, check::check_client_id(&settings));
    let mut reached = 0;
    let result = runtime.block_on(check::run(&settings, &CheckOptions { topic }, |report| {
        reached += 1;
        let _ = writeln!(out, "{}", format_step(&report));
    }));
    for step in Step::all_for(&settings).skip(reached) {
        let _ = writeln!(out, "  -     {:<20} not reached", step.name());
    }
    match result {
        Ok(()) => {
            let _ = writeln!(out, "All steps passed.");
            0
        }
        Err(step) => {
            let _ = writeln!(out, "Failed at step {:?} (exit code {}).", step.name(), step.exit_code());
            step.exit_code()
        }
    }
}

/// Reads a command's profile file, or says why it cannot (the command then exits 1).
fn read_profile(path: &Path, out: &mut impl Write) -> Option<crate::profile::Profile> {
    match ProfileStore::import(path) {
        Ok(p) => Some(p),
        Err(e) => {
            let _ = writeln!(out, "Cannot read the profile: {e}");
            None
        }
    }
}

/// A one-worker runtime for a command that runs until done or Ctrl+C (its thread named
/// `thread`), and the flag Ctrl+C sets.
fn interruptible_runtime(
    thread: &str,
) -> std::io::Result<(tokio::runtime::Runtime, std::sync::Arc<std::sync::atomic::AtomicBool>)> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).thread_name(thread).enable_all().build()?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
        }
    });
    Ok((runtime, interrupted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> impl Iterator<Item = String> {
        a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn arguments_are_read_or_refused_by_name() {
        assert_eq!(parse(args(&[])), Ok(Invocation::Window));
        assert_eq!(parse(args(&["--help"])), Ok(Invocation::Help));
        assert_eq!(
            parse(args(&["check", "pi.json", "--topic", "btsiot/test"])),
            Ok(Invocation::Check { profile: "pi.json".into(), topic: Some("btsiot/test".into()) })
        );
        assert!(parse(args(&["check"])).unwrap_err().contains("profile file"));
        assert!(parse(args(&["check", "a", "b"])).unwrap_err().contains("one profile file"));
        assert!(parse(args(&["check", "a", "--topic"])).unwrap_err().contains("--topic needs"));
        assert!(parse(args(&["check", "a", "--fast"])).unwrap_err().contains("--fast"));
        assert!(parse(args(&["bench"])).unwrap_err().contains("bench"));
        assert_eq!(
            parse(args(&["simulate", "pv", "--profile", "pi.json", "--time-lapse", "--count", "3"])),
            Ok(Invocation::Simulate { device: Device::Pv, profile: "pi.json".into(), speed: 144.0, count: Some(3) })
        );
        assert!(parse(args(&["simulate", "fridge"])).unwrap_err().contains("pv or lamp"));
        assert!(parse(args(&["simulate", "lamp"])).unwrap_err().contains("--profile FILE"));
        assert!(parse(args(&["simulate", "lamp", "--profile", "a", "--speed", "0"])).unwrap_err().contains("above 0"));
    }

    #[test]
    fn a_missing_profile_file_is_exit_code_1_with_the_reason() {
        let mut out = Vec::new();
        let code = check(Path::new("/nonexistent/pi.json"), None, &mut out);
        assert_eq!(code, 1);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("Cannot read the profile"), "{text}");
    }
}
