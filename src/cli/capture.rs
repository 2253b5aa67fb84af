//! `mqtt-lab capture PROFILE --out FILE.pcapng [--topic T] [--seconds N]`: connects with the
//! profile as the app does (through the relay, so TLS and TLS-PSK are taken off), subscribes to
//! T (default `#`), records every packet both ways for N seconds (default 10), disconnects and
//! writes the session as pcapng for Wireshark (`crate::pcap`), then prints what it holds.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::connection::{Command, Connection, ConnectionStatus, Event, Qos, Security, SubOptions};
use crate::model::PacketLog;
use crate::pcap::{Capture, Endpoints, write_file};

/// How long the closing DISCONNECT may take to pass the relay before the file is written.
const CLOSE_WITHIN: Duration = Duration::from_secs(3);
/// How often the events are looked at: the connection's channel has no blocking receive.
const POLL: Duration = Duration::from_millis(5);

/// What `capture` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureArgs {
    pub profile: PathBuf,
    pub out: PathBuf,
    pub topic: String,
    pub seconds: u64,
}

/// Reads the arguments after `capture`.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<CaptureArgs, String> {
    let (mut profile, mut out, mut topic, mut seconds) = (None, None, "#".to_owned(), 10);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(args.next().ok_or("--out needs a file (FILE.pcapng)")?)),
            "--topic" => topic = args.next().ok_or("--topic needs a topic filter")?,
            "--seconds" => {
                let text = args.next().ok_or("--seconds needs a number")?;
                seconds = text.parse().map_err(|_| format!("--seconds {text:?} is not a whole number of seconds"))?;
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other:?}")),
            _ if profile.is_some() => return Err(format!("one profile file at a time ({arg:?} is extra)")),
            _ => profile = Some(PathBuf::from(arg)),
        }
    }
    let profile = profile.ok_or("capture needs a profile file (export one from the app's profile editor)")?;
    let out = out.ok_or("capture needs --out FILE.pcapng")?;
    Ok(CaptureArgs { profile, out, topic, seconds })
}

/// Runs the capture; the exit code (0 written, 1 bad profile or arguments, 5 the connection
/// failed, 6 the SUBSCRIBE was refused, 8 the file could not be written).
pub fn capture(args: &CaptureArgs, out: &mut impl Write) -> u8 {
    let Some(profile) = super::read_profile(&args.profile, out) else { return 1 };
    if profile.builtin_broker {
        let _ = writeln!(
            out,
            "The profile {:?} connects to the built-in broker, which runs inside the app's window; use the Packets tab's \"Save for Wireshark\" there.",
            profile.name
        );
        return 1;
    }
    let settings = match profile.connect_settings(None) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return 1;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(out, "Cannot start: {e}");
            return 1;
        }
    };
    let secured = match &settings.security {
        Security::Plain => None,
        Security::Psk { .. } => Some("TLS-PSK".to_owned()),
        Security::Tls(_) => Some("TLS".to_owned()),
    };
    let websocket = settings.websocket.is_some();
    let (host, port, connect_within) = (settings.host.clone(), settings.port, settings.connect_timeout);
    let _ = writeln!(
        out,
        "Capturing {host}:{port} ({:?}), subscribed to {:?}, for {} s…",
        profile.name, args.topic, args.seconds
    );
    let _ = out.flush();
    let connect_within = connect_within + Duration::from_secs(2);
    let mut recorder = Recorder {
        connection: Connection::open(runtime.handle(), settings, Arc::new(|| {})),
        log: PacketLog::default(),
        messages: 0,
    };
    if let Err(code) = recorder.record(args, connect_within, out) {
        return code;
    }
    let Recorder { log, messages, .. } = recorder;
    let capture = Capture::new(Endpoints::look_up(&host, port), secured.clone(), websocket);
    match write_file(&args.out, &capture, &log.packets) {
        Ok(written) => {
            let _ = writeln!(
                out,
                "Wrote {}: {} MQTT packet(s) ({messages} message(s) received) in {} frame(s).",
                args.out.display(),
                written.packets,
                written.frames
            );
            if let Some(kind) = secured {
                let _ = writeln!(out, "The connection used {kind}: the file shows the MQTT inside it in clear.");
            }
            let _ = writeln!(out, "Open it in Wireshark, or: tshark -r {} -Y mqtt", quoted(&args.out));
            0
        }
        Err(e) => {
            let _ = writeln!(out, "The capture could not be written: {e}");
            8
        }
    }
}

/// The connection being recorded: its packets and how many messages came.
struct Recorder {
    connection: Connection,
    log: PacketLog,
    messages: u64,
}

impl Recorder {
    /// The events other than taps and messages, which are recorded.
    fn take(&mut self) -> Vec<Event> {
        let mut other = Vec::new();
        while let Some(event) = self.connection.try_event() {
            match event {
                Event::Tap(tap) => self.log.tap(&tap),
                Event::Message(_) => self.messages += 1,
                e => other.push(e),
            }
        }
        other
    }

    /// Connects (within `connect_within`), subscribes, records for the seconds asked, then
    /// disconnects and waits (a little) for the DISCONNECT to pass the relay. `Err`: the exit code.
    fn record(&mut self, args: &CaptureArgs, connect_within: Duration, out: &mut impl Write) -> Result<(), u8> {
        let deadline = Instant::now() + connect_within;
        'connecting: loop {
            for event in self.take() {
                match event {
                    Event::Status(ConnectionStatus::Connected { .. }) => break 'connecting,
                    Event::Status(ConnectionStatus::Failed(why)) => {
                        let _ = writeln!(out, "The connection failed: {why}");
                        return Err(5);
                    }
                    _ => {}
                }
            }
            if Instant::now() > deadline {
                let _ = writeln!(out, "The connection failed: no answer within {} s.", connect_within.as_secs());
                return Err(5);
            }
            std::thread::sleep(POLL);
        }
        let filter = args.topic.clone();
        self.connection.send(Command::Subscribe { filter, qos: Qos::AtMostOnce, options: SubOptions::default() });
        let end = Instant::now() + Duration::from_secs(args.seconds);
        while Instant::now() < end {
            for event in self.take() {
                if let Event::Subscribed { filter, granted: Err(refusal) } = event {
                    let _ = writeln!(out, "The broker refused the subscription to {filter:?}: {}", refusal.text);
                    return Err(6);
                }
            }
            std::thread::sleep(POLL);
        }
        self.connection.send(Command::Disconnect);
        let closing = Instant::now() + CLOSE_WITHIN;
        'closing: while Instant::now() < closing {
            for event in self.take() {
                if matches!(event, Event::Status(ConnectionStatus::Disconnected | ConnectionStatus::Failed(_))) {
                    break 'closing;
                }
            }
            std::thread::sleep(POLL);
        }
        self.take();
        Ok(())
    }
}

/// The path as a shell would need it.
fn quoted(path: &Path) -> String {
    let text = path.display().to_string();
    if text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b)) { text } else { format!("'{text}'") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> impl Iterator<Item = String> {
        a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn arguments_are_read_with_defaults_or_refused_by_name() {
        assert_eq!(
            parse(args(&["pi.json", "--out", "a.pcapng"])),
            Ok(CaptureArgs { profile: "pi.json".into(), out: "a.pcapng".into(), topic: "#".into(), seconds: 10 })
        );
        let full = parse(args(&["pi.json", "--out", "a.pcapng", "--topic", "PV/#", "--seconds", "3"])).unwrap();
        assert_eq!((full.topic.as_str(), full.seconds), ("PV/#", 3));
        assert!(parse(args(&["pi.json"])).unwrap_err().contains("--out"));
        assert!(parse(args(&["--out", "a"])).unwrap_err().contains("profile file"));
        assert!(parse(args(&["a", "--out", "b", "--seconds", "x"])).unwrap_err().contains("\"x\""));
        assert!(parse(args(&["a", "--fast"])).unwrap_err().contains("--fast"));
    }

    #[test]
    fn a_missing_profile_is_exit_code_1_with_the_reason() {
        let a = CaptureArgs {
            profile: "/nonexistent/p.json".into(),
            out: "/tmp/x.pcapng".into(),
            topic: "#".into(),
            seconds: 1,
        };
        let mut out = Vec::new();
        assert_eq!(capture(&a, &mut out), 1);
        assert!(String::from_utf8(out).unwrap().starts_with("Cannot read the profile"));
    }
}
