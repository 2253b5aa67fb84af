//! The mosquitto.conf parser: one option per line, `#` comments, `include_dir`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod logging;
mod security;

use super::bridge::{BridgeSection, is_bridge_option};
use super::options::{DEPRECATED_NO_EFFECT, is_mosquitto_option, planned_for};
use super::{Config, ConnackCodes, ListenerConfig, ListenerProtocol, SocketDomain, TlsVersion};

/// Logged once however many autosave options a config has.
const AUTOSAVE_NOTE: &str = "autosave_interval and autosave_on_changes have nothing to do here: this broker's store commits every change before acknowledging it.";

/// A configuration error, with the file and line it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the error concerns the whole file.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{} line {}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads a config file and the files of its `include_dir` lines.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        let mut parser = Parser::new(&mut config);
        parser.file(path)?;
        parser.finish(path)?;
        Ok(config)
    }

    /// Parses config text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        let mut parser = Parser::new(&mut config);
        parser.text(text, origin)?;
        parser.finish(origin)?;
        Ok(config)
    }
}

struct Parser<'c> {
    config: &'c mut Config,
    /// Reading a file named by `include_dir`: there, `include_dir` is refused, as Mosquitto
    /// refuses it (a directory including itself would recurse without end).
    included: bool,
    /// Listener options before the first `listener` line belong to the default listener.
    in_default_listener: bool,
    /// `connection` sections, checked as each ends.
    bridges: BridgeSection,
    /// Where the authentication options go (`per_listener_settings`).
    security: security::SecurityState,
}

/// An error at one line, before the file is known.
type LineResult = Result<(), String>;

impl<'c> Parser<'c> {
    fn new(config: &'c mut Config) -> Self {
        Parser {
            config,
            included: false,
            in_default_listener: true,
            bridges: BridgeSection::default(),
            security: security::SecurityState::default(),
        }
    }

    /// Checks the last bridge section and hands the bridges over.
    fn finish(&mut self, origin: &Path) -> Result<(), ConfigError> {
        self.bridges.check_last().map_err(|message| ConfigError { file: origin.to_owned(), line: 0, message })?;
        self.config.bridges = std::mem::take(&mut self.bridges.bridges);
        self.config.startup_notes.append(&mut self.bridges.notes);
        self.finish_security();
        Ok(())
    }

    fn file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_owned(),
            line: 0,
            message: format!("cannot read the config file: {e}"),
        })?;
        self.text(&text, path)
    }

    fn text(&mut self, text: &str, origin: &Path) -> Result<(), ConfigError> {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |message: String| ConfigError { file: origin.to_owned(), line: i + 1, message };
            let (option, value) = line.split_once(char::is_whitespace).map_or((line, ""), |(o, v)| (o, v.trim()));
            if option == "include_dir" {
                self.include_dir(value, origin).map_err(at)?;
                continue;
            }
            self.option(option, value).map_err(at)?;
        }
        Ok(())
    }

    fn include_dir(&mut self, dir: &str, origin: &Path) -> LineResult {
        if dir.is_empty() {
            return Err("include_dir needs a directory".into());
        }
        if self.included {
            return Err("include_dir is only allowed in the main config file, not in an included one".into());
        }
        let entries = std::fs::read_dir(dir).map_err(|e| format!("include_dir {dir}: {e}"))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        // Mosquitto reads them in alphabetical order.
        files.sort();
        self.included = true;
        let read = files.iter().try_for_each(|file| {
            self.file(file).map_err(|e| {
                if e.line == 0 { format!("{e} (included from {})", origin.display()) } else { e.to_string() }
            })
        });
        self.included = false;
        read
    }

    fn listener(&mut self) -> &mut ListenerConfig {
        if self.config.listeners.is_empty() {
            self.config.listeners.push(ListenerConfig::on_port(1883, None));
            self.security.default_listener = true;
        }
        let last = self.config.listeners.len() - 1;
        &mut self.config.listeners[last]
    }

    /// Options that configure the listener being defined. `Ok(false)`: not a listener option.
    fn listener_option(&mut self, option: &str, value: &str) -> Result<bool, String> {
        match option {
            "max_connections" => {
                let n: i64 = number(option, value)?;
                self.listener().max_connections = usize::try_from(n).ok();
            }
            "psk_hint" => {
                if value.is_empty() {
                    return Err("psk_hint needs a hint text".into());
                }
                self.listener().psk_hint = Some(value.to_owned());
            }
            "use_identity_as_username" => self.listener().use_identity_as_username = boolean(option, value)?,
            "use_subject_as_username" => self.listener().use_subject_as_username = boolean(option, value)?,
            "use_username_as_clientid" => self.listener().use_username_as_clientid = boolean(option, value)?,
            "capath" => self.listener().capath = Some(PathBuf::from(path(option, value)?)),
            "crlfile" => self.listener().crlfile = Some(PathBuf::from(path(option, value)?)),
            "dhparamfile" => self.listener().dhparamfile = Some(PathBuf::from(path(option, value)?)),
            "socket_domain" => {
                self.listener().socket_domain = Some(match value {
                    "ipv4" => SocketDomain::Ipv4,
                    "ipv6" => SocketDomain::Ipv6,
                    _ => return Err(format!("socket_domain must be ipv4 or ipv6, got {value:?}")),
                });
            }
            "bind_interface" => {
                one_word(option, value)?;
                self.listener().bind_interface = Some(value.to_owned());
            }
            "cafile" => self.listener().cafile = Some(PathBuf::from(path(option, value)?)),
            "certfile" => self.listener().certfile = Some(PathBuf::from(path(option, value)?)),
            "keyfile" => self.listener().keyfile = Some(PathBuf::from(path(option, value)?)),
            "require_certificate" => self.listener().require_certificate = boolean(option, value)?,
            "ciphers" => self.listener().ciphers = Some(value.to_owned()),
            "ciphers_tls1.3" => self.listener().ciphers_tls13 = Some(value.to_owned()),
            // Mosquitto reads any word but `engine` as pem, the only form there is here.
            "tls_keyform" if value != "engine" => {}
            "protocol" => {
                self.listener().protocol = match value {
                    "mqtt" => ListenerProtocol::Mqtt,
                    "websockets" => ListenerProtocol::WebSockets,
                    _ => return Err(format!("protocol must be mqtt or websockets, got {value:?}")),
                };
            }
            "mount_point" => {
                if self.in_default_listener {
                    // As Mosquitto 2.0.11: the default listener (`port`) takes no mount point.
                    return Err("mount_point must follow a \"listener\" line".into());
                }
                if value.is_empty() || value.contains(['+', '#', '\0']) {
                    return Err(format!("mount_point must be a topic without wildcards, got {value:?}"));
                }
                self.listener().mount_point = Some(value.to_owned());
            }
            "http_dir" => self.listener().http_dir = Some(PathBuf::from(path(option, value)?)),
            "tls_version" => {
                self.listener().tls_version = Some(match value {
                    "tlsv1.2" => TlsVersion::Tls12,
                    "tlsv1.3" => TlsVersion::Tls13,
                    "tlsv1.1" => {
                        return Err("tls_version tlsv1.1 is not supported: TLS 1.1 is obsolete; use tlsv1.2".into());
                    }
                    _ => return Err(format!("tls_version must be tlsv1.2 or tlsv1.3, got {value:?}")),
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn option(&mut self, option: &str, value: &str) -> LineResult {
        if option == "connection" {
            return self.bridges.connection(value);
        }
        if is_bridge_option(option) {
            return self.bridges.option(option, value);
        }
        if self.listener_option(option, value)?
            || self.security_option(option, value)?
            || self.log_option(option, value)?
            || limit_option(self.config, option, value)?
        {
            return Ok(());
        }
        let c = &mut *self.config;
        match option {
            "listener" => {
                let mut parts = value.split_whitespace();
                let port = number(option, parts.next().unwrap_or(""))?;
                let bind_address = parts.next().map(str::to_owned);
                if parts.next().is_some() {
                    return Err(format!("listener takes a port and an optional address, got {value:?}"));
                }
                self.in_default_listener = false;
                c.listeners.push(ListenerConfig { port, bind_address, ..ListenerConfig::default() });
            }
            "port" => {
                let port = number(option, value)?;
                self.default_listener()?.port = port;
            }
            "bind_address" => {
                one_word(option, value)?;
                self.default_listener()?.bind_address = Some(value.to_owned());
            }
            "psk_file" => c.psk_file = Some(PathBuf::from(path(option, value)?)),
            "allow_anonymous" => c.allow_anonymous = Some(boolean(option, value)?),
            "allow_zero_length_clientid" => c.allow_zero_length_clientid = boolean(option, value)?,
            "auto_id_prefix" => value.clone_into(&mut c.auto_id_prefix),
            "sys_interval" => c.sys_interval = number(option, value)?,
            "set_tcp_nodelay" => c.set_tcp_nodelay = boolean(option, value)?,
            "pid_file" => c.pid_file = Some(PathBuf::from(value)),
            "password_file" => c.password_file = Some(PathBuf::from(path(option, value)?)),
            "acl_file" => c.acl_file = Some(PathBuf::from(path(option, value)?)),
            "clientid_prefixes" => {
                one_word(option, value)?;
                c.clientid_prefixes = Some(value.to_owned());
            }
            "connack_codes" => {
                c.connack_codes = match value {
                    "mosquitto" => ConnackCodes::Mosquitto,
                    "precise" => ConnackCodes::Precise,
                    _ => return Err(format!("connack_codes must be mosquitto or precise, got {value:?}")),
                };
            }
            "user" => {
                one_word(option, value)?;
                c.user = Some(value.to_owned());
            }
            // Mosquitto 2.0.11 refuses it before any auth_plugin, and this broker refuses every
            // auth_plugin line, so no config either broker starts on has it.
            "auth_plugin_deny_special_chars" => {
                boolean(option, value)?;
                return Err(format!(
                    "auth_plugin_deny_special_chars only applies to an auth_plugin, and there is none before it (Mosquitto 2.0 refuses this too); {}",
                    planned_for("auth_plugin")
                ));
            }
            "persistence" => c.persistence = boolean(option, value)?,
            "persistence_location" => c.persistence_location = Some(PathBuf::from(path(option, value)?)),
            "persistence_file" => c.persistence_file = persistence_file(option, value)?,
            // Mosquitto saves every autosave_interval seconds; this broker saves every change
            // before acknowledging it, so there is nothing to schedule. Values are checked as
            // Mosquitto checks them: the interval must be present (Mosquitto reads it with
            // atoi, so any text starts), on_changes must be a boolean.
            "autosave_interval" | "autosave_on_changes" => {
                if option == "autosave_on_changes" {
                    boolean(option, value)?;
                } else if value.is_empty() {
                    return Err("autosave_interval needs a number of seconds".into());
                }
                note_once(&mut c.startup_notes, AUTOSAVE_NOTE);
            }
            _ if DEPRECATED_NO_EFFECT.contains(&option) => {}
            _ if is_mosquitto_option(option) => {
                return Err(format!(
                    "option \"{option}\" is a Mosquitto 2.0 option that this broker does not support: {}",
                    planned_for(option)
                ));
            }
            _ => return Err(format!("unknown configuration option \"{option}\"")),
        }
        Ok(())
    }

    /// `port` and `bind_address` configure the default listener, and only before any `listener`.
    fn default_listener(&mut self) -> Result<&mut ListenerConfig, String> {
        if !self.in_default_listener {
            return Err(
                "port and bind_address set the default listener and must come before the first \"listener\" line"
                    .into(),
            );
        }
        Ok(self.listener())
    }
}

/// Adds a startup note unless it is there already.
fn note_once(notes: &mut Vec<String>, note: &str) {
    if !notes.iter().any(|n| n == note) {
        notes.push(note.to_owned());
    }
}

/// A boolean as Mosquitto 2.0.11 reads one: true or false, 1 or 0.
pub(super) fn boolean(option: &str, value: &str) -> Result<bool, String> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("{option} must be true or false, got {value:?}")),
    }
}

pub(super) fn number<T: std::str::FromStr>(option: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("{option} needs a number in range, got {value:?}"))
}

/// `persistent_client_expiration`'s duration as `man mosquitto.conf` gives it: a positive
/// integer and one of h d w m y (hour, day, week, month, year); Mosquitto counts a month as 30
/// days and a year as 365.
fn expiration(option: &str, value: &str) -> Result<Duration, String> {
    let bad = || format!("{option} needs a whole number followed by h, d, w, m or y (e.g. 14d), got {value:?}");
    let unit = match value.chars().last() {
        Some('h') => 3600,
        Some('d') => 86_400,
        Some('w') => 7 * 86_400,
        Some('m') => 30 * 86_400,
        Some('y') => 365 * 86_400,
        _ => return Err(bad()),
    };
    let count: u64 = value[..value.len() - 1].parse().map_err(|_| bad())?;
    if count == 0 {
        return Err(bad());
    }
    count.checked_mul(unit).map(Duration::from_secs).ok_or_else(bad)
}

fn persistence_file(option: &str, value: &str) -> Result<String, String> {
    one_word(option, value)?;
    if value == "mosquitto.db" {
        return Err("persistence_file mosquitto.db is Mosquitto's own format; leave persistence_file out (the default is mqtt-lab-broker.db) or name another file".into());
    }
    Ok(value.to_owned())
}

fn path<'v>(option: &str, value: &'v str) -> Result<&'v str, String> {
    if value.is_empty() {
        return Err(format!("{option} needs a file path"));
    }
    Ok(value)
}

fn one_word(option: &str, value: &str) -> LineResult {
    if value.is_empty() || value.contains(char::is_whitespace) {
        return Err(format!("{option} takes one value, got {value:?}"));
    }
    Ok(())
}

/// The options that bound what clients may do and hold (MQTT 5 among them); false when
/// `option` is not one of them.
fn limit_option(c: &mut Config, option: &str, value: &str) -> Result<bool, String> {
    match option {
        "max_inflight_messages" => c.max_inflight_messages = number(option, value)?,
        "max_queued_messages" => c.max_queued_messages = number(option, value)?,
        "max_packet_size" => c.max_packet_size = number(option, value)?,
        "message_size_limit" => c.message_size_limit = number(option, value)?,
        "max_keepalive" => c.max_keepalive = number(option, value)?,
        "max_topic_alias" => c.max_topic_alias = number(option, value)?,
        "max_qos" => {
            c.max_qos = match value {
                "0" => crate::codec::QoS::AtMostOnce,
                "1" => crate::codec::QoS::AtLeastOnce,
                "2" => crate::codec::QoS::ExactlyOnce,
                _ => return Err(format!("max_qos must be 0, 1 or 2, got {value:?}")),
            };
        }
        "retain_available" => c.retain_available = boolean(option, value)?,
        "persistent_client_expiration" => c.persistent_client_expiration = Some(expiration(option, value)?),
        "queue_qos0_messages" => c.queue_qos0_messages = boolean(option, value)?,
        "upgrade_outgoing_qos" => c.upgrade_outgoing_qos = boolean(option, value)?,
        // Read as Mosquitto 2.0.11 reads them (atoi): text that starts with no number is 0,
        // which is no limit; a negative byte limit is taken as none too.
        "max_inflight_bytes" => c.max_inflight_bytes = usize::try_from(leading_number(value)).unwrap_or(0),
        "max_queued_bytes" => c.max_queued_bytes = usize::try_from(leading_number(value)).unwrap_or(0),
        "check_retain_source" => c.check_retain_source = boolean(option, value)?,
        "memory_limit" => {
            c.memory_limit = usize::try_from(leading_number(value))
                .map_err(|_| format!("memory_limit must not be negative, got {value:?}"))?;
        }
        "assign_topic_aliases" => c.assign_topic_aliases = boolean(option, value)?,
        // Global in Mosquitto too; 0 means its default.
        "websockets_headers_size" => {
            c.websockets_headers_size = match number(option, value)? {
                0 => super::DEFAULT_WEBSOCKETS_HEADERS_SIZE,
                n => n,
            };
        }
        // A libwebsockets bit mask in Mosquitto: read and kept, but this broker's WebSocket
        // lines follow `log_type websockets` alone.
        "websockets_log_level" => c.websockets_log_level = number(option, value)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// The number at the start of `value`, as C's `atol` reads it (Mosquitto reads byte limits so):
/// an optional sign and digits; 0 when there are none, saturating when too long.
fn leading_number(value: &str) -> i64 {
    let (sign, digits) = match value.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, value.strip_prefix('+').unwrap_or(value)),
    };
    digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0_i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')))
        .saturating_mul(sign)
}
