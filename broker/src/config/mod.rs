//! Broker configuration in mosquitto.conf syntax.
//!
//! [`Config::default`] is Mosquitto 2.0 with no config file: one listener on 127.0.0.1:1883
//! that accepts anonymous clients. [`Config::parse`] reads a file's text; options of Mosquitto
//! that we do not implement are refused with the option and line named.

pub mod bridge;
#[cfg(test)]
mod bridge_tests;
mod bridge_words;
mod options;
mod parse;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

pub use parse::ConfigError;

use crate::log::LogConfig;

/// The lowest TLS version a listener accepts (`tls_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

/// What clients speak on a listener (`protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListenerProtocol {
    #[default]
    Mqtt,
    /// MQTT over WebSocket: ws://, or wss:// with `certfile`/`keyfile`, or over TLS-PSK.
    WebSockets,
}

/// Mosquitto's `websockets_headers_size` when unset or 0 (mosquitto.conf(5)).
pub const DEFAULT_WEBSOCKETS_HEADERS_SIZE: usize = 1024;

/// One `listener PORT [ADDRESS]` (or the default listener set by `port` / `bind_address`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListenerConfig {
    pub port: u16,
    /// `None` listens on every interface, as Mosquitto does for a listener with no address.
    pub bind_address: Option<String>,
    /// `None` is unlimited (`max_connections -1`).
    pub max_connections: Option<usize>,
    /// Turns on TLS-PSK for this listener (OpenSSL); the hint TLS 1.2 clients receive.
    pub psk_hint: Option<String>,
    /// The PSK identity or the client certificate's common name is the user name, and the
    /// MQTT password is not checked: the transport has authenticated the client.
    pub use_identity_as_username: bool,
    /// CA certificates that client certificates must chain to.
    pub cafile: Option<PathBuf>,
    /// Server certificate chain and key (PEM): together they turn on certificate TLS.
    pub certfile: Option<PathBuf>,
    pub keyfile: Option<PathBuf>,
    pub require_certificate: bool,
    pub tls_version: Option<TlsVersion>,
    /// OpenSSL cipher list for TLS 1.2 on a PSK listener.
    pub ciphers: Option<String>,
    /// `ciphers_tls1.3`: the TLS 1.3 suites offered, by their IANA (OpenSSL) names separated by
    /// colons; `None` offers every one the TLS library has.
    pub ciphers_tls13: Option<String>,
    pub protocol: ListenerProtocol,
    /// Files served to plain HTTP GETs on a WebSocket listener, as Mosquitto does.
    pub http_dir: Option<PathBuf>,
    /// Put in front of every topic this listener's clients name and taken off what they are
    /// sent (Mosquitto's `mount_point`, joined as a raw string): a tree of their own.
    pub mount_point: Option<String>,
    /// `use_username_as_clientid`: the client id is the user name (so a user holds one
    /// session at a time); a client without a user name is refused.
    pub use_username_as_clientid: bool,
    /// `use_subject_as_username`: the client certificate's subject (RFC 2253) is the user
    /// name, and the MQTT password is not checked.
    pub use_subject_as_username: bool,
    /// A directory of CA certificates (PEM files), besides or instead of `cafile`.
    pub capath: Option<PathBuf>,
    /// Certificate revocation lists (PEM): a revoked client certificate is refused.
    pub crlfile: Option<PathBuf>,
    /// Read and checked for Mosquitto's sake: rustls has no DHE suites, ECDHE is used.
    pub dhparamfile: Option<PathBuf>,
    /// `socket_domain`: bind only IPv4 or only IPv6 addresses of a listener without an address.
    pub socket_domain: Option<SocketDomain>,
    /// `bind_interface`: the listener only takes connections arriving on this network
    /// interface (Linux `SO_BINDTODEVICE`).
    pub bind_interface: Option<String>,
    /// With `per_listener_settings true`: this listener's own authentication and ACL options.
    pub security: Option<Box<ListenerSecurity>>,
}

/// `socket_domain`: which address family a listener binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketDomain {
    Ipv4,
    Ipv6,
}

/// The options that `per_listener_settings true` makes a listener's own (mosquitto.conf(5)):
/// who may connect and what they may do, each listener with its own files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerSecurity {
    /// `None`: Mosquitto 2.0's default, false (true only with no listener configured).
    pub allow_anonymous: Option<bool>,
    pub allow_zero_length_clientid: bool,
    pub auto_id_prefix: String,
    pub password_file: Option<PathBuf>,
    pub acl_file: Option<PathBuf>,
    pub psk_file: Option<PathBuf>,
}

impl Default for ListenerSecurity {
    fn default() -> Self {
        Self {
            allow_anonymous: None,
            allow_zero_length_clientid: true,
            auto_id_prefix: "auto-".into(),
            password_file: None,
            acl_file: None,
            psk_file: None,
        }
    }
}

impl ListenerConfig {
    /// A plain listener on a port.
    pub fn on_port(port: u16, bind_address: Option<&str>) -> Self {
        Self { port, bind_address: bind_address.map(str::to_owned), ..Self::default() }
    }

    /// Whether clients on this listener speak TLS.
    pub fn is_tls(&self) -> bool {
        self.psk_hint.is_some() || self.certfile.is_some()
    }
}

impl ListenerConfig {
    /// The address to bind, every interface when none is given (IPv6's with `socket_domain
    /// ipv6`). `Broker::bind` binds exactly as Mosquitto does (one family, an interface).
    pub fn bind_addr(&self) -> String {
        match self.bind_address.as_deref() {
            None if self.socket_domain == Some(SocketDomain::Ipv6) => format!("[::]:{}", self.port),
            None => format!("0.0.0.0:{}", self.port),
            Some(host) if host.contains(':') => format!("[{host}]:{}", self.port),
            Some(host) => format!("{host}:{}", self.port),
        }
    }
}

/// Which CONNACK codes refusals get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnackCodes {
    /// 5 (not authorised) for every refusal of a client id, user or password, as Mosquitto.
    #[default]
    Mosquitto,
    /// MQTT 3.1.1's codes: 2 for a client id, 4 for a user name or password.
    Precise,
}

/// Everything the broker reads from mosquitto.conf.
#[derive(Debug, Clone)]
pub struct Config {
    pub listeners: Vec<ListenerConfig>,
    /// `None`: Mosquitto 2.0's default, true with no listener configured, false otherwise.
    pub allow_anonymous: Option<bool>,
    pub allow_zero_length_clientid: bool,
    pub auto_id_prefix: String,
    /// QoS 1/2 messages in flight to one client at a time; 0 means no limit. 100, not
    /// Mosquitto's 20: a window of 20 caps a subscriber at 20 messages per round trip
    /// (docs/PERFORMANCE.md); 100 is rumqttd's and rumqttc's value.
    pub max_inflight_messages: usize,
    /// QoS 1/2 messages queued for one client beyond those in flight; 0 means no limit.
    pub max_queued_messages: usize,
    /// Largest packet accepted from a client, in bytes; 0 means the protocol's maximum.
    pub max_packet_size: usize,
    /// Largest PUBLISH payload accepted, in bytes; 0 means no limit.
    pub message_size_limit: usize,
    /// MQTT 3.1.1 clients asking for a longer keepalive are refused (3.1.1 cannot tell them
    /// otherwise); MQTT 5.0 clients are told this one as the Server Keep Alive.
    pub max_keepalive: u16,
    /// Topic aliases an MQTT 5.0 client may use toward the broker (Topic Alias Maximum in
    /// CONNACK); Mosquitto's default, 10.
    pub max_topic_alias: u16,
    /// The highest QoS the broker accepts; below 2 it is told to MQTT 5.0 clients (Maximum QoS).
    pub max_qos: crate::codec::QoS,
    /// Seconds between `$SYS` updates; 0 turns them off.
    pub sys_interval: u64,
    pub retain_available: bool,
    /// `persistent_client_expiration`: a session ends if its client has not come back within
    /// this time, 3.1.1 persistent sessions included (`None`: as long as the client asked).
    pub persistent_client_expiration: Option<Duration>,
    /// Queue QoS 0 messages for offline persistent sessions too.
    pub queue_qos0_messages: bool,
    /// `upgrade_outgoing_qos`: deliver at the subscription's QoS even when the message was
    /// published at a lower one (not in the MQTT spec; Mosquitto offers it for devices that
    /// need every message acknowledged).
    pub upgrade_outgoing_qos: bool,
    /// `max_inflight_bytes`: QoS 1/2 payload bytes in flight to one client; a message goes out
    /// while fewer are in flight (so one larger message still goes, alone). 0: no limit.
    pub max_inflight_bytes: usize,
    /// `max_queued_bytes`: payload bytes queued for one client beyond those in flight; with
    /// `max_queued_messages`, whichever limit is reached first. 0: no limit.
    pub max_queued_bytes: usize,
    /// `check_retain_source`: a retained message is sent to a new subscriber only while its
    /// publisher may still publish to its topic (ACL). Mosquitto 2.0.11 behaves as false when
    /// the option is absent, although mosquitto.conf(5) calls true the default.
    pub check_retain_source: bool,
    /// `memory_limit`: the most payload bytes the broker holds (queued, in flight, retained); a
    /// PUBLISH that would go over it is dropped and its client disconnected. 0: no limit.
    pub memory_limit: usize,
    /// True by default (Mosquitto: false): the broker writes a client's whole outbox at once,
    /// so Nagle's algorithm has nothing to merge and only delays; with it on, the first
    /// messages of a connection waited up to 25 ms for a delayed ACK (docs/PERFORMANCE.md).
    pub set_tcp_nodelay: bool,
    pub pid_file: Option<PathBuf>,
    /// `user NAME`: the `mqtt-lab-broker` binary started as root runs as this user once the
    /// config is read (as Mosquitto 2.0.11: before opening log files, the store and listeners);
    /// an embedding app's broker ignores it. `None`, unlike Mosquitto's default `mosquitto`,
    /// keeps the current user: tests and embedded use run as root.
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub acl_file: Option<PathBuf>,
    /// `identity:hexkey` lines for TLS-PSK listeners.
    pub psk_file: Option<PathBuf>,
    pub persistence: bool,
    /// The directory of the database; the current directory when not set, as Mosquitto.
    pub persistence_location: Option<PathBuf>,
    /// The database's file name in that directory.
    pub persistence_file: String,
    /// Only client ids starting with this may connect.
    pub clientid_prefixes: Option<String>,
    /// Not a Mosquitto option: `connack_codes precise` selects MQTT 3.1.1's refusal codes.
    pub connack_codes: ConnackCodes,
    /// Not a Mosquitto option: `assign_topic_aliases true` lets the broker name topics by
    /// aliases toward MQTT 5 clients whose Topic Alias Maximum allows them. Off by default, as
    /// Mosquitto never assigns them: clients that declare a maximum do not all honour it
    /// (paho-mqtt 2.1 hands the application an empty topic; libmosquitto 2.0.11, so
    /// mosquitto_sub, closes with a protocol error).
    pub assign_topic_aliases: bool,
    /// The most bytes of HTTP request headers a WebSocket client may send (global, as in
    /// Mosquitto): the handshake's buffer is bounded by it.
    pub websockets_headers_size: usize,
    /// Read for Mosquitto's sake (a libwebsockets bit mask); WebSocket log lines follow
    /// `log_type websockets`.
    pub websockets_log_level: u32,
    pub log: LogConfig,
    /// Lines the broker logs once at startup about options that were read but have nothing to
    /// do here (e.g. `autosave_interval`), so that a user sees why they change nothing.
    pub startup_notes: Vec<String>,
    /// `connection` sections: bridges to other brokers.
    pub bridges: Vec<bridge::BridgeConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listeners: Vec::new(),
            allow_anonymous: None,
            allow_zero_length_clientid: true,
            auto_id_prefix: "auto-".into(),
            max_inflight_messages: 100,
            max_queued_messages: 1000,
            max_packet_size: 0,
            message_size_limit: 0,
            max_keepalive: 65535,
            max_topic_alias: 10,
            max_qos: crate::codec::QoS::ExactlyOnce,
            sys_interval: 10,
            retain_available: true,
            persistent_client_expiration: None,
            queue_qos0_messages: false,
            upgrade_outgoing_qos: false,
            max_inflight_bytes: 0,
            max_queued_bytes: 0,
            check_retain_source: false,
            memory_limit: 0,
            set_tcp_nodelay: true,
            pid_file: None,
            user: None,
            password_file: None,
            acl_file: None,
            psk_file: None,
            persistence: false,
            persistence_location: None,
            persistence_file: DEFAULT_PERSISTENCE_FILE.into(),
            clientid_prefixes: None,
            connack_codes: ConnackCodes::Mosquitto,
            assign_topic_aliases: false,
            websockets_headers_size: DEFAULT_WEBSOCKETS_HEADERS_SIZE,
            websockets_log_level: 0,
            log: LogConfig::default(),
            startup_notes: Vec::new(),
            bridges: Vec::new(),
        }
    }
}

/// Not Mosquitto's `mosquitto.db`: its format is Mosquitto's own, and a broker pointed at
/// Mosquitto's directory must not overwrite it.
pub const DEFAULT_PERSISTENCE_FILE: &str = "mqtt-lab-broker.db";

impl Config {
    /// The database file when `persistence true`.
    pub fn persistence_path(&self) -> Option<PathBuf> {
        self.persistence.then(|| {
            self.persistence_location.clone().unwrap_or_else(|| PathBuf::from(".")).join(&self.persistence_file)
        })
    }

    /// The listeners to open: those configured, or Mosquitto 2.0's local-only default.
    pub fn effective_listeners(&self) -> Vec<ListenerConfig> {
        if self.listeners.is_empty() {
            vec![ListenerConfig::on_port(1883, Some("127.0.0.1"))]
        } else {
            self.listeners.clone()
        }
    }

    /// Whether clients without a user name may connect.
    pub fn anonymous_allowed(&self) -> bool {
        self.allow_anonymous.unwrap_or(self.listeners.is_empty())
    }

    /// The packet size limit the decoder enforces.
    pub fn packet_size_limit(&self) -> usize {
        match self.max_packet_size {
            0 => crate::codec::MAX_REMAINING_LENGTH + 5,
            n => n,
        }
    }
}
