//! What wakes a connection task, and what the rest of the broker tells it: its outbox has
//! packets, it was taken over, there is room again for what it publishes, its keepalive ran
//! out, the broker is shutting down. One small allocation per connection holding one waker and
//! a few flags, so that an idle connection's task waits on its socket and this, and carries no
//! timer or waiter list of its own.

use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::task::Context;

use atomic_waker::AtomicWaker;

use super::{held, park};

/// Something was sent its way (outbox, room, takeover); cleared when the connection looks.
const NOTIFIED: u8 = 1;
/// The keepalive timer found the connection silent for 1.5 keepalives.
const EXPIRED: u8 = 2;
/// The connection stopped reading on purpose (back-pressure): silence is not the client's.
const PAUSED: u8 = 4;
/// The broker is shutting down.
const SHUTDOWN: u8 = 8;
/// A new connection with the same client id took the session over [MQTT-3.1.4-2].
const TAKEN_OVER: u8 = 16;
/// What the connection must act on (PAUSED is a state, not a signal).
const SIGNALS: u8 = NOTIFIED | EXPIRED | SHUTDOWN | TAKEN_OVER;

#[derive(Debug, Default)]
pub struct Wake {
    waker: AtomicWaker,
    flags: AtomicU8,
    /// When the connection last received bytes, in microseconds on the keepalive clock.
    last_seen: AtomicU64,
    /// While the connection is parked without a task: its slot in the parking lot + 1, asked
    /// for on every signal (park/lot.rs); 0 otherwise. Fits in what was padding.
    parked: AtomicU32,
}

impl Wake {
    /// Wakes the connection; a wake while it is busy is kept until it next looks.
    pub fn notify_one(&self) {
        // Already raised: the wake that raised it has reached the task, which takes the flag
        // on a later turn. A fan-out notifies a subscriber once per message; one wake will do.
        // Looked at before it is set: a write per message made the flag's cache line change
        // cores at every PUBLISH while the subscriber's task ran on the other core. A flag
        // seen raised stays raised until the task takes it, which it then acts on.
        if self.flags.load(Ordering::SeqCst) & NOTIFIED != 0 {
            return;
        }
        if self.flags.fetch_or(NOTIFIED, Ordering::SeqCst) & NOTIFIED == 0 {
            self.wake_task();
            self.resume_if_parked();
        }
    }

    /// Wakes the task, once the router is unlocked if this thread holds it (held.rs).
    fn wake_task(&self) {
        if let Some(waker) = self.waker.take() {
            held::wake(waker);
        }
    }

    fn resume_if_parked(&self) {
        // SeqCst, as the flag set before it and the parking side's store and load
        // (park/lot.rs): one of the two sides sees the other.
        let token = self.parked.load(Ordering::SeqCst);
        if token != 0 {
            park::request_resume(token);
        }
    }

    /// Parked at `token` (a slot + 1), or no longer parked (0).
    pub(crate) fn set_parked(&self, token: u32) {
        self.parked.store(token, Ordering::SeqCst);
    }

    /// Lets the task's waker go (the task is ending to park).
    pub(crate) fn forget_waker(&self) {
        drop(self.waker.take());
    }

    /// A signal is waiting to be acted on.
    pub(crate) fn has_signal(&self) -> bool {
        self.flags.load(Ordering::SeqCst) & SIGNALS != 0
    }

    /// Registers the task to be woken by the next signal of any kind. Done on every turn, before
    /// the flags are looked at, so that no signal raised in between is missed: shutdown and the
    /// keepalive must reach a connection even while it waits for a client that does not read.
    pub fn register(&self, cx: &Context<'_>) {
        self.waker.register(cx.waker());
    }

    /// Takes a pending notification, if any.
    pub fn take_notified(&self) -> bool {
        self.flags.fetch_and(!NOTIFIED, Ordering::AcqRel) & NOTIFIED != 0
    }

    fn raise(&self, flag: u8) {
        self.flags.fetch_or(flag, Ordering::SeqCst);
        self.wake_task();
        self.resume_if_parked();
    }

    fn is(&self, flag: u8) -> bool {
        self.flags.load(Ordering::Acquire) & flag != 0
    }

    /// The connection received bytes at `now_us`.
    pub fn seen(&self, now_us: u64) {
        self.last_seen.store(now_us, Ordering::Relaxed);
    }

    pub fn last_seen(&self) -> u64 {
        self.last_seen.load(Ordering::Relaxed)
    }

    pub fn set_paused(&self, paused: bool) {
        if paused {
            self.flags.fetch_or(PAUSED, Ordering::Relaxed);
        } else {
            self.flags.fetch_and(!PAUSED, Ordering::Relaxed);
        }
    }

    pub fn paused(&self) -> bool {
        self.is(PAUSED)
    }

    pub fn expire(&self) {
        self.raise(EXPIRED);
    }

    pub fn expired(&self) -> bool {
        self.is(EXPIRED)
    }

    pub fn take_over(&self) {
        self.raise(TAKEN_OVER);
    }

    pub fn taken_over(&self) -> bool {
        self.is(TAKEN_OVER)
    }

    pub fn shut_down(&self) {
        self.raise(SHUTDOWN);
    }

    pub fn shutting_down(&self) -> bool {
        self.is(SHUTDOWN)
    }
}
