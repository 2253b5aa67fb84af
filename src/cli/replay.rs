//! `mqtt-lab replay FILE --profile P [--speed N | --as-fast-as-possible] [--loop | --loops N]
//! [--prefix X] [--remove-prefix X] [--qos N] [--retain yes|no]`: a JSON-lines recording (the
//! message list's "Export JSON lines") published again through a profile's broker, on its
//! recorded timing, until done or Ctrl+C.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::connection::Qos;
use crate::replay::{Pace, Repeat, ReplayEvent, ReplayOptions, Replayer};

/// The built-in broker's usual port, for a profile that names it (the app's window must be open).
const BUILTIN_PORT: u16 = 1883;

/// Progress lines at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// What `mqtt-lab replay` was asked.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayArgs {
    pub file: PathBuf,
    pub profile: PathBuf,
    pub options: ReplayOptions,
}

fn value(args: &mut impl Iterator<Item = String>, option: &str, what: &str) -> Result<String, String> {
    args.next().ok_or_else(|| format!("{option} needs {what}"))
}

/// Reads the arguments after `replay`.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<ReplayArgs, String> {
    let (mut file, mut profile) = (None, None);
    let mut options = ReplayOptions::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--profile" => profile = Some(PathBuf::from(value(&mut args, "--profile", "a file")?)),
            "--speed" => {
                let text = value(&mut args, "--speed", "a factor")?;
                let factor: f64 = text.parse().map_err(|_| format!("--speed {text:?} is not a number"))?;
                options.pace = Pace::from_factor(factor)?;
            }
            "--as-fast-as-possible" => options.pace = Pace::AsFastAsPossible,
            "--loop" => options.repeat = Repeat::Forever,
            "--loops" => {
                let text = value(&mut args, "--loops", "a number")?;
                let n: u32 =
                    text.parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("--loops {text:?}: 1 or more"))?;
                options.repeat = Repeat::Times(n);
            }
            "--prefix" => options.rewrite.add = value(&mut args, "--prefix", "a topic prefix")?,
            "--remove-prefix" => options.rewrite.remove = value(&mut args, "--remove-prefix", "a topic prefix")?,
            "--qos" => {
                let text = value(&mut args, "--qos", "0, 1 or 2")?;
                let qos =
                    text.parse().ok().and_then(Qos::from_level).ok_or_else(|| format!("--qos {text:?}: 0, 1 or 2"))?;
                options.qos = Some(qos);
            }
            "--retain" => {
                options.retain = Some(match value(&mut args, "--retain", "yes or no")?.as_str() {
                    "yes" | "true" | "1" => true,
                    "no" | "false" | "0" => false,
                    other => return Err(format!("--retain {other:?}: yes or no")),
                });
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other:?}")),
            _ if file.is_some() => return Err(format!("one recording at a time ({arg:?} is extra)")),
            _ => file = Some(PathBuf::from(arg)),
        }
    }
    let file = file.ok_or("replay needs a JSON-lines file (the message list's \"Export JSON lines\")")?;
    let profile = profile.ok_or("replay needs --profile FILE (export one from the app's profile editor)")?;
    Ok(ReplayArgs { file, profile, options })
}

fn describe(options: &ReplayOptions) -> String {
    let pace = match options.pace {
        Pace::Speed(f) if (f - 1.0).abs() < f64::EPSILON => "at the recorded pace".to_owned(),
        Pace::Speed(f) => format!("{f}x faster"),
        Pace::AsFastAsPossible => "as fast as possible".to_owned(),
    };
    let repeat = match options.repeat {
        Repeat::Once => "once".to_owned(),
        Repeat::Times(n) => format!("{n} times"),
        Repeat::Forever => "in a loop until Ctrl+C".to_owned(),
    };
    format!("{pace}, {repeat}")
}

/// Runs the replay until it ends; the exit code (0 done or stopped, 1 bad profile, file or
/// arguments, 5 no connection).
pub fn replay(args: &ReplayArgs, out: &mut impl Write) -> u8 {
    let Some(profile) = super::read_profile(&args.profile, out) else { return 1 };
    let settings = match profile.connect_settings(Some(BUILTIN_PORT)) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return 1;
        }
    };
    let messages = match crate::replay::from_file(&args.file) {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(out, "Cannot read the recording: {e}");
            return 1;
        }
    };
    let (runtime, interrupted) = match super::interruptible_runtime("mqtt-lab-replay") {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(out, "Cannot start: {e}");
            return 1;
        }
    };
    let _ = writeln!(
        out,
        "Replaying {} message(s) from {} to {}:{}, {}.",
        messages.len(),
        args.file.display(),
        settings.host,
        settings.port,
        describe(&args.options)
    );
    let mut replayer = Replayer::start(runtime.handle(), settings, messages, args.options.clone(), Arc::new(|| {}));
    let mut printed = Instant::now();
    loop {
        if interrupted.swap(false, Ordering::SeqCst) {
            replayer.stop();
        }
        let Some(event) = replayer.recv_timeout(Duration::from_millis(100)) else { continue };
        match event {
            ReplayEvent::Status(text) => {
                let _ = writeln!(out, "{text}");
            }
            ReplayEvent::Progress(p) if printed.elapsed() >= PROGRESS_EVERY => {
                printed = Instant::now();
                let total = p.total.map_or(String::new(), |t| format!(" of {t}"));
                let _ = writeln!(out, "sent {}{total} (round {})", p.sent, p.round);
            }
            ReplayEvent::Progress(_) => {}
            ReplayEvent::Ended { text, ok, .. } => {
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
                return if ok { 0 } else { 5 };
            }
        }
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::Rewrite;

    fn args(a: &[&str]) -> impl Iterator<Item = String> {
        a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn options_are_read_or_refused_by_name() {
        let parsed = parse(args(&[
            "burst.jsonl",
            "--profile",
            "p.json",
            "--speed",
            "10",
            "--loops",
            "2",
            "--prefix",
            "lab/",
            "--remove-prefix",
            "site-a/",
            "--qos",
            "1",
            "--retain",
            "no",
        ]))
        .unwrap();
        assert_eq!(parsed.file, PathBuf::from("burst.jsonl"));
        assert_eq!(parsed.options.pace, Pace::Speed(10.0));
        assert_eq!(parsed.options.repeat, Repeat::Times(2));
        assert_eq!(parsed.options.rewrite, Rewrite { remove: "site-a/".into(), add: "lab/".into() });
        assert_eq!((parsed.options.qos, parsed.options.retain), (Some(Qos::AtLeastOnce), Some(false)));
        let afap = parse(args(&["f", "--profile", "p", "--speed", "0", "--loop"])).unwrap();
        assert_eq!((afap.options.pace, afap.options.repeat), (Pace::AsFastAsPossible, Repeat::Forever));
        assert!(parse(args(&["--profile", "p"])).unwrap_err().contains("JSON-lines file"));
        assert!(parse(args(&["f"])).unwrap_err().contains("--profile FILE"));
        assert!(parse(args(&["f", "--profile", "p", "--speed", "-2"])).unwrap_err().contains("above 0"));
        assert!(parse(args(&["f", "--profile", "p", "--qos", "3"])).unwrap_err().contains("0, 1 or 2"));
        assert!(parse(args(&["f", "--profile", "p", "--loops", "0"])).unwrap_err().contains("1 or more"));
        assert!(parse(args(&["f", "g", "--profile", "p"])).unwrap_err().contains("one recording"));
        assert!(parse(args(&["f", "--fast"])).unwrap_err().contains("--fast"));
    }

    #[test]
    fn a_missing_recording_is_exit_code_1_with_the_reason() {
        let dir = std::env::temp_dir().join(format!("mqtt-lab-cli-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let profile = dir.join("p.json");
        std::fs::write(&profile, r#"{"name":"P","host":"127.0.0.1","port":1}"#).unwrap();
        let wanted = ReplayArgs { file: dir.join("none.jsonl"), profile, options: ReplayOptions::default() };
        let mut out = Vec::new();
        assert_eq!(replay(&wanted, &mut out), 1);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("Cannot read the recording: ") && text.contains("none.jsonl"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
