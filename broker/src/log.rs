//! Logging in Mosquitto's style: `1700000000: New client connected from ...`, filtered by
//! `log_type` and sent to each `log_dest`. The app embedding the broker adds a [`LogSink`].
//! `log_timestamp_format` gives the timestamp as strftime(3) would (chrono's strftime, in local
//! time, as Mosquitto's `localtime_r` + `strftime`).

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// A log message type, as `log_type` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogType {
    Error = 1,
    Warning = 2,
    Notice = 4,
    Information = 8,
    Subscribe = 16,
    Unsubscribe = 32,
    Websockets = 64,
    Debug = 128,
}

const ALL: u32 = 0xFF;
const DEFAULT_TYPES: u32 =
    LogType::Error as u32 | LogType::Warning as u32 | LogType::Notice as u32 | LogType::Information as u32;

/// What a `log_type` line selects: one type, all, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTypes(u32);

impl LogType {
    pub fn parse(value: &str) -> Option<LogTypes> {
        Some(LogTypes(match value {
            "error" => Self::Error as u32,
            "warning" => Self::Warning as u32,
            "notice" => Self::Notice as u32,
            "information" => Self::Information as u32,
            "subscribe" => Self::Subscribe as u32,
            "unsubscribe" => Self::Unsubscribe as u32,
            "websockets" => Self::Websockets as u32,
            "debug" => Self::Debug as u32,
            "all" => ALL,
            "none" => 0,
            _ => return None,
        }))
    }
}

/// The function behind a [`LogSink`].
pub type LogFn = dyn Fn(LogType, &str) + Send + Sync;

/// A callback that receives each log line; the app shows them in its log tab.
#[derive(Clone)]
pub struct LogSink(pub Arc<LogFn>);

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogSink")
    }
}

/// Where log lines go.
#[derive(Debug, Clone)]
pub enum LogDest {
    Stdout,
    Stderr,
    File(PathBuf),
    Sink(LogSink),
    None,
}

impl LogDest {
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut words = value.splitn(2, char::is_whitespace);
        match (words.next().unwrap_or(""), words.next().map(str::trim)) {
            ("stdout", None) => Ok(Self::Stdout),
            ("stderr", None) => Ok(Self::Stderr),
            ("none", None) => Ok(Self::None),
            ("file", Some(path)) if !path.is_empty() => Ok(Self::File(PathBuf::from(path))),
            ("file", _) => Err("log_dest file needs a path".into()),
            ("syslog" | "topic" | "dlt", _) => Err(format!(
                "log_dest {value} is a Mosquitto destination this broker does not support yet; use stdout, stderr or file"
            )),
            _ => Err(format!("log_dest {value:?} is not one of stdout, stderr, file PATH, none")),
        }
    }
}

/// The logging part of the configuration.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// `None` until a `log_type` line: then error, warning, notice and information.
    types: Option<u32>,
    /// Empty: stderr, as Mosquitto run from a terminal.
    dest: Vec<LogDest>,
    pub timestamp: bool,
    /// `log_timestamp_format`: `None` is Mosquitto's default, seconds since the epoch.
    pub timestamp_format: Option<TimestampFormat>,
    pub connection_messages: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { types: None, dest: Vec::new(), timestamp: true, timestamp_format: None, connection_messages: true }
    }
}

/// A `log_timestamp_format`, parsed once. chrono reads strftime's conversions (`%Y`, `%H`,
/// `%s`, ...); one it does not know is printed as written, as glibc's strftime prints it, so a
/// format Mosquitto accepts never stops this broker either.
#[derive(Debug, Clone)]
pub struct TimestampFormat(Vec<chrono::format::Item<'static>>);

impl TimestampFormat {
    /// Mosquitto refuses an empty format ("Empty log_timestamp_format value").
    pub fn parse(format: &str) -> Result<Self, String> {
        if format.is_empty() {
            return Err("log_timestamp_format needs a strftime format, e.g. %Y-%m-%dT%H:%M:%S".into());
        }
        chrono::format::StrftimeItems::new_lenient(format)
            .parse_to_owned()
            .map(Self)
            .map_err(|e| format!("log_timestamp_format {format:?}: {e}"))
    }

    /// `now` in local time, in this format.
    fn format(&self, now: chrono::DateTime<chrono::Local>) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        // A conversion that cannot be given for this time (none of strftime's) leaves seconds.
        if write!(out, "{}", now.format_with_items(self.0.iter())).is_err() {
            out = now.timestamp().to_string();
        }
        out
    }
}

impl LogConfig {
    pub fn add_type(&mut self, types: LogTypes) {
        self.types = Some(match types.0 {
            0 => 0,
            t => self.types.unwrap_or(0) | t,
        });
    }

    /// Logs every type, as `-v` does.
    pub fn verbose(&mut self) {
        self.types = Some(ALL);
    }

    pub fn add_dest(&mut self, dest: LogDest) {
        self.dest.push(dest);
    }

    /// Replaces every destination with one (the app sends all lines to its sink).
    pub fn set_dest(&mut self, dest: LogDest) {
        self.dest = vec![dest];
    }
}

enum Output {
    Stdout,
    Stderr,
    File(Mutex<std::fs::File>),
    Sink(LogSink),
}

/// The broker's logger, built once from [`LogConfig`].
pub struct Logger {
    types: u32,
    outputs: Vec<Output>,
    timestamp: bool,
    timestamp_format: Option<TimestampFormat>,
    pub connection_messages: bool,
}

impl Logger {
    /// Opens the log files; an unwritable file is an error at startup, not a silent loss.
    pub fn new(config: &LogConfig) -> std::io::Result<Self> {
        let mut outputs = Vec::new();
        let dests = if config.dest.is_empty() { &[LogDest::Stderr][..] } else { &config.dest };
        for dest in dests {
            match dest {
                LogDest::Stdout => outputs.push(Output::Stdout),
                LogDest::Stderr => outputs.push(Output::Stderr),
                LogDest::File(path) => {
                    let file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| {
                        std::io::Error::new(e.kind(), format!("cannot open log file {}: {e}", path.display()))
                    })?;
                    outputs.push(Output::File(Mutex::new(file)));
                }
                LogDest::Sink(sink) => outputs.push(Output::Sink(sink.clone())),
                LogDest::None => {}
            }
        }
        // `log_dest none` anywhere turns logging off, as in Mosquitto.
        if dests.iter().any(|d| matches!(d, LogDest::None)) {
            outputs.clear();
        }
        Ok(Self {
            types: config.types.unwrap_or(DEFAULT_TYPES),
            outputs,
            timestamp: config.timestamp,
            timestamp_format: config.timestamp_format.clone(),
            connection_messages: config.connection_messages,
        })
    }

    /// A logger that drops everything.
    pub fn silent() -> Self {
        Self { types: 0, outputs: Vec::new(), timestamp: false, timestamp_format: None, connection_messages: false }
    }

    pub fn enabled(&self, t: LogType) -> bool {
        self.types & t as u32 != 0 && !self.outputs.is_empty()
    }

    pub fn log(&self, t: LogType, message: fmt::Arguments<'_>) {
        if !self.enabled(t) {
            return;
        }
        let line = if let (true, Some(format)) = (self.timestamp, &self.timestamp_format) {
            format!("{}: {message}", format.format(chrono::Local::now()))
        } else if self.timestamp {
            let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            format!("{secs}: {message}")
        } else {
            message.to_string()
        };
        for out in &self.outputs {
            // A full disk or a closed terminal must not stop the broker: log writes are best effort.
            match out {
                Output::Stdout => drop(writeln!(std::io::stdout(), "{line}")),
                Output::Stderr => drop(writeln!(std::io::stderr(), "{line}")),
                Output::File(f) => {
                    if let Ok(mut f) = f.lock() {
                        drop(writeln!(f, "{line}"));
                    }
                }
                Output::Sink(sink) => (sink.0)(t, &line),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_type_filters_and_sink_receives_timestamped_lines() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = lines.clone();
        let mut config = LogConfig::default();
        config.add_type(LogType::parse("subscribe").unwrap());
        config.set_dest(LogDest::Sink(LogSink(Arc::new(move |_, l: &str| seen.lock().unwrap().push(l.to_owned())))));
        let logger = Logger::new(&config).unwrap();
        logger.log(LogType::Subscribe, format_args!("c1 1 PV/#"));
        logger.log(LogType::Notice, format_args!("not selected"));
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1);
        let (ts, msg) = lines[0].split_once(": ").unwrap();
        assert!(ts.parse::<u64>().is_ok(), "{ts}");
        assert_eq!(msg, "c1 1 PV/#");
    }

    #[test]
    fn timestamp_format_follows_strftime_and_keeps_unknown_conversions() {
        use chrono::TimeZone as _;
        let at = chrono::Local.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).single().unwrap();
        let format = TimestampFormat::parse("%Y-%m-%dT%H:%M:%S").unwrap();
        assert_eq!(format.format(at), "2026-03-04T05:06:07");
        // glibc prints %Q as written; so must we, and %s is the epoch as in strftime.
        let odd = TimestampFormat::parse("%s %Q [x]").unwrap();
        assert_eq!(odd.format(at), format!("{} %Q [x]", at.timestamp()));
        assert!(TimestampFormat::parse("").is_err());
    }

    #[test]
    fn unsupported_destinations_are_named() {
        assert!(LogDest::parse("syslog").unwrap_err().contains("syslog"));
        assert!(LogDest::parse("file").is_err());
        assert!(matches!(LogDest::parse("file /tmp/x.log"), Ok(LogDest::File(_))));
    }
}
