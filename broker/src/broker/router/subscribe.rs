//! SUBSCRIBE and UNSUBSCRIBE: the subscription tree, the session's list, the store, and the
//! retained messages a new subscription receives.

use super::{Routed, Router};
use crate::broker::session::{Delivery, Message};
use crate::codec::{Packet, PacketId, SubAck, SubAckCode, SubOptions, TopicFilter, TopicName, UnsubAck};
use crate::store::Change;

impl Router {
    /// Subscribes, answers SUBACK, then sends the retained messages of each filter with
    /// RETAIN=1, also when a subscription is replaced [MQTT-3.8.4-3]. A filter the ACL gives
    /// no read access to gets 0x80 and is not stored. Returns what was routed and the codes.
    pub fn subscribe(
        &mut self,
        client_id: &str,
        pid: PacketId,
        filters: &[(TopicFilter, SubOptions)],
    ) -> (Routed, Vec<SubAckCode>) {
        let mut routed = Routed::default();
        let Some(session) = self.sessions.get_mut(client_id) else { return (routed, Vec::new()) };
        let id = session.client_id.clone();
        let mut codes = Vec::with_capacity(filters.len());
        let mut granted = Vec::with_capacity(filters.len());
        for (filter, options) in filters {
            let qos = options.qos;
            if !session.may_subscribe(filter) {
                codes.push(SubAckCode::Failure(crate::codec::v5::ReasonCode::NotAuthorized));
                continue;
            }
            session.subscriptions.insert(filter.clone(), *options);
            self.subscriptions.insert(filter.as_str(), &id, qos);
            if !session.clean
                && let Some(journal) = &self.journal
            {
                journal.record(Change::Subscribe { client: id.clone(), filter: filter.clone(), qos });
            }
            codes.push(SubAckCode::Granted(qos));
            granted.push((filter, qos));
        }
        session.send(Packet::SubAck(SubAck { pid, properties: Default::default(), codes: codes.clone() }));
        for (filter, qos) in granted {
            let matching: Box<dyn Iterator<Item = &Message>> = if filter.has_wildcards() {
                Box::new(self.retained.values().filter(|m| filter.matches(&m.topic)))
            } else {
                Box::new(TopicName::new(filter.as_str()).ok().and_then(|t| self.retained.get(&t)).into_iter())
            };
            let readable: Vec<Message> = matching.filter(|m| session.may_read(&m.topic)).cloned().collect();
            for message in &readable {
                match session.deliver(message, message.qos.min(qos), true) {
                    Delivery::Dropped => routed.dropped += 1,
                    _ => routed.delivered += 1,
                }
            }
        }
        (routed, codes)
    }

    /// Unsubscribes and answers UNSUBACK (also for filters that were not subscribed).
    pub fn unsubscribe(&mut self, client_id: &str, pid: PacketId, filters: &[TopicFilter]) {
        let Some(session) = self.sessions.get_mut(client_id) else { return };
        for filter in filters {
            if session.subscriptions.remove(filter).is_some() {
                self.subscriptions.remove(filter.as_str(), client_id);
                if !session.clean
                    && let Some(journal) = &self.journal
                {
                    journal.record(Change::Unsubscribe { client: session.client_id.clone(), filter: filter.clone() });
                }
            }
        }
        session.send(Packet::UnsubAck(UnsubAck::new(pid)));
    }
}
