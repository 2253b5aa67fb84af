//! One task per client connection: reads and decodes packets, applies them to the router,
//! writes what the session's outbox holds, enforces keepalive, and publishes the will when
//! the connection ends abnormally.
//!
//! - `connect`: the CONNECT handshake, refusals and their CONNACK codes.
//! - `task`: the connection's task, phase by phase.
//! - `pump`: the connected loop: read, handle, write, wake.
//! - `inbound`: every packet after CONNECT.
//! - `congestion`: not reading while subscribers are over their limits (back-pressure).

mod alias;
mod congestion;
mod connect;
mod doze;
mod inbound;
mod pump;
mod socket;
mod task;

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::Instant;

use super::mount::MountPoint;
use super::park::Sleepiness;
use super::session::{ENCODE_APART, Link, Written};
use super::transport::{Identity, ListenerRules};
use super::wake::Wake;
use super::{Routed, Shared, Stats, WillOutcome};
use crate::auth::{AclScope, Auth, Client};
use crate::codec::v5::{Properties, Property, ReasonCode};
use crate::codec::{DecodeError, Decoded, Disconnect, Packet, Protocol, TopicName, decode};
use crate::log::LogType;
use congestion::Congestion;
pub(crate) use socket::Socket;
pub(crate) use task::{ConnectionTask, Ending};

static NEXT_LINK_ID: AtomicU64 = AtomicU64::new(1);

/// Characters of a Reason String at most: the rule and a line of explanation.
const MAX_REASON_STRING: usize = 200;

/// Read buffer sizes: thousands of idle clients each hold the smallest; a publisher at full
/// speed grows to the largest.
const MIN_READ: usize = 128;
const MAX_READ: usize = 64 * 1024;

/// Why a connection ended.
#[derive(Debug)]
enum Close {
    /// DISCONNECT: the will is discarded [MQTT-3.1.2-10], unless the MQTT 5.0 reason code is
    /// another than 0x00 Normal disconnection (0x04 Disconnect with Will Message, an error).
    Disconnect(ReasonCode),
    /// The client closed the socket without DISCONNECT.
    Eof,
    Keepalive,
    /// A broken rule, and the reason code an MQTT 5.0 client is told in DISCONNECT.
    Protocol(String, ReasonCode),
    /// `memory_limit`: a PUBLISH would take the held bytes over it. Logged in Mosquitto's words
    /// ("disconnected due to out of memory"); the detail is the Reason String of the DISCONNECT
    /// 0x97 Quota exceeded an MQTT 5.0 client is sent.
    OutOfMemory(String),
    TakenOver,
    Shutdown,
    Io(std::io::Error),
}

/// The client id as the log names it before CONNECT is accepted.
struct Who<'a>(Option<&'a str>);

impl fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.unwrap_or("<unknown>"))
    }
}

/// Serves one accepted connection to its end: the returned future is the connection's task.
///
/// `identity`: what the transport proved ([`Identity::bridge`] for the broker's own bridge
/// connections, which skip authentication and the ACL). `rules`: the listener's mount point,
/// auth scope and client id rules; `None` (a bridge, an embedding app's stream) is no mount
/// point and the broker's global settings.
pub(crate) fn serve<S>(
    shared: Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
    identity: Option<Identity>,
    rules: Option<Arc<ListenerRules>>,
) -> ConnectionTask<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let link = Link { id: NEXT_LINK_ID.fetch_add(1, Ordering::Relaxed), wake: Arc::new(Wake::default()) };
    let conn = Connection::new(shared, peer, stream, identity.map(Box::new), rules, link);
    ConnectionTask::new(conn, shutdown)
}

/// [`serve`] for a plain TCP connection, which parks when idle (doze.rs).
pub(crate) fn serve_tcp(
    shared: Arc<Shared>,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
    rules: Option<Arc<ListenerRules>>,
) -> ConnectionTask<tokio::net::TcpStream> {
    serve(shared, tcp, peer, shutdown, None, rules).parking(&doze::TCP)
}

/// [`serve`] for a TLS-PSK connection past its TLS handshake, which parks when idle (doze.rs).
pub(crate) fn serve_psk(
    shared: Arc<Shared>,
    stream: mqtt_lab_psk_hint::SocketTls<Socket>,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
    identity: Option<Identity>,
    rules: Option<Arc<ListenerRules>>,
) -> ConnectionTask<mqtt_lab_psk_hint::SocketTls<Socket>> {
    serve(shared, stream, peer, shutdown, identity, rules).parking(&doze::PSK)
}

struct Connection<S> {
    shared: Arc<Shared>,
    peer: SocketAddr,
    stream: S,
    /// Bytes of a packet not yet whole (or packets not yet handled, while congested). Empty,
    /// and unallocated, between packets: reads go to a buffer on the stack first.
    rbuf: BytesMut,
    /// How much to read at once: small for an idle client (a CONNECT, a PINGREQ), doubled
    /// whenever a read fills half of it, so a busy client gets large reads.
    read_size: usize,
    /// Encoded packets not yet written; freed once written.
    wbuf: BytesMut,
    client_id: Option<Arc<str>>,
    /// From CONNECT: how packets are decoded and encoded (3.1.1 until then; a CONNECT says its
    /// own version).
    protocol: Protocol,
    /// MQTT 5.0 topic aliases the client set (boxed and lazy: most clients set none).
    aliases: Option<Box<alias::Aliases>>,
    /// The session's copy.
    username: Option<Arc<str>>,
    /// What TLS proved about the client (PSK identity, certificate name). This and the will
    /// are boxed: most clients have neither, and every byte here is in every idle client.
    identity: Option<Box<Identity>>,
    /// The listener's rules (auth scope, `use_username_as_clientid`); `None` for a connection
    /// served without a listener.
    rules: Option<Arc<ListenerRules>>,
    link: Link,
    /// While subscribers this client's last PUBLISH left over their limits are congested.
    congestion: Option<Box<Congestion>>,
    /// The session's outbox may hold packets (or the session was taken over): set by a wake
    /// and by handling a packet, so that an idle turn of the loop does not take the lock.
    check_outbox: bool,
    /// A QoS 1 or 2 PUBLISH just handled went to subscribers: the task yields once before
    /// writing its PUBACK or PUBREC, so their tasks write the deliveries first. A client that
    /// is told "delivered" first is woken twice per message, and on a busy core the second
    /// wake-up is the one that waits (docs/PERFORMANCE.md, change 9).
    deliver_first: bool,
    /// Whether it parks when out of work (park/policy.rs).
    sleepiness: Sleepiness,
    /// While busy: when it last moved, and the timer that looks at whether it has gone quiet
    /// since (doze.rs). Boxed: the task's memory is tokio's cell, in steps of 128 bytes, and
    /// only busy connections need these.
    busy: Option<Box<doze::Busy>>,
    /// Resumed with bytes waiting on its socket, not yet read: it does not park until it has
    /// read (doze.rs).
    input_due: bool,
}

impl<S> Connection<S> {
    /// A connection before CONNECT (or resumed from parking, which then sets what CONNECT gave):
    /// empty buffers, sleepy, looking at its outbox first.
    fn new(
        shared: Arc<Shared>,
        peer: SocketAddr,
        stream: S,
        identity: Option<Box<Identity>>,
        rules: Option<Arc<ListenerRules>>,
        link: Link,
    ) -> Self {
        Self {
            shared,
            peer,
            stream,
            rbuf: BytesMut::new(),
            read_size: MIN_READ,
            wbuf: BytesMut::new(),
            client_id: None,
            protocol: Protocol::V311,
            aliases: None,
            username: None,
            identity,
            rules,
            link,
            congestion: None,
            check_outbox: true,
            deliver_first: false,
            sleepiness: Sleepiness::default(),
            busy: None,
            input_due: false,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    fn log(&self, t: LogType, args: fmt::Arguments<'_>) {
        self.shared.log.log(t, args);
    }

    fn id(&self) -> Arc<str> {
        self.client_id.clone().unwrap_or_default()
    }

    /// The listener's `mount_point`: put in front of every topic this client names.
    fn mount(&self) -> Option<&MountPoint> {
        self.rules.as_ref().and_then(|r| r.mount.as_ref())
    }

    /// The broker's own connection (a bridge's local side).
    fn is_trusted(&self) -> bool {
        self.identity.as_ref().is_some_and(|i| i.trusted)
    }

    /// Whose authentication and ACL this connection is under: none for the broker's own
    /// (a bridge), else its listener's.
    fn scope(&self, auth: &Auth) -> AclScope {
        if self.is_trusted() {
            return AclScope::Trusted;
        }
        auth.scope(self.rules.as_ref().and_then(|r| r.index))
    }

    /// Whether the ACL (if any) lets this client publish to `topic`.
    fn may_write(&self, auth: &Auth, topic: &TopicName) -> bool {
        let client = Client { id: self.client_id.as_deref().unwrap_or(""), username: self.username.as_deref() };
        auth.acl(self.scope(auth)).is_none_or(|acl| acl.can_write(client, topic.as_str()))
    }

    /// Decodes the next whole packet from the read buffer, if there is one.
    fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        match decode(&self.rbuf, self.shared.config.packet_size_limit(), self.protocol)? {
            Decoded::Packet(packet, len) => {
                self.rbuf.advance(len);
                // Handling it may have queued an answer.
                self.check_outbox = true;
                Stats::add(&self.shared.stats.messages_received, 1);
                Ok(Some(packet))
            }
            Decoded::Incomplete => Ok(None),
        }
    }

    /// Counts a read of `n` bytes (0: the client closed) and adapts the next read's size.
    fn received(&mut self, n: usize) -> Result<(), Close> {
        if n == 0 {
            return Err(Close::Eof);
        }
        if n >= self.read_size / 2 {
            self.read_size = (self.read_size * 2).min(MAX_READ);
        }
        Stats::add(&self.shared.stats.bytes_received, n as u64);
        self.link.wake.seen(self.shared.keepalive.now_us());
        Ok(())
    }

    /// Reads into `rbuf` (the handshake: nothing else to wait for).
    async fn read_more(&mut self) -> Result<(), Close> {
        if self.rbuf.capacity() - self.rbuf.len() < self.read_size / 2 {
            self.rbuf.reserve(self.read_size);
        }
        match self.stream.read_buf(&mut self.rbuf).await {
            Ok(n) => self.received(n),
            Err(e) => Err(Close::Io(e)),
        }
    }

    /// Takes the session's outbox into the write buffer; notices a takeover. The packets are
    /// taken under the router's lock and encoded after it is released (session/outbox.rs).
    ///
    /// The client id is borrowed, not cloned: its `Arc` shares a cache line with the text
    /// every PUBLISH routed to this client compares, and a count changed on one core made that
    /// comparison miss on the other (the fan-out's hottest line on two cores).
    fn fill_write_buffer(&mut self) -> Result<(), Close> {
        let id = self.client_id.as_deref().unwrap_or_default();
        let mut router = self.shared.router();
        let Some(session) = router.current_session_mut(id, self.link.id) else { return Err(Close::TakenOver) };
        if session.outbox_len() > ENCODE_APART {
            let written = session.write_outbox(&mut self.wbuf);
            session.progressed(Instant::now());
            drop(router);
            self.count_sent(written);
            return Ok(());
        }
        let mut none = VecDeque::new();
        let spare = self.busy.as_mut().map_or(&mut none, |b| &mut b.spare);
        let Some(mut outgoing) = session.take_outbox(spare) else { return Ok(()) };
        session.progressed(Instant::now());
        drop(router);
        let mount = self.rules.as_ref().and_then(|r| r.mount.as_ref());
        let written = outgoing.encode(&mut self.wbuf, mount);
        if outgoing.lent() {
            let mut router = self.shared.router();
            if let Some(session) = router.current_session_mut(id, self.link.id) {
                session.give_back(&mut outgoing);
            }
        }
        if let Some(busy) = self.busy.as_mut() {
            busy.spare = outgoing.into_spare();
        }
        self.count_sent(written);
        Ok(())
    }

    fn count_sent(&self, written: Written) {
        let stats = &self.shared.stats;
        Stats::add(&stats.messages_sent, written.packets);
        Stats::add(&stats.publish_sent, written.publishes);
        Stats::add(&stats.publish_bytes_sent, written.publish_bytes);
    }

    /// Logs why the connection ended, publishes the will if it ended abnormally, and lets the
    /// router detach (or drop) the session.
    async fn finish(mut self, close: Close) {
        let who = Who(self.client_id.as_deref()).to_string();
        let message = match &close {
            Close::Disconnect(ReasonCode::Success) => format!("Client {who} disconnected."),
            Close::Disconnect(reason) => format!("Client {who} disconnected: {reason}."),
            Close::Eof => format!("Client {who} closed its connection."),
            Close::Keepalive => format!("Client {who} has exceeded timeout, disconnecting."),
            Close::Protocol(e, _) => format!("Client {who} from {} disconnected due to protocol error: {e}", self.peer),
            Close::OutOfMemory(_) => format!("Client {who} disconnected due to out of memory."),
            Close::TakenOver => format!("Client {who} was taken over by a new connection with the same client id."),
            Close::Shutdown => String::new(),
            Close::Io(e) => format!("Socket error on client {who}, disconnecting: {e}."),
        };
        let protocol_error = matches!(close, Close::Protocol(..));
        if !message.is_empty() && (self.shared.log.connection_messages || protocol_error) {
            let notice = protocol_error || matches!(close, Close::OutOfMemory(_));
            let t = if notice { LogType::Notice } else { LogType::Information };
            self.log(t, format_args!("{message}"));
        }
        let client_max = self
            .client_id
            .as_deref()
            .and_then(|id| self.shared.router().session_mut(id).and_then(|s| s.client_max_packet_size()));
        if let Some(id) = self.client_id.clone() {
            // Only a DISCONNECT with 0x00 Normal disconnection discards the will [MQTT-3.1.2-10]
            // (0x04 asks for it; any error code is not a normal end either).
            let normal = matches!(close, Close::Disconnect(ReasonCode::Success) | Close::Shutdown);
            if !normal {
                let outcome = self.shared.router().publish_will(&id, self.link.id);
                self.will_published(&id, outcome);
            }
            self.shared.router().disconnect(&id, self.link.id);
        }
        // MQTT 5.0: the server says why it closes (3.14.2.1), after a CONNACK was sent
        // [MQTT-3.14.0-1]; a connection taken over is told 0x8E.
        if let Some(reason) = self.disconnect_reason(&close) {
            self.put_disconnect(reason, &close, client_max);
        }
        // Flush what is already encoded (e.g. a SUBACK) before closing; errors are moot now.
        if !self.wbuf.is_empty() && !matches!(close, Close::Io(_)) {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.stream.write_all(&self.wbuf)).await;
        }
        // Bounded too: TLS sends close_notify first, which a client that stopped reading never
        // lets through, and the broker's shutdown waits for every connection to finish.
        let _ = tokio::time::timeout(Duration::from_secs(1), self.stream.shutdown()).await;
    }

    /// The reason code of the DISCONNECT an MQTT 5.0 client is sent when the broker closes.
    fn disconnect_reason(&self, close: &Close) -> Option<ReasonCode> {
        if !self.protocol.is_v5() || self.client_id.is_none() {
            return None;
        }
        match close {
            Close::Keepalive => Some(ReasonCode::KeepAliveTimeout),
            Close::Protocol(_, reason) => Some(*reason),
            Close::OutOfMemory(_) => Some(ReasonCode::QuotaExceeded),
            Close::TakenOver => Some(ReasonCode::SessionTakenOver),
            Close::Shutdown => Some(ReasonCode::ServerShuttingDown),
            Close::Disconnect(_) | Close::Eof | Close::Io(_) => None,
        }
    }

    /// Encodes the DISCONNECT: for a protocol error with a Reason String naming the rule
    /// broken, which the client may show (always allowed in DISCONNECT [MQTT-3.1.2-29]), unless
    /// it would make the packet larger than the client takes [MQTT-3.2.2-19].
    fn put_disconnect(&mut self, reason: ReasonCode, close: &Close, client_max: Option<usize>) {
        let plain = Packet::Disconnect(Disconnect::with_reason(reason));
        if let Close::Protocol(why, _) | Close::OutOfMemory(why) = close {
            let text: String = why.chars().take(MAX_REASON_STRING).collect();
            let kind = crate::codec::v5::PacketKind::Disconnect;
            if let Ok(properties) = Properties::new(kind, vec![Property::ReasonString(text)]) {
                let explained = Packet::Disconnect(Disconnect { reason, properties });
                let fits = explained.encoded_len(self.protocol).is_ok_and(|n| client_max.is_none_or(|max| n <= max));
                if fits {
                    let _ = explained.encode(self.protocol, &mut self.wbuf);
                    return;
                }
            }
        }
        let _ = plain.encode(self.protocol, &mut self.wbuf);
    }

    /// Logs a refused will and counts what a published one dropped.
    fn will_published(&self, client_id: &str, outcome: WillOutcome) {
        match outcome {
            WillOutcome::None | WillOutcome::Delayed(_) => {}
            WillOutcome::Published(routed) => count_drops(&self.shared, routed),
            WillOutcome::Denied(topic) => self.log(
                LogType::Notice,
                format_args!("Denied will of {client_id} on {topic}: the ACL gives no write access."),
            ),
        }
    }
}

fn count_drops(shared: &Shared, routed: Routed) {
    if routed.dropped > 0 {
        Stats::add(&shared.stats.publish_dropped, routed.dropped);
    }
}
