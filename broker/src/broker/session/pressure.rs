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

/// Back-pressure on one session: `None` unless it is backlogged (an idle client carries a
/// pointer, not a list and a clock).
#[derive(Debug, Default)]
pub(super) struct Pressure(Option<Box<Backlog>>);

/// A session over a limit that has not yet drained to half of it.
#[derive(Debug)]
struct Backlog {
    /// No progress for [`STALL`]: over-limit messages are dropped.
    stalled: bool,
    /// The wake of each publisher connection waiting for room here.
    waiters: Vec<Arc<Wake>>,
    /// When the connection last wrote packets of this session (or the backlog began).
    last_progress: Instant,
}

impl Session {
    /// A limit is reached: take the message anyway (true) unless the client is stalled or
    /// offline, in which case the caller drops it.
    pub(super) fn accept_over_limit(&mut self) -> bool {
        if self.pressure.0.as_ref().is_some_and(|b| b.stalled) || !self.is_online() {
            return false;
        }
        if self.pressure.0.is_none() {
            let backlog = Backlog { stalled: false, waiters: Vec::new(), last_progress: Instant::now() };
            self.pressure.0 = Some(Box::new(backlog));
        }
        true
    }

    /// Publishers feeding this session should wait.
    pub fn congested(&self) -> bool {
        self.pressure.0.as_ref().is_some_and(|b| !b.stalled) && self.is_online()
    }

    /// Wakes `wake` (a publisher's connection) once there is room again (at once if there is).
    pub fn wait_for_room(&mut self, wake: &Arc<Wake>) {
        match &mut self.pressure.0 {
            Some(b) => {
                if !b.waiters.iter().any(|w| Arc::ptr_eq(w, wake)) {
                    b.waiters.push(wake.clone());
                }
            }
            None => wake.notify_one(),
        }
    }

    /// The connection wrote packets of this session.
    pub fn progressed(&mut self, now: Instant) {
        if let Some(b) = &mut self.pressure.0 {
            b.last_progress = now;
        }
    }

    /// Whether the session wrote nothing during the [`STALL`] before `now`.
    pub fn idle_for_stall(&self, now: Instant) -> bool {
        self.pressure.0.as_ref().is_none_or(|b| b.last_progress + STALL <= now)
    }

    /// Stops holding publishers back for this session until it drains.
    pub fn mark_stalled(&mut self) {
        if let Some(b) = &mut self.pressure.0 {
            b.stalled = true;
        }
        self.release_waiters();
    }

    /// Ends the backlog once it is down to half the limits, and wakes the waiting publishers.
    /// Half, not just under the limit: publishers then resume for a batch, not a message.
    pub(super) fn relieve(&mut self) {
        if self.pressure.0.is_none() {
            return;
        }
        let cap = self.limits.max_queued + self.limits.max_inflight;
        if self.queue_half_empty() && self.outbox_packets() <= cap / 2 {
            self.release_waiters();
            self.pressure.0 = None;
        }
    }

    /// Wakes every waiting publisher (the connection ended, or there is room).
    pub fn release_waiters(&mut self) {
        if let Some(b) = &mut self.pressure.0 {
            for wake in b.waiters.drain(..) {
                wake.notify_one();
            }
        }
    }
}
