//! The bridge section of mosquitto.conf: `connection NAME` and the options after it, read and
//! checked as Mosquitto 2.0.11 reads and checks them (each refusal below is its refusal, in
//! words that name the option), so that a school's bridge config starts unchanged.

use std::path::PathBuf;

use super::bridge_words::{address, topic};
use super::parse::{boolean, number};
use crate::codec::{Protocol, QoS};

/// Which way a bridged topic's messages go (`topic PATTERN in|out|both`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the remote broker to this one.
    In,
    /// From this broker to the remote one (Mosquitto's default).
    Out,
    Both,
}

impl Direction {
    pub fn goes_out(self) -> bool {
        matches!(self, Self::Out | Self::Both)
    }

    pub fn comes_in(self) -> bool {
        matches!(self, Self::In | Self::Both)
    }
}

/// One `topic` line: the pattern and the prefixes it is seen under on each side. Prefixes are
/// joined as raw strings, no `/` added, as Mosquitto joins them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeTopic {
    /// Empty for `""`, which maps one topic (`local_prefix` to `remote_prefix`).
    pub pattern: String,
    pub direction: Direction,
    pub qos: QoS,
    pub local_prefix: String,
    pub remote_prefix: String,
}

impl BridgeTopic {
    /// The filter this topic is read with on the local broker.
    pub fn local_filter(&self) -> String {
        format!("{}{}", self.local_prefix, self.pattern)
    }

    /// The filter this topic is read with on the remote broker.
    pub fn remote_filter(&self) -> String {
        format!("{}{}", self.remote_prefix, self.pattern)
    }
}

/// When the bridge connects (`start_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartType {
    /// At startup, and again `restart_timeout` after every loss.
    #[default]
    Automatic,
    /// Once `threshold` messages wait for the remote; drops the connection after
    /// `idle_timeout` seconds with nothing to send.
    Lazy,
    /// At startup only; never again after a loss.
    Once,
}

/// How long to wait before connecting again (`restart_timeout base [cap]`): one value is a
/// constant delay; two are an exponential backoff from `base` up to `cap`, with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartTimeout {
    pub base: u32,
    pub cap: Option<u32>,
}

/// A password or key from the config: shown as `<redacted>` by `{:?}`, so that printing a
/// config never prints a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that sends it (after the peer proved who it is).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// TLS toward the remote broker: certificates (rustls) or a pre-shared key (OpenSSL).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BridgeTls {
    pub cafile: Option<PathBuf>,
    pub capath: Option<PathBuf>,
    pub certfile: Option<PathBuf>,
    pub keyfile: Option<PathBuf>,
    /// Skips the check that the certificate names the host (`bridge_insecure`).
    pub insecure: bool,
    /// `tlsv1.2` or `tlsv1.3`: the lowest version offered.
    pub version: Option<String>,
    pub alpn: Option<String>,
    /// TLS-PSK: the identity and the key in hex.
    pub identity: Option<String>,
    pub psk: Option<Secret>,
}

impl BridgeTls {
    pub fn uses_certificates(&self) -> bool {
        self.cafile.is_some() || self.capath.is_some()
    }

    pub fn uses_psk(&self) -> bool {
        self.identity.is_some() || self.psk.is_some()
    }
}

/// One `connection NAME` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeConfig {
    pub name: String,
    /// `address host[:port] ...`; tried in turn when one fails.
    pub addresses: Vec<(String, u16)>,
    /// Stay on whichever address works, instead of going back to the first (the default).
    pub round_robin: bool,
    pub topics: Vec<BridgeTopic>,
    /// `bridge_protocol_version`: mqttv31, mqttv311 (the default) or mqttv50.
    pub protocol: Protocol,
    /// The remote session: `cleansession false` (the default) keeps it, and what the remote
    /// holds for us, across connections.
    pub clean_session: bool,
    /// The local session; defaults to `cleansession`.
    pub local_clean_session: Option<bool>,
    pub remote_clientid: Option<String>,
    pub remote_username: Option<String>,
    pub remote_password: Option<Secret>,
    pub local_clientid: Option<String>,
    pub local_username: Option<String>,
    pub local_password: Option<Secret>,
    /// Seconds; at least 5, as Mosquitto.
    pub keepalive: u16,
    pub restart_timeout: RestartTimeout,
    pub idle_timeout: u32,
    pub start_type: StartType,
    /// Messages waiting before a lazy bridge connects.
    pub threshold: u32,
    pub notifications: bool,
    pub notification_topic: Option<String>,
    pub notifications_local_only: bool,
    /// Tell the remote this is a bridge (protocol level | 0x80), so it sends nothing back that
    /// came from us.
    pub try_private: bool,
    pub attempt_unsubscribe: bool,
    pub outgoing_retain: bool,
    /// The largest PUBLISH sent to the remote, in bytes (larger ones are dropped, as Mosquitto
    /// does); 0 for no limit.
    pub max_packet_size: u32,
    pub bind_address: Option<String>,
    pub tls: BridgeTls,
}

impl BridgeConfig {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            addresses: Vec::new(),
            round_robin: false,
            topics: Vec::new(),
            protocol: Protocol::V311,
            clean_session: false,
            local_clean_session: None,
            remote_clientid: None,
            remote_username: None,
            remote_password: None,
            local_clientid: None,
            local_username: None,
            local_password: None,
            keepalive: 60,
            restart_timeout: RestartTimeout { base: 5, cap: Some(30) },
            idle_timeout: 60,
            start_type: StartType::Automatic,
            threshold: 10,
            notifications: true,
            notification_topic: None,
            notifications_local_only: false,
            try_private: true,
            attempt_unsubscribe: true,
            outgoing_retain: true,
            max_packet_size: 0,
            bind_address: None,
            tls: BridgeTls::default(),
        }
    }

    /// Mosquitto's default: `<hostname>.<connection name>`.
    pub fn remote_client_id(&self) -> String {
        self.remote_clientid.clone().unwrap_or_else(|| format!("{}.{}", hostname(), self.name))
    }

    /// Mosquitto's default: `local.<remote client id>`.
    pub fn local_client_id(&self) -> String {
        self.local_clientid.clone().unwrap_or_else(|| format!("local.{}", self.remote_client_id()))
    }

    pub fn local_clean(&self) -> bool {
        self.local_clean_session.unwrap_or(self.clean_session)
    }

    /// Mosquitto's default: `$SYS/broker/connection/<remote client id>/state`.
    pub fn state_topic(&self) -> String {
        self.notification_topic
            .clone()
            .unwrap_or_else(|| format!("$SYS/broker/connection/{}/state", self.remote_client_id()))
    }
}

/// This machine's name, as Mosquitto's default remote client id uses it.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The bridges being read, and notes for the startup log.
#[derive(Debug, Default)]
pub(super) struct BridgeSection {
    pub bridges: Vec<BridgeConfig>,
    pub notes: Vec<String>,
}

/// Options that only mean something after `connection`.
pub(super) fn is_bridge_option(option: &str) -> bool {
    option.starts_with("bridge_")
        || matches!(
            option,
            "address"
                | "addresses"
                | "cleansession"
                | "clientid"
                | "idle_timeout"
                | "keepalive_interval"
                | "local_cleansession"
                | "local_clientid"
                | "local_password"
                | "local_username"
                | "notifications"
                | "notifications_local_only"
                | "notification_topic"
                | "password"
                | "remote_clientid"
                | "remote_password"
                | "remote_username"
                | "restart_timeout"
                | "round_robin"
                | "start_type"
                | "threshold"
                | "topic"
                | "try_private"
                | "username"
        )
}

impl BridgeSection {
    /// `connection NAME`: a new bridge; the options after it are its own.
    pub fn connection(&mut self, value: &str) -> Result<(), String> {
        self.check_last()?;
        let name = value.split_whitespace().next().ok_or("connection needs a bridge name")?;
        if self.bridges.iter().any(|b| b.name == name) {
            return Err(format!("duplicate bridge name {name:?}"));
        }
        self.bridges.push(BridgeConfig::new(name));
        Ok(())
    }

    /// The checks Mosquitto makes when a section ends: the next `connection` or the file's end.
    pub fn check_last(&self) -> Result<(), String> {
        let Some(b) = self.bridges.last() else { return Ok(()) };
        if b.addresses.is_empty() {
            return Err(format!("bridge {}: no remote addresses defined (address host[:port])", b.name));
        }
        if b.topics.is_empty() {
            return Err(format!("bridge {}: no topics defined (topic PATTERN [in|out|both] ...)", b.name));
        }
        let local = b.local_client_id();
        if self.bridges[..self.bridges.len() - 1].iter().any(|other| other.local_client_id() == local) {
            return Err(format!(
                "bridge {}: local_clientid {local:?} is not unique; change or set local_clientid (or remote_clientid) for one of the bridges",
                b.name
            ));
        }
        if b.tls.identity.is_some() != b.tls.psk.is_some() {
            let missing = if b.tls.psk.is_none() { "bridge_psk" } else { "bridge_identity" };
            return Err(format!(
                "bridge {}: TLS-PSK needs both bridge_identity and bridge_psk; {missing} is missing",
                b.name
            ));
        }
        Ok(())
    }

    pub fn option(&mut self, option: &str, value: &str) -> Result<(), String> {
        let Some(b) = self.bridges.last_mut() else {
            return Err(format!("{option} is a bridge option and must follow a \"connection NAME\" line"));
        };
        let name = b.name.clone();
        match option {
            "address" | "addresses" => {
                if !b.addresses.is_empty() {
                    return Err(format!(
                        "bridge {name}: a second address line; name every address on one line (address host1[:port] host2[:port])"
                    ));
                }
                for word in value.split_whitespace() {
                    b.addresses.push(address(word)?);
                }
                if b.addresses.is_empty() {
                    return Err("address needs host[:port]".into());
                }
            }
            "round_robin" => b.round_robin = boolean(option, value)?,
            "topic" => b.topics.push(topic(value)?),
            "bridge_protocol_version" => {
                b.protocol = match value {
                    "mqttv31" => Protocol::V31,
                    "mqttv311" => Protocol::V311,
                    "mqttv50" => Protocol::V5,
                    _ => {
                        return Err(format!(
                            "bridge_protocol_version must be mqttv31, mqttv311 or mqttv50, got {value:?}"
                        ));
                    }
                };
            }
            "cleansession" => b.clean_session = boolean(option, value)?,
            "local_cleansession" => b.local_clean_session = Some(boolean(option, value)?),
            "remote_clientid" | "clientid" => b.remote_clientid = Some(word(option, value)?),
            "remote_username" | "username" => b.remote_username = Some(word(option, value)?),
            "remote_password" | "password" => b.remote_password = Some(Secret(word(option, value)?)),
            "local_clientid" => b.local_clientid = Some(word(option, value)?),
            "local_username" => b.local_username = Some(word(option, value)?),
            "local_password" => b.local_password = Some(Secret(word(option, value)?)),
            "keepalive_interval" => {
                let secs: u32 = number(option, value)?;
                if secs < 5 {
                    self.notes.push(format!("bridge {name}: keepalive interval too low, using 5 seconds."));
                }
                b.keepalive =
                    u16::try_from(secs.max(5)).map_err(|_| format!("keepalive_interval {secs} is above 65535"))?;
            }
            "restart_timeout" | "idle_timeout" => timeout(b, option, value, &mut self.notes)?,
            "start_type" => {
                b.start_type = match value {
                    "automatic" => StartType::Automatic,
                    "lazy" => StartType::Lazy,
                    "once" => StartType::Once,
                    _ => return Err(format!("start_type must be automatic, lazy or once, got {value:?}")),
                };
            }
            "threshold" => {
                let n: u32 = number(option, value)?;
                if n == 0 {
                    self.notes.push(format!("bridge {name}: threshold too low, using 1 message."));
                }
                b.threshold = n.max(1);
            }
            "notifications" => b.notifications = boolean(option, value)?,
            "notifications_local_only" => b.notifications_local_only = boolean(option, value)?,
            "notification_topic" => b.notification_topic = Some(word(option, value)?),
            "try_private" => b.try_private = boolean(option, value)?,
            "bridge_attempt_unsubscribe" => b.attempt_unsubscribe = boolean(option, value)?,
            "bridge_outgoing_retain" => b.outgoing_retain = boolean(option, value)?,
            "bridge_max_packet_size" => b.max_packet_size = number(option, value)?,
            "bridge_bind_address" => b.bind_address = Some(word(option, value)?),
            "bridge_insecure" => {
                b.tls.insecure = boolean(option, value)?;
                if b.tls.insecure {
                    self.notes.push(format!("Warning: Bridge {name} using insecure mode."));
                }
            }
            "bridge_require_ocsp" => {
                if boolean(option, value)? {
                    return Err("bridge_require_ocsp true is not supported: this broker does not check OCSP".into());
                }
            }
            _ => tls_option(b, option, value)?,
        }
        Ok(())
    }
}

/// `restart_timeout base [cap]` and `idle_timeout`: below 1 s raised to 1 s with a note, and a
/// cap below the base refused, as Mosquitto 2.0.11 does.
fn timeout(b: &mut BridgeConfig, option: &str, value: &str, notes: &mut Vec<String>) -> Result<(), String> {
    let name = &b.name;
    if option == "idle_timeout" {
        let secs: u32 = number(option, value)?;
        if secs == 0 {
            notes.push(format!("bridge {name}: idle_timeout interval too low, using 1 second."));
        }
        b.idle_timeout = secs.max(1);
        return Ok(());
    }
    let mut words = value.split_whitespace();
    let base: u32 = number(option, words.next().unwrap_or(""))?;
    let cap: Option<u32> = words.next().map(|w| number(option, w)).transpose()?;
    if cap.is_some_and(|cap| cap < base) {
        return Err(format!("restart_timeout {value:?}: the backoff cap is lower than the base"));
    }
    if base == 0 {
        notes.push(format!("bridge {name}: restart_timeout interval too low, using 1 second."));
    }
    b.restart_timeout = RestartTimeout { base: base.max(1), cap };
    Ok(())
}

fn tls_option(b: &mut BridgeConfig, option: &str, value: &str) -> Result<(), String> {
    let t = &mut b.tls;
    match option {
        "bridge_cafile" => t.cafile = Some(PathBuf::from(word(option, value)?)),
        "bridge_capath" => t.capath = Some(PathBuf::from(word(option, value)?)),
        "bridge_certfile" => t.certfile = Some(PathBuf::from(word(option, value)?)),
        "bridge_keyfile" => t.keyfile = Some(PathBuf::from(word(option, value)?)),
        "bridge_tls_version" => t.version = Some(word(option, value)?),
        "bridge_alpn" => t.alpn = Some(word(option, value)?),
        "bridge_identity" => t.identity = Some(word(option, value)?),
        "bridge_psk" => t.psk = Some(Secret(word(option, value)?)),
        _ => return Err(format!("unknown bridge option \"{option}\"")),
    }
    if t.uses_certificates() && t.uses_psk() {
        return Err(format!("bridge {}: cannot use both certificate and PSK encryption in a single bridge", b.name));
    }
    Ok(())
}

fn word(option: &str, value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("{option} needs a value"));
    }
    Ok(value.to_owned())
}
