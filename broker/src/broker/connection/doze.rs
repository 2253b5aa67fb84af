//! Connections parking (park/) and resuming. Parked, a connection's task has ended, its socket
//! is off tokio's reactor, and it keeps only what outlives a turn of its loop ([`Dozing`]): its
//! buffers are empty and its congestion over whenever it parks. Resumed, the socket goes back
//! to the reactor and a new task carries on from the connected loop. Plain TCP parks its socket
//! as a std one; TLS-PSK keeps OpenSSL's session as it is over a socket that leaves the reactor
//! beneath it ([`Socket`]).

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

use mqtt_lab_psk_hint::SocketTls;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep, sleep_until};

use super::alias::Aliases;
use super::socket::Socket;
use super::{Connection, ConnectionTask, Ending};
use crate::broker::Shared;
use crate::broker::park::{self, Asleep, QUIET_US, Sleepiness};
use crate::broker::session::Link;
use crate::broker::transport::{Identity, ListenerRules};
use crate::broker::wake::Wake;
use crate::codec::Protocol;
use crate::log::LogType;

/// How the tasks of one kind of stream park their connections: given to the tasks whose
/// socket can leave the reactor (plain TCP, TLS-PSK).
pub(crate) struct Parking<S> {
    /// Nothing is held inside the stream itself: decrypted bytes a parked connection would
    /// sit on, or a record still to be written.
    quiet: fn(&S) -> bool,
    /// Takes the connection, and the server's count of it, over.
    pub(super) park: fn(Connection<S>, Option<Ending>),
}

impl<S> Clone for Parking<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Parking<S> {}

impl<S> Parking<S> {
    pub(super) fn quiet(&self, stream: &S) -> bool {
        (self.quiet)(stream)
    }
}

pub(super) static TCP: Parking<TcpStream> = Parking { quiet: |_| true, park: park::<std::net::TcpStream> };
pub(super) static PSK: Parking<SocketTls<Socket>> =
    Parking { quiet: |s| !s.has_pending() && !s.write_pending(), park: park::<SocketTls<Socket>> };

/// A stream as it waits while its connection is parked.
trait SleepingStream: Sized + Send + 'static {
    /// The stream as the running connection has it.
    type Live: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    const PARKING: &'static Parking<Self::Live>;
    /// Takes it off the reactor.
    fn sleep(live: Self::Live) -> io::Result<Self>;
    /// Puts it back on the reactor of the runtime entered.
    fn wake(self) -> io::Result<Self::Live>;
    #[cfg(unix)]
    fn fd(&self) -> std::os::fd::RawFd;
    /// Bytes (or the peer's close) wait on the socket: tokio's reactor, which the socket is
    /// new to, reports them only on its next turn, so the connection must not park again
    /// before it has read them (it would be woken by them at once, over and over).
    fn input_waiting(&self) -> bool;
}

impl SleepingStream for std::net::TcpStream {
    type Live = TcpStream;
    const PARKING: &'static Parking<TcpStream> = &TCP;

    fn sleep(live: TcpStream) -> io::Result<Self> {
        live.into_std()
    }

    fn wake(self) -> io::Result<TcpStream> {
        TcpStream::from_std(self)
    }

    fn input_waiting(&self) -> bool {
        self.peek(&mut [0u8; 1]).is_ok()
    }

    #[cfg(unix)]
    fn fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.as_raw_fd()
    }
}

impl SleepingStream for SocketTls<Socket> {
    type Live = Self;
    const PARKING: &'static Parking<Self> = &PSK;

    fn sleep(mut live: Self) -> io::Result<Self> {
        live.get_mut().detach()?;
        Ok(live)
    }

    fn wake(mut self) -> io::Result<Self> {
        self.get_mut().attach()?;
        Ok(self)
    }

    fn input_waiting(&self) -> bool {
        self.get_ref().input_waiting()
    }

    #[cfg(unix)]
    fn fd(&self) -> std::os::fd::RawFd {
        self.get_ref().raw_fd()
    }
}

/// A busy connection's clock (park/policy.rs).
#[derive(Default)]
pub(super) struct Busy {
    /// When it last moved (µs, keepalive clock).
    pub(super) last_active_us: u64,
    /// Looks at whether it has gone quiet since; set while it waits.
    timer: Option<Pin<Box<Sleep>>>,
    /// The queue a small batch of the outbox moves into (session/outbox.rs), kept empty between
    /// writes so that a busy connection does not allocate one per batch.
    pub(super) spare: VecDeque<crate::broker::session::Outbound>,
    /// Bytes written since the write buffer was last empty: what it holds, for whether it is
    /// kept (pump.rs).
    pub(super) written: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Out of work: sleepy (true), or busy and not quiet for [`QUIET_US`] yet. A busy
    /// connection that has been quiet that long becomes sleepy. One timer per busy connection,
    /// looked at once a [`QUIET_US`] rather than reset on every move; only for connections that
    /// can park.
    /// An empty write buffer kept while busy (pump.rs) goes when the connection goes quiet,
    /// or (a connection that cannot park, which never dozes) whenever it waits. Its capacity
    /// says nothing: a buffer written to its end keeps its memory at capacity 0.
    pub(super) fn free_write_buffer(&mut self) {
        if self.wbuf.is_empty() {
            self.wbuf = bytes::BytesMut::new();
        }
    }

    pub(super) fn poll_doze(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.sleepiness.is_busy() {
            self.busy = None;
            self.free_write_buffer();
            return true;
        }
        loop {
            let now_us = self.shared.keepalive.now_us();
            let busy = self.busy.get_or_insert_with(|| Box::new(Busy { last_active_us: now_us, ..Busy::default() }));
            let quiet_us = now_us.saturating_sub(busy.last_active_us);
            if quiet_us >= QUIET_US {
                self.sleepiness.reset();
                self.busy = None;
                self.free_write_buffer();
                return true;
            }
            let due = Instant::now() + Duration::from_micros(QUIET_US - quiet_us);
            let timer = busy.timer.get_or_insert_with(|| Box::pin(sleep_until(due)));
            // Re-armed only once it has fired: moving a tokio timer on every message of a busy
            // client costs more than looking again a little early (p99 latency +15 %).
            if timer.is_elapsed() {
                timer.as_mut().reset(due);
            }
            if timer.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
    }

    /// Out of work, with nothing held that a task must watch: nothing half read or unwritten,
    /// no congestion timer, no signal waiting, and sleepy (park/policy.rs).
    pub(super) fn may_park(&self) -> bool {
        let wake = &self.link.wake;
        self.sleepiness.may_park()
            && self.client_id.is_some()
            && self.rbuf.is_empty()
            && self.wbuf.is_empty()
            && self.congestion.is_none()
            && !self.check_outbox
            && !self.input_due
            && !self.deliver_first
            && !wake.has_signal()
            && !wake.paused()
            && self.shared.park_group.parks()
            && self.shared.runtime.is_some()
            && park::available()
    }
}

/// A parked connection: a [`Connection`] without what only a running one needs (read and write
/// buffers, congestion, the loop's flags and timer) and without its user name (the session's,
/// taken again on resuming). Every byte here is in every idle client.
struct Dozing<T> {
    shared: Arc<Shared>,
    stream: T,
    /// The peer's address in two parts: they pack beside the small fields below, where a
    /// `SocketAddr` takes 32 bytes of its own.
    peer_ip: IpAddr,
    peer_port: u16,
    client_id: Option<Arc<str>>,
    protocol: Protocol,
    aliases: Option<Box<Aliases>>,
    identity: Option<Box<Identity>>,
    rules: Option<Arc<ListenerRules>>,
    link: Link,
    /// The server's count of this connection: kept while parked.
    ending: Option<Ending>,
    /// When it parked, in milliseconds on the keepalive clock, wrapping (compared only with a
    /// moment less than a second later): woken soon after, it is busy (park/policy.rs).
    parked_ms: u32,
}

/// Parks a connection; if it cannot be parked, it goes on as a new task.
fn park<T: SleepingStream>(conn: Connection<T::Live>, ending: Option<Ending>) {
    let Connection { shared, peer, stream, client_id, protocol, aliases, identity, rules, link, .. } = conn;
    let stream = match T::sleep(stream) {
        Ok(stream) => stream,
        Err(e) => {
            // Its socket is closed already: what a failed read would have done.
            shared.log.log(LogType::Error, format_args!("Error parking a connection: {e}."));
            abandon(&shared, client_id.as_ref(), &link);
            return;
        }
    };
    let parked_ms = now_ms(&shared);
    let (peer_ip, peer_port) = (peer.ip(), peer.port());
    let dozing = Dozing {
        shared,
        stream,
        peer_ip,
        peer_port,
        client_id,
        protocol,
        aliases,
        identity,
        rules,
        link,
        ending,
        parked_ms,
    };
    if let Err(sleeper) = park::park(Box::new(dozing)) {
        sleeper.resume();
    }
}

impl<T: SleepingStream> Asleep for Dozing<T> {
    #[cfg(unix)]
    fn fd(&self) -> std::os::fd::RawFd {
        self.stream.fd()
    }

    fn group(&self) -> u64 {
        self.shared.park_group.id
    }

    fn wake(&self) -> &Arc<Wake> {
        &self.link.wake
    }

    fn resume(self: Box<Self>) {
        let d = *self;
        let Some(runtime) = d.shared.runtime.clone() else {
            abandon(&d.shared, d.client_id.as_ref(), &d.link);
            return;
        };
        let _entered = runtime.enter();
        let input_due = d.stream.input_waiting();
        let Ok(stream) = d.stream.wake() else {
            // The runtime is shutting down: the connection ends with it.
            abandon(&d.shared, d.client_id.as_ref(), &d.link);
            return;
        };
        let (shared, client_id) = (d.shared, d.client_id);
        let slept_us = u64::from(now_ms(&shared).wrapping_sub(d.parked_ms)) * 1000;
        let username =
            client_id.as_deref().and_then(|id| shared.router().session_mut(id).and_then(|s| s.username.clone()));
        let peer = SocketAddr::new(d.peer_ip, d.peer_port);
        let mut conn = Connection::new(shared, peer, stream, d.identity, d.rules, d.link);
        (conn.client_id, conn.protocol, conn.aliases, conn.username) = (client_id, d.protocol, d.aliases, username);
        conn.sleepiness = Sleepiness::woken_after(slept_us);
        // Busy: on its task for a quiet second (`poll_doze`).
        if conn.sleepiness.is_busy() {
            conn.busy = Some(Box::new(Busy { last_active_us: conn.shared.keepalive.now_us(), ..Busy::default() }));
        }
        conn.input_due = input_due;
        runtime.spawn(ConnectionTask::connected(conn, Some(T::PARKING)).ending_opt(d.ending));
    }
}

/// A connection whose socket is gone without its task: the session lets it go.
fn abandon(shared: &Shared, client_id: Option<&Arc<str>>, link: &Link) {
    if let Some(id) = client_id {
        shared.router().disconnect(id, link.id);
    }
}

/// Now in wrapping milliseconds on the keepalive clock.
#[expect(clippy::cast_possible_truncation, reason = "wraps on purpose: only differences under a second are used")]
fn now_ms(shared: &Shared) -> u32 {
    (shared.keepalive.now_us() / 1000) as u32
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use std::mem::size_of;

    use super::Dozing;
    use crate::broker::session::Session;
    use crate::broker::wake::Wake;

    /// The bytes every idle client holds (docs/PERFORMANCE.md, "Where an idle connection's
    /// bytes go"): growing one of these grows the broker by that much per client.
    #[test]
    fn an_idle_clients_structures_stay_within_their_budget() {
        eprintln!(
            "Task<TCP> {}, Connection<TCP> {}, Dozing<TCP> {}, Session {}, Wake {}",
            size_of::<super::ConnectionTask<tokio::net::TcpStream>>(),
            size_of::<super::Connection<tokio::net::TcpStream>>(),
            size_of::<Dozing<std::net::TcpStream>>(),
            size_of::<Session>(),
            size_of::<Wake>()
        );
        // 120 and 240: with the allocator's 8-byte header, a 128- and a 256-byte block.
        assert!(size_of::<Dozing<std::net::TcpStream>>() <= 120);
        assert!(size_of::<Session>() <= 240);
        assert!(size_of::<Wake>() <= 40, "the parked token fits in what was padding");
        // tokio's task cell is this plus about 100 bytes, in steps of 128: 272 keeps it at 384.
        assert!(size_of::<super::ConnectionTask<tokio::net::TcpStream>>() <= 272);
    }
}
