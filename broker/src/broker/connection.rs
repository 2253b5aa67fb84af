//! One task per client connection: reads and decodes packets, applies them to the router,
//! writes what the session's outbox holds, enforces keepalive, and publishes the will when
//! the connection ends abnormally.

use std::fmt::{self, Write as _};
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, watch};
use tokio::time::{Instant, sleep_until};

use super::session::{Link, Message};
use super::{Routed, Shared, Stats};
use crate::codec::{
    ConnAck, Connect, ConnectReturnCode, DecodeError, Decoded, LastWill, Packet, Protocol, Publish, QosPid, decode,
};
use crate::log::LogType;

/// How long a new connection may take to send CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

static NEXT_LINK_ID: AtomicU64 = AtomicU64::new(1);

/// Why a connection ended.
#[derive(Debug)]
enum Close {
    /// DISCONNECT: the will is discarded [MQTT-3.1.2-10].
    Disconnect,
    /// The client closed the socket without DISCONNECT.
    Eof,
    Keepalive,
    Protocol(String),
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

/// Serves one accepted connection to its end.
pub(crate) async fn serve<S>(shared: Arc<Shared>, stream: S, peer: SocketAddr, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (reader, writer) = tokio::io::split(stream);
    let mut conn = Connection {
        shared: &shared,
        peer,
        reader,
        writer,
        rbuf: BytesMut::with_capacity(4096),
        wbuf: BytesMut::with_capacity(4096),
        client_id: None,
        link: Link { id: NEXT_LINK_ID.fetch_add(1, Ordering::Relaxed), wake: Arc::new(Notify::new()) },
        will: None,
        keep_alive: None,
        last_seen: Instant::now(),
    };
    let close = match conn.handshake(&mut shutdown).await {
        Ok(true) => conn.run(&mut shutdown).await,
        Ok(false) => return,
        Err(close) => close,
    };
    conn.finish(close).await;
}

struct Connection<'a, R, W> {
    shared: &'a Shared,
    peer: SocketAddr,
    reader: R,
    writer: W,
    rbuf: BytesMut,
    wbuf: BytesMut,
    client_id: Option<Arc<str>>,
    link: Link,
    will: Option<LastWill>,
    /// 1.5 times the keepalive [MQTT-3.1.2-24]; `None` for keepalive 0.
    keep_alive: Option<Duration>,
    last_seen: Instant,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Connection<'_, R, W> {
    fn log(&self, t: LogType, args: fmt::Arguments<'_>) {
        self.shared.log.log(t, args);
    }

    /// Decodes the next whole packet from the read buffer, if there is one.
    fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        match decode(&self.rbuf, self.shared.config.packet_size_limit())? {
            Decoded::Packet(packet, len) => {
                let _ = self.rbuf.split_to(len);
                Stats::add(&self.shared.stats.messages_received, 1);
                Ok(Some(packet))
            }
            Decoded::Incomplete => Ok(None),
        }
    }

    async fn read_more(&mut self) -> Result<(), Close> {
        match self.reader.read_buf(&mut self.rbuf).await {
            Ok(0) => Err(Close::Eof),
            Ok(n) => {
                Stats::add(&self.shared.stats.bytes_received, n as u64);
                self.last_seen = Instant::now();
                Ok(())
            }
            Err(e) => Err(Close::Io(e)),
        }
    }

    /// Waits for CONNECT and answers it. `Ok(false)`: refused, already answered and logged.
    async fn handshake(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<bool, Close> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let connect = loop {
            match self.next_packet() {
                Ok(Some(Packet::Connect(c))) => break c,
                Ok(Some(other)) => {
                    return Err(Close::Protocol(format!(
                        "[MQTT-3.1.0-1] the first packet must be CONNECT, got {}",
                        other.packet_type()
                    )));
                }
                Ok(None) => {}
                Err(DecodeError::UnsupportedProtocolLevel { level }) => {
                    self.log(LogType::Information, format_args!(
                        "Client <unknown> from {} refused: [MQTT-3.1.2-2] unsupported protocol level {level} (this broker speaks MQTT 3.1 and 3.1.1).",
                        self.peer
                    ));
                    self.refuse(ConnectReturnCode::UnacceptableProtocolVersion).await;
                    return Ok(false);
                }
                Err(e) => return Err(Close::Protocol(e.to_string())),
            }
            // `biased`: bytes that have arrived count before a timer that is also due.
            tokio::select! {
                biased;
                r = self.read_more() => r?,
                () = sleep_until(deadline) => return Err(Close::Protocol("no CONNECT within 10 seconds".into())),
                _ = shutdown.changed() => return Err(Close::Shutdown),
            }
        };
        self.accept(connect).await
    }

    async fn refuse(&mut self, code: ConnectReturnCode) {
        let packet = Packet::ConnAck(ConnAck { session_present: false, code });
        let mut buf = BytesMut::new();
        let _ = packet.encode(&mut buf);
        // The client may already be gone; there is nothing more to do for it either way.
        let _ = self.writer.write_all(&buf).await;
        let _ = self.writer.shutdown().await;
        Stats::add(&self.shared.stats.bytes_sent, buf.len() as u64);
    }

    async fn accept(&mut self, c: Connect) -> Result<bool, Close> {
        let config = &self.shared.config;
        let refusal = if c.client_id.is_empty() && !c.clean_session {
            Some((
                ConnectReturnCode::IdentifierRejected,
                "[MQTT-3.1.3-8] an empty client id needs clean session".to_owned(),
            ))
        } else if c.client_id.is_empty() && (c.protocol == Protocol::V31 || !config.allow_zero_length_clientid) {
            Some((ConnectReturnCode::IdentifierRejected, "an empty client id is not allowed here".to_owned()))
        } else if c.protocol == Protocol::V31 && c.client_id.len() > 23 {
            Some((ConnectReturnCode::IdentifierRejected, "MQTT 3.1 client ids are at most 23 characters".to_owned()))
        } else if c.keep_alive > config.max_keepalive {
            Some((
                ConnectReturnCode::IdentifierRejected,
                format!("keepalive {} is above max_keepalive {}", c.keep_alive, config.max_keepalive),
            ))
        } else if !config.anonymous_allowed() {
            // As Mosquitto 2.0: with no password file there is no user to check a user name
            // against, so a user name does not let a client in either.
            let reason = if c.username.is_none() {
                "anonymous access is off (allow_anonymous false)"
            } else {
                "anonymous access is off (allow_anonymous false) and no password_file is configured"
            };
            Some((ConnectReturnCode::NotAuthorized, reason.to_owned()))
        } else {
            None
        };
        if let Some((code, reason)) = refusal {
            self.log(
                LogType::Notice,
                format_args!(
                    "Client {} from {} refused with CONNACK {}: {reason}.",
                    if c.client_id.is_empty() { "<empty>" } else { &c.client_id },
                    self.peer,
                    code as u8
                ),
            );
            self.refuse(code).await;
            return Ok(false);
        }
        let client_id: Arc<str> = if c.client_id.is_empty() {
            generate_client_id(&config.auto_id_prefix).into()
        } else {
            c.client_id.as_str().into()
        };
        let attached =
            self.shared.router().connect(&client_id, c.clean_session, c.protocol == Protocol::V311, self.link.clone());
        Stats::add(&self.shared.stats.connections, 1);
        if attached.took_over {
            self.log(
                LogType::Information,
                format_args!("Client {client_id} already connected, closing old connection."),
            );
        }
        if self.shared.log.connection_messages {
            let user = c.username.as_ref().map(|u| format!(", u'{u}'")).unwrap_or_default();
            self.log(
                LogType::Notice,
                format_args!(
                    "New client connected from {} as {client_id} (p{}, c{}, k{}{user}).",
                    self.peer,
                    if c.protocol == Protocol::V31 { 1 } else { 2 },
                    u8::from(c.clean_session),
                    c.keep_alive
                ),
            );
        }
        self.client_id = Some(client_id);
        self.will = c.will;
        self.keep_alive = (c.keep_alive > 0).then(|| Duration::from_millis(u64::from(c.keep_alive) * 1500));
        Ok(true)
    }

    async fn run(&mut self, shutdown: &mut watch::Receiver<bool>) -> Close {
        let wake = self.link.wake.clone();
        loop {
            if let Err(close) = self.drain_packets() {
                return close;
            }
            if self.wbuf.is_empty()
                && let Err(close) = self.fill_write_buffer()
            {
                return close;
            }
            let deadline = self.keep_alive.map(|k| self.last_seen + k);
            tokio::select! {
                biased;
                _ = shutdown.changed() => return Close::Shutdown,
                r = self.reader.read_buf(&mut self.rbuf) => match r {
                    Ok(0) => return Close::Eof,
                    Ok(n) => {
                        Stats::add(&self.shared.stats.bytes_received, n as u64);
                        self.last_seen = Instant::now();
                    }
                    Err(e) => return Close::Io(e),
                },
                r = self.writer.write(&self.wbuf), if !self.wbuf.is_empty() => match r {
                    Ok(n) => {
                        let _ = self.wbuf.split_to(n);
                        Stats::add(&self.shared.stats.bytes_sent, n as u64);
                    }
                    Err(e) => return Close::Io(e),
                },
                () = wake.notified(), if self.wbuf.is_empty() => {}
                () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => return Close::Keepalive,
            }
        }
    }

    /// Takes the session's outbox into the write buffer; notices a takeover.
    fn fill_write_buffer(&mut self) -> Result<(), Close> {
        let id = self.client_id.clone().unwrap_or_default();
        let mut router = self.shared.router();
        if !router.is_current(&id, self.link.id) {
            return Err(Close::TakenOver);
        }
        if let Some(session) = router.session_mut(&id) {
            let written = session.write_outbox(&mut self.wbuf);
            drop(router);
            let stats = &self.shared.stats;
            Stats::add(&stats.messages_sent, written.packets);
            Stats::add(&stats.publish_sent, written.publishes);
            Stats::add(&stats.publish_bytes_sent, written.publish_bytes);
        }
        Ok(())
    }

    fn drain_packets(&mut self) -> Result<(), Close> {
        loop {
            match self.next_packet() {
                Ok(Some(packet)) => self.handle(packet)?,
                Ok(None) => return Ok(()),
                Err(e) => return Err(Close::Protocol(e.to_string())),
            }
        }
    }

    fn handle(&mut self, packet: Packet) -> Result<(), Close> {
        let id = self.client_id.clone().unwrap_or_default();
        let shared = self.shared;
        match packet {
            Packet::Publish(p) => return self.publish(&id, p),
            Packet::Subscribe(s) => {
                let routed = shared.router().subscribe(&id, s.pid, &s.filters);
                count_drops(shared, routed);
                for (filter, qos) in &s.filters {
                    self.log(LogType::Subscribe, format_args!("{id} {} {filter}", *qos as u8));
                }
            }
            Packet::Unsubscribe(u) => {
                shared.router().unsubscribe(&id, u.pid, &u.filters);
                for filter in &u.filters {
                    self.log(LogType::Unsubscribe, format_args!("{id} {filter}"));
                }
            }
            Packet::PubAck(pid) => self.acknowledged("PUBACK", pid, with_session(shared, &id, |s| s.on_puback(pid))),
            Packet::PubRec(pid) => self.acknowledged("PUBREC", pid, with_session(shared, &id, |s| s.on_pubrec(pid))),
            Packet::PubComp(pid) => self.acknowledged("PUBCOMP", pid, with_session(shared, &id, |s| s.on_pubcomp(pid))),
            Packet::PubRel(pid) => with_session(shared, &id, |s| s.on_pubrel(pid)).unwrap_or(()),
            Packet::PingReq => with_session(shared, &id, |s| s.send(Packet::PingResp)).unwrap_or(()),
            Packet::Disconnect => {
                self.will = None;
                return Err(Close::Disconnect);
            }
            Packet::Connect(_) => {
                return Err(Close::Protocol(
                    "[MQTT-3.1.0-2] a second CONNECT on one connection is a protocol violation".into(),
                ));
            }
            other => {
                return Err(Close::Protocol(format!(
                    "[MQTT-4.8.0-1] a client must not send {}, which only a server sends",
                    other.packet_type()
                )));
            }
        }
        Ok(())
    }

    /// An acknowledgement for an id that was not waiting for one is ignored, as the
    /// specification allows, and noted in the debug log.
    fn acknowledged(&self, what: &str, pid: crate::codec::PacketId, expected: Option<bool>) {
        if expected != Some(true) {
            self.log(
                LogType::Debug,
                format_args!("Ignored {what} for unknown packet id {pid} from {}.", Who(self.client_id.as_deref())),
            );
        }
    }

    fn publish(&mut self, id: &str, p: Publish) -> Result<(), Close> {
        let shared = self.shared;
        let stats = &shared.stats;
        Stats::add(&stats.publish_received, 1);
        Stats::add(&stats.publish_bytes_received, p.payload.len() as u64);
        if p.retain && !shared.config.retain_available {
            return Err(Close::Protocol("retained messages are not available (retain_available false)".into()));
        }
        let limit = shared.config.message_size_limit;
        let too_large = limit != 0 && p.payload.len() > limit;
        if too_large {
            self.log(
                LogType::Notice,
                format_args!(
                    "Dropped too large PUBLISH from {id} ({} bytes > message_size_limit {limit}) on {}.",
                    p.payload.len(),
                    p.topic
                ),
            );
            Stats::add(&stats.publish_dropped, 1);
        }
        let message = Message { topic: p.topic, payload: p.payload, qos: p.qos_pid.qos(), retain: p.retain };
        let mut router = shared.router();
        let routed = match p.qos_pid {
            QosPid::AtMostOnce => (!too_large).then(|| router.publish(&message)),
            QosPid::AtLeastOnce(pid) => {
                let routed = (!too_large).then(|| router.publish(&message));
                if let Some(s) = router.session_mut(id) {
                    s.send(Packet::PubAck(pid));
                }
                routed
            }
            QosPid::ExactlyOnce(pid) => {
                let first = router.session_mut(id).is_some_and(|s| s.on_incoming_qos2(pid));
                (first && !too_large).then(|| router.publish(&message))
            }
        };
        drop(router);
        if let Some(routed) = routed {
            count_drops(shared, routed);
        }
        Ok(())
    }

    /// Logs why the connection ended, publishes the will if it ended abnormally, and lets the
    /// router detach (or drop) the session.
    async fn finish(mut self, close: Close) {
        let who = Who(self.client_id.as_deref()).to_string();
        let message = match &close {
            Close::Disconnect => format!("Client {who} disconnected."),
            Close::Eof => format!("Client {who} closed its connection."),
            Close::Keepalive => format!("Client {who} has exceeded timeout, disconnecting."),
            Close::Protocol(e) => format!("Client {who} from {} disconnected due to protocol error: {e}", self.peer),
            Close::TakenOver => format!("Client {who} was taken over by a new connection with the same client id."),
            Close::Shutdown => String::new(),
            Close::Io(e) => format!("Socket error on client {who}, disconnecting: {e}."),
        };
        if !message.is_empty() && (self.shared.log.connection_messages || matches!(close, Close::Protocol(_))) {
            let t = if matches!(close, Close::Protocol(_)) { LogType::Notice } else { LogType::Information };
            self.shared.log.log(t, format_args!("{message}"));
        }
        if let Some(id) = self.client_id.clone() {
            let mut router = self.shared.router();
            if let Some(will) = self.will.take().filter(|_| !matches!(close, Close::Shutdown)) {
                let routed = router.publish(&Message {
                    topic: will.topic,
                    payload: will.payload,
                    qos: will.qos,
                    retain: will.retain,
                });
                drop(router);
                count_drops(self.shared, routed);
                router = self.shared.router();
            }
            router.disconnect(&id, self.link.id);
        }
        // Flush what is already encoded (e.g. a SUBACK) before closing; errors are moot now.
        if !self.wbuf.is_empty() && !matches!(close, Close::Io(_)) {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.writer.write_all(&self.wbuf)).await;
        }
        let _ = self.writer.shutdown().await;
    }
}

fn with_session<T>(shared: &Shared, id: &str, f: impl FnOnce(&mut super::Session) -> T) -> Option<T> {
    shared.router().session_mut(id).map(f)
}

fn count_drops(shared: &Shared, routed: Routed) {
    if routed.dropped > 0 {
        Stats::add(&shared.stats.publish_dropped, routed.dropped);
    }
}

/// `auto-` and 32 hex digits, as Mosquitto names clients that sent an empty id.
fn generate_client_id(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = std::collections::hash_map::RandomState::new();
    let mut digits = String::new();
    for _ in 0..2 {
        let mut h = state.build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        let _ = write!(digits, "{:016X}", h.finish());
    }
    format!("{prefix}{digits}")
}
