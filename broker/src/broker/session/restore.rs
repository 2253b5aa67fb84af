//! A persistent session rebuilt from the store at startup.

use std::sync::Arc;

use super::{Await, Held, Inflight, Limits, Session};
use crate::broker::subscriptions::Sub;
use crate::codec::QoS;
use crate::store::{Journal, RestoredSession};

impl Session {
    /// Rebuilds a persistent session from the store: offline, with its messages in flight
    /// (to be resent on reconnect) and queued, in their original order.
    pub fn restore(client_id: Arc<str>, saved: RestoredSession, limits: Arc<Limits>, journal: Journal) -> Self {
        let memory = limits.memory;
        let mut s = Self::new(client_id, false, limits);
        s.username = saved.username;
        s.subscriptions = saved.subscriptions.into_iter().map(|(f, options, id)| (f, Sub { options, id })).collect();
        for m in saved.messages {
            s.last_seq = s.last_seq.max(m.seq);
            let charge = super::Memory::charge(memory, m.message.payload.len());
            let held = Held { seq: m.seq, message: m.message, share: None, _charge: charge };
            match m.pid {
                Some(pid) => {
                    let state = match (held.message.qos, m.received) {
                        (_, true) => Await::PubComp,
                        (QoS::ExactlyOnce, false) => Await::PubRec,
                        _ => Await::PubAck,
                    };
                    s.last_pid = pid;
                    s.flows_mut().push_inflight(Inflight { pid, held, state });
                }
                None => s.flows_mut().push_queued(held),
            }
        }
        s.flows_mut().incoming_qos2 = saved.incoming_qos2.into_iter().collect();
        s.release_empty_flows();
        s.journal = Some(journal);
        s
    }
}
