//! Back-pressure: when a live subscriber's queue is full, the publishers feeding it wait (their
//! connections stop reading) instead of the broker dropping messages it has acknowledged.
//! A subscriber that makes no progress for a while is marked stalled; from then on, until it
//! drains, messages over its limits are dropped as Mosquitto drops them, so that one client
//! that stopped reading cannot hold up everyone else.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Session;
use crate::broker::wake::Wake;

/// How long a backlogged subscriber may go without any write before it counts as stalled.
pub const STALL: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(super) struct Pressure {
    /// Went over a limit, and has not yet drained to half of it.
    backlogged: bool,
    /// No progress for [`STALL`] while backlogged: over-limit messages are dropped.
    stalled: bool,
    /// The wake of each publisher connection waiting for room here.
    waiters: Vec<Arc<Wake>>,
    /// When the connection last wrote packets of this session.
    last_progress: Option<Instant>,
}

impl Session {
    /// A limit is reached: take the message anyway (true) unless the client is stalled or
    /// offline, in which case the caller drops it.
    pub(super) fn accept_over_limit(&mut self) -> bool {
        if self.pressure.stalled || !self.is_online() {
            return false;
        }
        self.pressure.backlogged = true;
        true
    }

    /// Publishers feeding this session should wait.
    pub fn congested(&self) -> bool {
        self.pressure.backlogged && !self.pressure.stalled && self.is_online()
    }

    /// Wakes `wake` (a publisher's connection) once there is room again.
    pub fn wait_for_room(&mut self, wake: &Arc<Wake>) {
        if !self.pressure.waiters.iter().any(|w| Arc::ptr_eq(w, wake)) {
            self.pressure.waiters.push(wake.clone());
        }
    }

    /// The connection wrote packets of this session.
    pub fn progressed(&mut self, now: Instant) {
        self.pressure.last_progress = Some(now);
    }

    /// Whether the session wrote nothing during the [`STALL`] before `now`.
    pub fn idle_for_stall(&self, now: Instant) -> bool {
        self.pressure.last_progress.is_none_or(|t| t + STALL <= now)
    }

    /// Stops holding publishers back for this session until it drains.
    pub fn mark_stalled(&mut self) {
        self.pressure.stalled = true;
        self.release_waiters();
    }

    /// Ends the backlog once it is down to half the limits, and wakes the waiting publishers.
    /// Half, not just under the limit: publishers then resume for a batch, not a message.
    pub(super) fn relieve(&mut self) {
        if !self.pressure.backlogged {
            return;
        }
        let cap = self.limits.max_queued + self.limits.max_inflight;
        if self.queue_half_empty() && self.outbox.len() <= cap / 2 {
            self.pressure.backlogged = false;
            self.pressure.stalled = false;
            self.release_waiters();
        }
    }

    /// Wakes every waiting publisher (the connection ended, or there is room).
    pub fn release_waiters(&mut self) {
        for wake in self.pressure.waiters.drain(..) {
            wake.notify_one();
        }
    }
}
