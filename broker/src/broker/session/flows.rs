//! A session's QoS 1/2 state, allocated only while something is held: thousands of idle
//! clients (or clients that only get QoS 0) each carry a pointer instead of four collections.

use std::collections::VecDeque;

use super::{Held, Inflight, Session};
use crate::broker::FastSet;
use crate::codec::PacketId;

/// A session's QoS 1/2 state.
#[derive(Debug, Default)]
pub(super) struct Flows {
    /// QoS 1/2 messages sent and not yet fully acknowledged, in the order they were sent.
    pub(super) inflight: VecDeque<Inflight>,
    /// The ids in `inflight`, so that choosing a free id does not scan the window.
    pub(super) inflight_ids: FastSet<PacketId>,
    /// Messages waiting for room in the in-flight window (or for the client to reconnect).
    pub(super) queue: VecDeque<Held>,
    /// QoS 2 messages received whose PUBREL has not come yet: a resent PUBLISH with one of
    /// these ids is a duplicate and is not routed again (exactly once).
    pub(super) incoming_qos2: FastSet<PacketId>,
    /// Payload bytes in `inflight` and in `queue`, for the byte limits (budget.rs); kept by
    /// the methods that add and take messages there.
    pub(super) inflight_bytes: usize,
    pub(super) queued_bytes: usize,
}

impl Flows {
    fn is_empty(&self) -> bool {
        self.inflight.is_empty() && self.queue.is_empty() && self.incoming_qos2.is_empty()
    }
}

impl Session {
    pub(super) fn flows_mut(&mut self) -> &mut Flows {
        self.flows.get_or_insert_with(Box::default)
    }

    /// Frees the QoS state once nothing is held (a burst's queue capacity included).
    pub(super) fn release_empty_flows(&mut self) {
        if self.flows.as_ref().is_some_and(|f| f.is_empty()) {
            self.flows = None;
        }
    }

    /// Messages waiting in the queue.
    pub(super) fn queued(&self) -> usize {
        self.flows.as_ref().map_or(0, |f| f.queue.len())
    }
}
