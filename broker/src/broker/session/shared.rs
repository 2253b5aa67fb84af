//! A shared subscription member leaves: the messages it got through the group and has not
//! started to take are handed to another member (MQTT 5.0 section 4.8.2). That is every queued
//! one, and QoS 1 ones in flight (at least once allows the resend); a QoS 2 message in flight
//! stays with this session, which must complete it when it reconnects [MQTT-4.8.2-4].

use std::sync::Arc;

use super::{Await, Message, Session};
use crate::codec::v5::{Properties, PropertyId};
use crate::store::Change;

impl Session {
    /// Takes the messages this session holds through shared subscriptions that may go to
    /// another member, with the `$share/` filter each came through, in the order they came.
    pub fn take_shared(&mut self) -> Vec<(Arc<str>, Message)> {
        let Some(flows) = self.flows.as_mut() else { return Vec::new() };
        let mut taken = Vec::new();
        let mut done = Vec::new();
        let mut kept = std::collections::VecDeque::with_capacity(flows.inflight.len());
        for inflight in flows.inflight.drain(..) {
            match &inflight.held.share {
                Some(share) if inflight.state == Await::PubAck => {
                    flows.inflight_ids.remove(&inflight.pid);
                    done.push(inflight.held.seq);
                    taken.push((share.clone(), inflight.held.message));
                }
                _ => kept.push_back(inflight),
            }
        }
        flows.inflight = kept;
        let mut queue = std::collections::VecDeque::with_capacity(flows.queue.len());
        for held in flows.queue.drain(..) {
            match held.share {
                Some(share) => {
                    done.push(held.seq);
                    taken.push((share, held.message));
                }
                None => queue.push_back(held),
            }
        }
        flows.queue = queue;
        flows.recount();
        for seq in done {
            self.record(|client| Change::Done { client, seq });
        }
        self.release_empty_flows();
        taken.into_iter().map(|(share, message)| (share, message.without_subscription_ids())).collect()
    }
}

impl Message {
    /// This message without the Subscription Identifiers one subscriber's delivery added, to
    /// be delivered to another.
    #[must_use]
    pub fn without_subscription_ids(self) -> Self {
        if self.properties.get(PropertyId::SubscriptionIdentifier).is_none() {
            return self;
        }
        let kept = self.properties.iter().filter(|p| p.id() != PropertyId::SubscriptionIdentifier).cloned().collect();
        Self { properties: Properties::from_vec(kept), ..self }
    }
}
