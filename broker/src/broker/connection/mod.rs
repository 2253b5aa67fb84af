//! One task per client connection: reads and decodes packets, applies them to the router,
//! writes what the session's outbox holds, enforces keepalive, and publishes the will when
//! the connection ends abnormally.
//!
//! - `connect`: the CONNECT handshake, refusals and their CONNACK codes.
//! - `inbound`: every packet after CONNECT.

mod connect;
mod inbound;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, watch};
use tokio::time::{Instant, sleep_until};

use super::session::{Link, Message, STALL};
use super::transport::Identity;
use super::{Routed, Shared, Stats};
use crate::auth::{Auth, Client};
use crate::codec::{DecodeError, Decoded, LastWill, Packet, TopicName, decode};
use crate::log::LogType;

static NEXT_LINK_ID: AtomicU64 = AtomicU64::new(1);

/// Read buffer sizes: thousands of idle clients each hold the smallest; a publisher at full
/// speed grows to the largest.
const MIN_READ: usize = 128;
const MAX_READ: usize = 64 * 1024;

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
pub(crate) async fn serve<S>(
    shared: Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
    identity: Option<Identity>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (reader, writer) = tokio::io::split(stream);
    let mut conn = Connection {
        shared: &shared,
        peer,
        reader,
        writer,
        rbuf: BytesMut::new(),
        read_size: MIN_READ,
        wbuf: BytesMut::new(),
        client_id: None,
        username: None,
        identity,
        link: Link { id: NEXT_LINK_ID.fetch_add(1, Ordering::Relaxed), wake: Arc::new(Notify::new()) },
        will: None,
        keep_alive: None,
        last_seen: Instant::now(),
        congested: Vec::new(),
        stall_check: Instant::now(),
        check_outbox: true,
    };
    // The handshake and the ending are boxed: a task's future is as large as its largest
    // state, and thousands of idle connections should hold only the size of `run`.
    let close = match Box::pin(conn.handshake(&mut shutdown)).await {
        Ok(true) => conn.run(&mut shutdown).await,
        Ok(false) => return,
        Err(close) => close,
    };
    Box::pin(conn.finish(close)).await;
}

struct Connection<'a, R, W> {
    shared: &'a Shared,
    peer: SocketAddr,
    reader: R,
    writer: W,
    rbuf: BytesMut,
    /// Room made in `rbuf` before each read: small for an idle client (a CONNECT, a PINGREQ),
    /// doubled whenever a read fills half of it, so a busy client gets large reads.
    read_size: usize,
    wbuf: BytesMut,
    client_id: Option<Arc<str>>,
    username: Option<String>,
    /// What TLS proved about the client (PSK identity, certificate name).
    identity: Option<Identity>,
    link: Link,
    will: Option<LastWill>,
    /// 1.5 times the keepalive [MQTT-3.1.2-24]; `None` for keepalive 0.
    keep_alive: Option<Duration>,
    last_seen: Instant,
    /// Subscribers this client's last PUBLISH left over their limits: while any is left, the
    /// connection reads nothing more (back-pressure) and the keepalive clock is paused.
    congested: Vec<Arc<str>>,
    /// When to look again at whether the congested subscribers are making progress.
    stall_check: Instant,
    /// The session's outbox may hold packets (or the session was taken over): set by a wake
    /// and by handling a packet, so that an idle turn of the loop does not take the lock.
    check_outbox: bool,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Connection<'_, R, W> {
    fn log(&self, t: LogType, args: fmt::Arguments<'_>) {
        self.shared.log.log(t, args);
    }

    fn id(&self) -> Arc<str> {
        self.client_id.clone().unwrap_or_default()
    }

    /// Whether the ACL (if any) lets this client publish to `topic`.
    fn may_write(&self, auth: &Auth, topic: &TopicName) -> bool {
        let client = Client { id: self.client_id.as_deref().unwrap_or(""), username: self.username.as_deref() };
        auth.acl().is_none_or(|acl| acl.can_write(client, topic.as_str()))
    }

    /// Decodes the next whole packet from the read buffer, if there is one.
    fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        match decode(&self.rbuf, self.shared.config.packet_size_limit())? {
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

    fn received(&mut self, read: std::io::Result<usize>) -> Result<(), Close> {
        match read {
            Ok(0) => Err(Close::Eof),
            Ok(n) => {
                if n >= self.read_size / 2 {
                    self.read_size = (self.read_size * 2).min(MAX_READ);
                }
                Stats::add(&self.shared.stats.bytes_received, n as u64);
                self.last_seen = Instant::now();
                Ok(())
            }
            Err(e) => Err(Close::Io(e)),
        }
    }

    /// Makes room for the next read.
    fn reserve_read(&mut self) {
        if self.rbuf.capacity() - self.rbuf.len() < self.read_size / 2 {
            self.rbuf.reserve(self.read_size);
        }
    }

    async fn read_more(&mut self) -> Result<(), Close> {
        self.reserve_read();
        let read = self.reader.read_buf(&mut self.rbuf).await;
        self.received(read)
    }

    async fn run(&mut self, shutdown: &mut watch::Receiver<bool>) -> Close {
        let wake = self.link.wake.clone();
        loop {
            if !self.congested.is_empty() {
                self.recheck_congestion();
            }
            if let Err(close) = self.drain_packets() {
                return close;
            }
            if self.wbuf.is_empty()
                && std::mem::take(&mut self.check_outbox)
                && let Err(close) = self.fill_write_buffer()
            {
                return close;
            }
            let paused = !self.congested.is_empty();
            self.reserve_read();
            let deadline = if paused { Some(self.stall_check) } else { self.keep_alive.map(|k| self.last_seen + k) };
            // `biased`: bytes that have arrived count before a timer that is also due.
            tokio::select! {
                biased;
                _ = shutdown.changed() => return Close::Shutdown,
                r = self.reader.read_buf(&mut self.rbuf), if !paused => if let Err(close) = self.received(r) {
                    return close;
                },
                r = self.writer.write(&self.wbuf), if !self.wbuf.is_empty() => match r {
                    Ok(n) => {
                        self.wbuf.advance(n);
                        Stats::add(&self.shared.stats.bytes_sent, n as u64);
                    }
                    Err(e) => return Close::Io(e),
                },
                () = wake.notified(), if self.wbuf.is_empty() || paused => self.check_outbox = true,
                // One timer (each is ~100 bytes of every connection's task): the stall check
                // while paused, the keepalive otherwise.
                () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    if paused {
                        self.check_stalls();
                    } else {
                        return Close::Keepalive;
                    }
                }
            }
        }
    }

    /// Keeps waiting only for subscribers still congested (registering again with any that
    /// drained and filled up since); resumes reading when none is left.
    fn recheck_congestion(&mut self) {
        let mut router = self.shared.router();
        let wake = &self.link.wake;
        self.congested.retain(|id| match router.session_mut(id) {
            Some(s) if s.congested() => {
                s.wait_for_room(wake);
                true
            }
            _ => false,
        });
        drop(router);
        if self.congested.is_empty() {
            // The pause was the broker's doing: it does not count against the keepalive.
            self.last_seen = Instant::now();
        }
    }

    /// A congested subscriber that wrote nothing for [`STALL`] stops holding this publisher.
    fn check_stalls(&mut self) {
        let now = Instant::now();
        let mut router = self.shared.router();
        for id in &self.congested {
            if let Some(s) = router.session_mut(id)
                && s.congested()
                && s.idle_for_stall(now)
            {
                s.mark_stalled();
                self.shared.log.log(
                    LogType::Notice,
                    format_args!(
                        "Client {id} has not read for {} s: messages over its queue limit are dropped until it catches up.",
                        STALL.as_secs()
                    ),
                );
            }
        }
        self.stall_check = now + STALL;
    }

    /// Takes the session's outbox into the write buffer; notices a takeover.
    fn fill_write_buffer(&mut self) -> Result<(), Close> {
        let id = self.id();
        let mut router = self.shared.router();
        if !router.is_current(&id, self.link.id) {
            return Err(Close::TakenOver);
        }
        if let Some(session) = router.session_mut(&id) {
            let written = session.write_outbox(&mut self.wbuf);
            if written.packets > 0 {
                session.progressed(Instant::now());
            }
            drop(router);
            let stats = &self.shared.stats;
            Stats::add(&stats.messages_sent, written.packets);
            Stats::add(&stats.publish_sent, written.publishes);
            Stats::add(&stats.publish_bytes_sent, written.publish_bytes);
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
        let protocol_error = matches!(close, Close::Protocol(_));
        if !message.is_empty() && (self.shared.log.connection_messages || protocol_error) {
            let t = if protocol_error { LogType::Notice } else { LogType::Information };
            self.log(t, format_args!("{message}"));
        }
        if let Some(id) = self.client_id.clone() {
            if let Some(will) = self.will.take().filter(|_| !matches!(close, Close::Shutdown)) {
                self.publish_will(will);
            }
            self.shared.router().disconnect(&id, self.link.id);
        }
        // Flush what is already encoded (e.g. a SUBACK) before closing; errors are moot now.
        if !self.wbuf.is_empty() && !matches!(close, Close::Io(_)) {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.writer.write_all(&self.wbuf)).await;
        }
        let _ = self.writer.shutdown().await;
    }

    fn publish_will(&self, will: LastWill) {
        let auth = self.shared.auth();
        if !self.may_write(&auth, &will.topic) {
            self.log(
                LogType::Notice,
                format_args!("Denied will of {} on {}: the ACL gives no write access.", self.id(), will.topic),
            );
            return;
        }
        let message = Message { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain };
        let routed = self.shared.router().publish(&message, auth.acl());
        count_drops(self.shared, routed);
    }
}

fn count_drops(shared: &Shared, routed: Routed) {
    if routed.dropped > 0 {
        Stats::add(&shared.stats.publish_dropped, routed.dropped);
    }
}
