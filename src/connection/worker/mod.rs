//! The worker of one connection: starts the relay, drives rumqttc's event loop, carries out
//! commands without blocking on rumqttc's request channel, and turns what happens into events.
//!
//! - `link`: what does not depend on the MQTT version: online or not, backoff, the offline
//!   queue, the subscriptions to renew, closing, and explaining a lost connection.
//! - `v4` (3.1 and 3.1.1) and `v5`: rumqttc's two clients, mapped to and from [`Polled`] and
//!   our contract; no rumqttc type leaves them.
//! - `acks`: which topic a PUBACK's packet id belongs to (rumqttc names sent packets by id only).

mod acks;
mod link;
mod v4;
mod v5;

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use super::relay::Relay;
use super::transport::Target;
use super::{
    Command, ConnectSettings, ConnectionStatus, Event, EventSink, Granted, Outgoing, Qos, ReceivedMessage, SubOptions,
};
use crate::mqtt::MqttVersion;
use link::Link;

/// Requests rumqttc may hold before `try_*` reports the connection as too busy.
const REQUEST_CAPACITY: usize = 1000;

/// The largest packet the app sends or accepts: far above any lab's message, and a bound on
/// what a broker can make it hold. rumqttc's default (10 KB) refused ordinary files and JSON.
pub const MAX_PACKET: usize = 16 * 1024 * 1024;

/// How long a disconnect waits for queued messages and DISCONNECT to reach the broker.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How long rumqttc waits for CONNACK. The relay resolves, dials, runs the handshake and (for
/// WebSocket) the upgrade first, each within `connect_timeout`, and reports its own failures, so
/// this comes after all of them.
fn stall_timeout(settings: &ConnectSettings) -> Duration {
    let steps = if settings.websocket.is_some() { 4 } else { 3 };
    settings.connect_timeout * steps + Duration::from_secs(2)
}

/// A SUBACK's answer for one filter: the granted QoS, or the refusing reason code.
type SubCode = Result<Qos, u8>;

/// What one poll of rumqttc's event loop brought, in our words whatever the version.
enum Polled {
    ConnAck {
        session_present: bool,
        granted: Option<Box<Granted>>,
    },
    Message(ReceivedMessage),
    SubAck {
        codes: Vec<SubCode>,
        reason: Option<String>,
    },
    UnsubAck,
    /// A PUBLISH went out with this packet id (0 for QoS 0).
    Sent(u16),
    /// A PUBLISH waits because its packet id is still in flight (the broker acked out of order).
    Collided(u16),
    /// A PUBACK or PUBREC arrived (MQTT 5: with its reason code).
    Acked {
        pkid: u16,
        code: u8,
        reason: Option<String>,
    },
    /// Our DISCONNECT went out.
    Closed,
    Nothing,
    Lost(Lost),
}

/// Why the connection ended, as rumqttc reported it, in our terms.
enum Lost {
    /// CONNACK refused the connection with this code (3.1.1: 1..=5; MQTT 5: >= 0x80).
    Refused(u8),
    /// No CONNACK within the connection timeout, or a network timeout.
    Timeout,
    /// No PINGRESP to the last PINGREQ.
    NoPingResp,
    /// A packet larger than the app accepts.
    TooLarge(usize),
    /// Bytes that are not a valid packet (rumqttc's words).
    NotMqtt(String),
    /// The broker answered CONNECT with another packet (its debug form).
    NotConnAck(String),
    /// MQTT 5: the broker sent DISCONNECT with this reason code.
    ServerDisconnect { code: u8, reason: Option<String> },
    /// Anything else (rumqttc's words).
    Other(String),
}

/// rumqttc's client for the connection's version: takes commands without blocking.
enum Client {
    V4(v4::Client),
    V5(v5::Client),
}

impl Client {
    fn subscribe(&self, filter: &str, qos: Qos, options: SubOptions) -> Result<(), String> {
        match self {
            Self::V4(c) => c.subscribe(filter, qos),
            Self::V5(c) => c.subscribe(filter, qos, options),
        }
    }

    fn unsubscribe(&self, filter: &str) -> Result<(), String> {
        match self {
            Self::V4(c) => c.unsubscribe(filter),
            Self::V5(c) => c.unsubscribe(filter),
        }
    }

    fn publish(&self, message: &Outgoing) -> Result<(), String> {
        match self {
            Self::V4(c) => c.publish(message),
            Self::V5(c) => c.publish(message),
        }
    }

    fn disconnect(&self) -> Result<(), String> {
        match self {
            Self::V4(c) => c.disconnect(),
            Self::V5(c) => c.disconnect(),
        }
    }
}

/// rumqttc's event loop for the connection's version (one per connection: its size is no cost).
#[allow(clippy::large_enum_variant)]
enum Poller {
    V4(v4::Poller),
    V5(v5::Poller),
}

impl Poller {
    async fn poll(&mut self) -> Polled {
        match self {
            Self::V4(p) => p.poll().await,
            Self::V5(p) => p.poll().await,
        }
    }
}

/// What the event loop should do after an event.
enum Next {
    Poll,
    RetryAfter(Duration),
    Stop,
}

/// Runs one connection until it is closed or fails.
pub(super) async fn run(settings: ConnectSettings, mut commands: UnboundedReceiver<Command>, sink: EventSink) {
    sink.send(Event::Status(ConnectionStatus::Connecting));
    let target = Target::of(&settings);
    let relay = match Relay::start(target, settings.version, sink.clone()) {
        Ok(r) => r,
        Err(e) => {
            sink.send(Event::Status(ConnectionStatus::Failed(format!("Cannot open the local relay: {e}."))));
            return;
        }
    };
    let stall = stall_timeout(&settings);
    let (client, mut poller) = if settings.version == MqttVersion::V5 {
        let (c, p) = v5::open(&settings, &relay.endpoint, stall);
        (Client::V5(c), Poller::V5(p))
    } else {
        let (c, p) = v4::open(&settings, &relay.endpoint, stall);
        (Client::V4(c), Poller::V4(p))
    };
    let mut link = Link::new(client, sink, settings);
    let mut retry_at: Option<Instant> = None;
    loop {
        let next = tokio::select! {
            command = commands.recv(), if link.closing.is_none() => match command.map(|c| link.command(c)) {
                Some(true) => Next::Poll,
                _ => Next::Stop,
            },
            () = tokio::time::sleep_until(link.closing.unwrap_or_else(Instant::now)), if link.closing.is_some() => Next::Stop,
            () = tokio::time::sleep_until(retry_at.unwrap_or_else(Instant::now)), if retry_at.is_some() => {
                retry_at = None;
                link.sink.send(Event::Status(ConnectionStatus::Connecting));
                Next::Poll
            }
            polled = poller.poll(), if retry_at.is_none() => link.polled(polled, &relay.report),
        };
        match next {
            Next::Poll => {}
            Next::RetryAfter(delay) => retry_at = Some(Instant::now() + delay),
            Next::Stop => break,
        }
    }
    // Closing rumqttc's side lets the relay forward what it has read, then end.
    drop(poller);
    relay.finish(CLOSE_GRACE).await;
    if link.closing.is_some() {
        link.sink.send(Event::Status(ConnectionStatus::Disconnected));
    }
}

/// Where rumqttc (either client) connects: the relay's local endpoint as host, port and transport.
fn address(endpoint: &super::relay::Endpoint) -> (String, u16, rumqttc::Transport) {
    match endpoint {
        #[cfg(unix)]
        super::relay::Endpoint::Unix(path) => (path.to_string_lossy().into_owned(), 0, rumqttc::Transport::Unix),
        #[cfg(not(unix))]
        super::relay::Endpoint::Tcp(addr) => (addr.ip().to_string(), addr.port(), rumqttc::Transport::Tcp),
    }
}
