//! One timer for every connection's keepalive [MQTT-3.1.2-24], instead of one per connection
//! task (a tokio `Sleep` is 112 bytes of every idle client's task, and re-arming it on every
//! read costs more than an atomic store).
//!
//! Connections only record when they last received bytes ([`Wake::seen`]). The timer keeps
//! each watched connection once in a heap, ordered by the earliest moment it could expire; when
//! that moment comes it looks at the connection's last read and either expires it or puts it
//! back at its real deadline. So a connection costs one heap entry, and the timer does work
//! once per keepalive period per connection, however busy the connection is.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::{Instant, sleep_until};

use super::wake::Wake;

#[derive(Debug)]
pub struct Keepalive {
    /// The zero of the microsecond clock connections record their reads on.
    epoch: Instant,
    due: Mutex<BinaryHeap<Reverse<Due>>>,
    /// A connection was added whose deadline may be earlier than the one the timer waits for.
    added: Notify,
}

/// One watched connection.
#[derive(Debug)]
struct Due {
    /// The earliest moment (µs) it could expire: checked then, not before.
    at: u64,
    /// 1.5 times its keepalive, in µs.
    limit: u64,
    /// Weak: a connection that ends leaves its entry to be dropped at `at`.
    wake: Weak<Wake>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.cmp(&other.at)
    }
}

impl Keepalive {
    pub fn new() -> Self {
        Self { epoch: Instant::now(), due: Mutex::new(BinaryHeap::new()), added: Notify::new() }
    }

    /// Now on the clock of [`Wake::seen`].
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Starts watching a connection that must receive something every `limit` (1.5 times its
    /// keepalive), counting from now.
    pub fn watch(&self, wake: &Arc<Wake>, limit: Duration) {
        let now = self.now_us();
        wake.seen(now);
        let limit = u64::try_from(limit.as_micros()).unwrap_or(u64::MAX);
        let at = now.saturating_add(limit);
        let mut due = self.lock();
        let earliest = due.peek().is_none_or(|Reverse(d)| at < d.at);
        due.push(Reverse(Due { at, limit, wake: Arc::downgrade(wake) }));
        drop(due);
        if earliest {
            self.added.notify_one();
        }
    }

    /// Expires the connections silent for their limit at `now`; returns when to look again.
    fn expire_due(&self, now: u64) -> Option<u64> {
        let mut due = self.lock();
        while let Some(Reverse(d)) = due.peek() {
            if d.at > now {
                return Some(d.at);
            }
            let Some(Reverse(d)) = due.pop() else { break };
            let Some(wake) = d.wake.upgrade() else { continue };
            let at = if wake.paused() {
                // Not reading on the broker's account: the client is not silent.
                now.saturating_add(d.limit)
            } else {
                wake.last_seen().saturating_add(d.limit)
            };
            if at <= now {
                wake.expire();
            } else {
                due.push(Reverse(Due { at, ..d }));
            }
        }
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BinaryHeap<Reverse<Due>>> {
        self.due.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many connections are watched (ended ones included until their entry comes up).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The timer's task: sleeps until the earliest deadline or a new connection, until `stop`.
pub(crate) async fn run(keepalive: Arc<Keepalive>, mut stop: watch::Receiver<bool>) {
    loop {
        let next = keepalive.expire_due(keepalive.now_us());
        let wake_at = next.map(|us| keepalive.epoch + Duration::from_micros(us));
        tokio::select! {
            _ = stop.changed() => return,
            () = keepalive.added.notified() => {}
            () = sleep_until(wake_at.unwrap_or_else(Instant::now)), if wake_at.is_some() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(3);

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_expires_at_its_limit_and_not_before() {
        let k = Keepalive::new();
        let wake = Arc::new(Wake::default());
        k.watch(&wake, LIMIT);
        tokio::time::advance(Duration::from_millis(2_999)).await;
        assert_eq!(k.expire_due(k.now_us()), Some(3_000_000));
        assert!(!wake.expired());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(k.expire_due(k.now_us()), None);
        assert!(wake.expired());
        assert_eq!(k.len(), 0, "an expired connection is no longer watched");
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_moves_the_deadline() {
        let k = Keepalive::new();
        let wake = Arc::new(Wake::default());
        k.watch(&wake, LIMIT);
        tokio::time::advance(Duration::from_secs(2)).await;
        wake.seen(k.now_us());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(k.expire_due(k.now_us()), Some(5_000_000), "checked at 3 s, due at 2 + 3 s");
        assert!(!wake.expired());
        tokio::time::advance(Duration::from_secs(2)).await;
        k.expire_due(k.now_us());
        assert!(wake.expired());
    }

    #[tokio::test(start_paused = true)]
    async fn a_paused_connection_does_not_expire_and_an_ended_one_is_dropped() {
        let k = Keepalive::new();
        let paused = Arc::new(Wake::default());
        let ended = Arc::new(Wake::default());
        k.watch(&paused, LIMIT);
        k.watch(&ended, LIMIT);
        drop(ended);
        paused.set_paused(true);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(k.expire_due(k.now_us()), Some(13_000_000));
        assert!(!paused.expired());
        assert_eq!(k.len(), 1);
    }
}
