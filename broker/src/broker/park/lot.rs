//! The table of parked connections and the thread that watches their sockets. One for the
//! process, shared by every broker in it (the app may run several): a parked connection is
//! found by its slot number alone, which its [`Wake`] keeps, so that nothing is allocated to
//! wake it.
//!
//! A slot is only ever taken out by the thread ("mqtt-park"): for readiness of its socket
//! (edge-triggered, so the bytes that came while it was parking are reported too), or for a
//! request from [`request_resume`] (a raise on its `Wake`). Parking and taking out hold the
//! table's lock, so a request always finds the slot filled or already empty. A request for a
//! slot that was emptied and filled again by another connection wakes that one for nothing:
//! it finds no work and parks again.
//!
//! Parking and raising meet as in Dekker's algorithm: the parking side stores its slot in the
//! `Wake`, then looks at the flags; a raiser sets a flag, then looks for a slot. With both in
//! `SeqCst` (wake.rs), at least one of them sees the other, so no signal is lost.

use std::sync::Arc;
#[cfg(unix)]
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use super::super::wake::Wake;

/// A parked connection, as the table holds it.
pub(crate) trait Asleep: Send + 'static {
    /// The socket to watch.
    #[cfg(unix)]
    fn fd(&self) -> std::os::fd::RawFd;
    /// Which broker it belongs to ([`Group`]).
    fn group(&self) -> u64;
    fn wake(&self) -> &Arc<Wake>;
    /// Back onto its broker's runtime as a task.
    fn resume(self: Box<Self>);
}

/// A broker's parked connections, as one: dropping it (the broker stopped or dropped, or its
/// runtime gone) takes every one of them out and lets none of its connections park again, so
/// that none is left holding its socket with nothing to wake it: they go on as tasks, as
/// before parking (or end with their runtime).
#[derive(Debug)]
pub(crate) struct Group(GroupId);

/// Which broker a connection belongs to, and whether its [`Group`] is gone (then it does not
/// try to park: the table would refuse it).
#[derive(Debug, Clone)]
pub(crate) struct GroupId {
    pub(crate) id: u64,
    gone: Arc<std::sync::atomic::AtomicBool>,
}

impl GroupId {
    /// No group: a broker made without a `Broker` (unit tests), whose connections never park.
    #[cfg(test)]
    pub(crate) fn none() -> Self {
        Self { id: 0, gone: Arc::new(std::sync::atomic::AtomicBool::new(true)) }
    }

    pub(crate) fn parks(&self) -> bool {
        !self.gone.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Group {
    pub(crate) fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(GroupId { id, gone: Arc::default() })
    }

    pub(crate) fn id(&self) -> GroupId {
        self.0.clone()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.0.gone.store(true, std::sync::atomic::Ordering::Relaxed);
        #[cfg(unix)]
        if let Some(lot) = LOT.get().and_then(Option::as_ref) {
            // Marked under the table's lock: a connection parking after this sees it.
            let mut table = lot.table();
            table.gone.push(self.0.id);
            let keys: Vec<u32> = table
                .slots
                .iter()
                .filter(|(_, s)| s.group() == self.0.id)
                .filter_map(|(key, _)| u32::try_from(key).ok())
                .collect();
            drop(table);
            for key in keys {
                lot.request(key);
            }
        }
    }
}

/// Whether connections can park here: a unix system whose epoll set and thread started. Where
/// they cannot, a connection must not try: it would be resumed as a new task at once, over and
/// over.
pub(crate) fn available() -> bool {
    #[cfg(unix)]
    {
        lot().is_some() && WATCHING.load(std::sync::atomic::Ordering::Acquire)
    }
    #[cfg(not(unix))]
    false
}

/// How many connections of broker `group` are parked now.
pub(crate) fn parked_in(group: u64) -> usize {
    #[cfg(unix)]
    if let Some(lot) = LOT.get().and_then(Option::as_ref) {
        return lot.table().slots.iter().filter(|(_, s)| s.group() == group).count();
    }
    let _ = group;
    0
}

/// Parks a connection: `Err` gives it back when parking is not possible here (no epoll, the
/// thread could not start, the table is full), and the caller carries on with it.
pub(crate) fn park(sleeper: Box<dyn Asleep>) -> Result<(), Box<dyn Asleep>> {
    #[cfg(unix)]
    {
        let Some(lot) = lot() else { return Err(sleeper) };
        lot.park(sleeper)
    }
    #[cfg(not(unix))]
    Err(sleeper)
}

/// Asks for the connection parked at `token` (its slot + 1) to be resumed.
pub(crate) fn request_resume(token: u32) {
    #[cfg(unix)]
    if let (Some(lot), Some(key)) = (LOT.get().and_then(Option::as_ref), token.checked_sub(1)) {
        lot.request(key);
    }
    #[cfg(not(unix))]
    let _ = token;
}

#[cfg(unix)]
static LOT: OnceLock<Option<Lot>> = OnceLock::new();

#[cfg(unix)]
const WAKER: mio::Token = mio::Token(usize::MAX);

/// The thread is watching: false once it has stopped (its epoll set failed), and nothing parks
/// from then on.
#[cfg(unix)]
static WATCHING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

#[cfg(unix)]
#[derive(Default)]
struct Table {
    slots: slab::Slab<Box<dyn Asleep>>,
    /// Brokers whose [`Group`] was dropped: their connections no longer park.
    gone: Vec<u64>,
}

#[cfg(unix)]
struct Lot {
    table: Mutex<Table>,
    registry: mio::Registry,
    /// Slots to take out, from [`request_resume`]; the thread drains them when woken.
    requests: Mutex<Vec<u32>>,
    waker: mio::Waker,
}

#[cfg(unix)]
fn lot() -> Option<&'static Lot> {
    LOT.get_or_init(|| {
        let poll = mio::Poll::new().ok()?;
        let registry = poll.registry().try_clone().ok()?;
        let waker = mio::Waker::new(poll.registry(), WAKER).ok()?;
        let lot = Lot { table: Mutex::default(), registry, requests: Mutex::default(), waker };
        std::thread::Builder::new().name("mqtt-park".into()).spawn(move || watch(poll)).ok()?;
        Some(lot)
    })
    .as_ref()
}

#[cfg(unix)]
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(unix)]
impl Lot {
    fn table(&self) -> MutexGuard<'_, Table> {
        lock(&self.table)
    }

    fn park(&self, sleeper: Box<dyn Asleep>) -> Result<(), Box<dyn Asleep>> {
        use mio::unix::SourceFd;
        let wake = sleeper.wake().clone();
        // The task's waker keeps the task's memory alive: let it go, before the slot can be
        // taken out (a resumed task registers its own waker, which this must not discard).
        wake.forget_waker();
        let mut table = self.table();
        if table.gone.contains(&sleeper.group()) {
            return Err(sleeper);
        }
        let entry = table.slots.vacant_entry();
        let Some(token) = u32::try_from(entry.key()).ok().and_then(|k| k.checked_add(1)) else {
            return Err(sleeper);
        };
        // Before the socket is watched: a raise from now on asks for this slot.
        wake.set_parked(token);
        let registered =
            self.registry.register(&mut SourceFd(&sleeper.fd()), mio::Token(entry.key()), mio::Interest::READABLE);
        if registered.is_err() {
            wake.set_parked(0);
            return Err(sleeper);
        }
        entry.insert(sleeper);
        drop(table);
        // Raised between the connection's last look and `set_parked`: nobody asked yet.
        if wake.has_signal() {
            self.request(token - 1);
        }
        Ok(())
    }

    fn request(&self, key: u32) {
        let mut requests = lock(&self.requests);
        let first = requests.is_empty();
        requests.push(key);
        drop(requests);
        if first {
            // Failing only if the eventfd is gone, with the thread: nothing else to do.
            let _ = self.waker.wake();
        }
    }

    /// Takes slot `key` out, if filled, and resumes its connection.
    fn resume(&self, key: usize) {
        use mio::unix::SourceFd;
        let mut table = self.table();
        let Some(sleeper) = table.slots.try_remove(key) else { return };
        let _ = self.registry.deregister(&mut SourceFd(&sleeper.fd()));
        sleeper.wake().set_parked(0);
        drop(table);
        // A panic in one resume must not stop the thread every parked connection waits on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sleeper.resume()));
    }
}

/// The thread: resumes the connections whose sockets became readable (data, or the peer
/// closing) and those asked for.
#[cfg(unix)]
fn watch(mut poll: mio::Poll) {
    let mut events = mio::Events::with_capacity(1024);
    let mut asked = Vec::new();
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            // Nothing more parks; the connections parked now are stranded until their
            // broker's `Group` goes, which cannot reach them either. An epoll set does not fail
            // this way in practice; say so where it would be seen.
            WATCHING.store(false, std::sync::atomic::Ordering::Release);
            eprintln!("mqtt-park: epoll failed ({e}); idle connections no longer park");
            return;
        }
        let Some(lot) = LOT.get().and_then(Option::as_ref) else { continue };
        for event in &events {
            if event.token() == WAKER {
                std::mem::swap(&mut asked, &mut *lock(&lot.requests));
                for key in asked.drain(..) {
                    lot.resume(key as usize);
                }
            } else {
                lot.resume(event.token().0);
            }
        }
    }
}
