//! One connection to a broker: the UI's contract (`Command` in, `Event` out) and the worker
//! that carries it out on the tokio runtime.
//!
//! - `transport`: resolve, dial, TLS or TLS-PSK handshake, each with a deadline and errors in words.
//! - `websocket`: MQTT over WebSocket: the HTTP upgrade, then frames read and written as MQTT bytes.
//! - `relay`: the local endpoint rumqttc connects to; it dials the broker and taps every byte.
//! - `worker`: drives rumqttc, turns its events into ours, reports failures in words.
//! - `reconnect`: backoff, the offline queue and the subscriptions to renew (pure state).
//! - `connack`: CONNACK return codes explained for students; `reason`: MQTT 5 reason codes.
//! - `granted`: what an MQTT 5 CONNACK told the client.
//! - `keylog`: `SSLKEYLOGFILE`, the TLS secrets for Wireshark (rustls's side of the shared writer).
//!
//! No rumqttc type crosses this module's boundary.

mod connack;
mod disconnect;
mod granted;
pub mod keylog;
mod psk;
pub mod reason;
mod reconnect;
mod relay;
mod tls;
pub mod transport;
pub mod websocket;
mod worker;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::mpsc as async_mpsc;

pub use connack::explain_connack;
pub use granted::Granted;
pub use relay::Direction;
pub use transport::Session;

use crate::mqtt::PublishProperties;
pub use crate::mqtt::{ConnectV5, MqttVersion, Outgoing, Qos, SubOptions};

/// What a connection needs to know to connect.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectSettings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub clean_session: bool,
    pub keep_alive: Duration,
    pub connect_timeout: Duration,
    pub username: Option<String>,
    pub password: Option<String>,
    pub will: Option<Will>,
    /// 3.1 (protocol "MQIsdp", level 3), 3.1.1 or 5.
    pub version: MqttVersion,
    /// What an MQTT 5 CONNECT asks for; unused for 3.1 and 3.1.1.
    pub v5: ConnectV5,
    pub security: Security,
    pub tls_version: TlsVersion,
    /// MQTT over WebSocket (ws://, or wss:// with any `security`): the upgrade's request path,
    /// such as "/mqtt". `None`: MQTT straight over TCP.
    pub websocket: Option<String>,
    /// Reconnect with backoff after a connection that worked is lost.
    pub auto_reconnect: bool,
}

/// Which TLS versions a secured connection may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub enum TlsVersion {
    /// TLS 1.2 or 1.3, as the broker prefers (1.3 when both can).
    #[default]
    #[serde(rename = "any")]
    Any,
    /// TLS 1.2 only, as an ESP32 with mbedTLS connects.
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

impl TlsVersion {
    pub const ALL: [Self; 3] = [Self::Any, Self::V1_2, Self::V1_3];

    pub const fn label(self) -> &'static str {
        match self {
            Self::Any => "1.2 or 1.3",
            Self::V1_2 => "1.2 only",
            Self::V1_3 => "1.3 only",
        }
    }
}

/// How the relay protects the connection to the broker.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Security {
    #[default]
    Plain,
    /// TLS-PSK: the identity and the key's bytes.
    Psk { identity: String, key: Vec<u8> },
    /// Certificate TLS.
    Tls(Tls),
}

/// Certificate TLS settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tls {
    /// A CA certificate file (PEM); `None`: the system's trusted roots.
    pub ca_file: Option<String>,
    /// A client certificate and its key (PEM).
    pub client_cert: Option<(String, String)>,
    /// Accept any certificate (the unsafe "do not verify" switch).
    pub insecure: bool,
}

// The key is a secret: Debug names the identity only.
impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Plain => f.write_str("Plain"),
            Self::Psk { identity, .. } => write!(f, "Psk {{ identity: {identity:?}, key: <REDACTED> }}"),
            Self::Tls(tls) => write!(f, "{tls:?}"),
        }
    }
}

// Hand-written so that the password never reaches a log line through `{:?}`.
impl std::fmt::Debug for ConnectSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<REDACTED>"))
            .field("security", &self.security)
            .field("websocket", &self.websocket)
            .finish_non_exhaustive()
    }
}

/// The last will the broker publishes if this connection ends without DISCONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    pub topic: String,
    pub payload: Bytes,
    pub qos: Qos,
    pub retain: bool,
    /// MQTT 5: the will message's properties (expiry, content type, response topic, ...).
    pub properties: PublishProperties,
    /// MQTT 5 Will Delay Interval in seconds (0: at once).
    pub delay_secs: u32,
}

/// What the UI asks of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `options` are MQTT 5's; a 3.1.1 connection sends the filter and QoS only.
    Subscribe {
        filter: String,
        qos: Qos,
        options: SubOptions,
    },
    Unsubscribe {
        filter: String,
    },
    Publish(Outgoing),
    Disconnect,
}

/// The state of a connection as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionStatus {
    Disconnected,
    Connecting,
    Connected {
        session_present: bool,
        /// TLS or TLS-PSK version and cipher; None for plain TCP.
        session: Option<Session>,
        /// What an MQTT 5 CONNACK said; None for 3.1 and 3.1.1.
        granted: Option<Box<Granted>>,
    },
    /// A connection that worked was lost; the next attempt starts after `retry_in`.
    Reconnecting {
        attempt: u32,
        retry_in: Duration,
        reason: String,
        /// QoS 1/2 messages held until the connection is back.
        queued: usize,
    },
    /// Ended by an error, in words.
    Failed(String),
}

/// A message received on a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub topic: String,
    pub payload: Bytes,
    pub qos: Qos,
    pub retain: bool,
    pub dup: bool,
    pub at: SystemTime,
    /// MQTT 5 properties as received (empty for 3.1.1).
    pub properties: crate::mqtt::PublishProperties,
}

/// Bytes seen by the relay, for the packet inspector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tap {
    pub direction: Direction,
    pub at: SystemTime,
    pub bytes: Bytes,
}

/// What a connection tells the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Status(ConnectionStatus),
    Message(ReceivedMessage),
    /// Granted QoS per filter, or why the broker refused it, in the order subscribed.
    Subscribed {
        filter: String,
        granted: Result<Qos, Refusal>,
    },
    /// A PUBACK or PUBREC whose reason code is not plain success: an error (>= 0x80) or
    /// 0x10 (no matching subscribers). MQTT 5 only.
    PublishAcked {
        topic: String,
        qos: Qos,
        code: u8,
        /// The broker's Reason String, if it sent one.
        reason: Option<String>,
        /// The code in words.
        text: String,
    },
    Unsubscribed {
        filter: String,
    },
    Published {
        topic: String,
        qos: Qos,
    },
    Tap(Tap),
    /// A line for the log tab, in plain language.
    Log(String),
}

/// Why a broker refused something (a subscription): its reason code, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 0x80 for MQTT 3.1.1's only failure; an MQTT 5 reason code >= 0x80.
    pub code: u8,
    /// The broker's Reason String, if it sent one.
    pub reason: Option<String>,
    pub text: String,
}

/// Called after each event is sent, so the UI repaints (egui's `request_repaint`).
pub type Repaint = Arc<dyn Fn() + Send + Sync>;

/// The sending half the worker uses; wakes the UI for each event.
#[derive(Clone)]
pub(crate) struct EventSink {
    tx: mpsc::Sender<Event>,
    repaint: Repaint,
}

impl EventSink {
    pub(crate) fn send(&self, event: Event) {
        // The UI may have closed this connection already; then nobody needs the event.
        let _ = self.tx.send(event);
        (self.repaint)();
    }
}

/// The UI's handle on one connection: commands go in without blocking, events come out.
pub struct Connection {
    commands: async_mpsc::UnboundedSender<Command>,
    events: mpsc::Receiver<Event>,
}

impl Connection {
    /// Starts the worker on `runtime`. Never blocks: connecting happens in the worker.
    pub fn open(runtime: &tokio::runtime::Handle, settings: ConnectSettings, repaint: Repaint) -> Self {
        let (commands, command_rx) = async_mpsc::unbounded_channel();
        let (tx, events) = mpsc::channel();
        let sink = EventSink { tx, repaint };
        runtime.spawn(worker::run(settings, command_rx, sink));
        Self { commands, events }
    }

    /// Queues a command; false when the worker has ended.
    pub fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok()
    }

    /// The next event, if one is waiting.
    pub fn try_event(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Disconnect);
    }
}
