//! SUBSCRIBE and UNSUBSCRIBE: the subscription tree, the session's list, the store, and the
//! retained messages a new subscription receives.

use super::{Routed, Router};
use crate::broker::session::{Delivery, Message};
use crate::broker::subscriptions::Sub;
use crate::codec::v5::{Properties, Property, PropertyId, ReasonCode};
use crate::codec::{Packet, RetainHandling, SubAck, SubAckCode, SubOptions, Subscribe, UnsubAck, Unsubscribe};
use crate::store::Change;

impl Router {
    /// Subscribes, answers SUBACK, then sends the retained messages of each filter with
    /// RETAIN=1, also when a subscription is replaced [MQTT-3.8.4-3], as its Retain Handling
    /// says (MQTT 5.0: 1 only for a new subscription, 2 never; none for a shared subscription).
    /// A filter the ACL gives no read access to gets 0x80 (0x87 Not authorized in MQTT 5.0)
    /// and is not stored. Returns what was routed and the codes.
    pub fn subscribe(&mut self, client_id: &str, s: &Subscribe) -> (Routed, Vec<SubAckCode>) {
        let mut routed = Routed::default();
        // Where the session sits, kept beside each of its filters for routing (sessions.rs).
        let slot = self.sessions.slot_of(client_id);
        let Some(session) = self.sessions.get_mut(client_id) else { return (routed, Vec::new()) };
        let id = session.client_id.clone();
        let sub_id = match s.properties.get(PropertyId::SubscriptionIdentifier) {
            Some(Property::SubscriptionIdentifier(id)) => Some(*id),
            _ => None,
        };
        let mut codes = Vec::with_capacity(s.filters.len());
        let mut retained_for = Vec::with_capacity(s.filters.len());
        for (filter, options) in &s.filters {
            let bridged = SubOptions { no_local: true, retain_as_published: true, ..*options };
            let options = if session.bridge { &bridged } else { options };
            let qos = options.qos;
            if !session.may_subscribe(filter) {
                codes.push(SubAckCode::Failure(ReasonCode::NotAuthorized));
                continue;
            }
            let sub = Sub { options: *options, id: sub_id };
            let existed = session.subscriptions.insert(filter.clone(), sub).is_some();
            self.subscriptions.insert_at(filter.as_str(), &id, sub, slot);
            if !session.clean
                && let Some(journal) = &self.journal
            {
                journal.record(Change::Subscribe {
                    client: id.clone(),
                    filter: filter.clone(),
                    options: *options,
                    id: sub_id,
                });
            }
            codes.push(SubAckCode::Granted(qos));
            let send_retained = match options.retain_handling {
                RetainHandling::OnSubscribe => true,
                RetainHandling::OnNewSubscription => !existed,
                RetainHandling::Never => false,
            };
            if send_retained && filter.share().is_none() {
                retained_for.push((filter, sub));
            }
        }
        session.send(Packet::SubAck(SubAck { pid: s.pid, properties: Properties::default(), codes: codes.clone() }));
        let upgrade = self.upgrade_outgoing_qos;
        for (filter, sub) in retained_for {
            // Only the part of the store under the filter's literal prefix is looked at.
            // With check_retain_source, only those whose publisher may still publish there.
            let source_acl = self.acl.as_deref().filter(|_| self.limits.check_retain_source);
            let matching = super::retained::matching(&self.retained, filter)
                .filter(|r| super::retained::source_may_publish(source_acl, r))
                .map(|r| &r.message);
            // An expired retained message waits for the sweep to delete it: it is not sent.
            let readable: Vec<Message> =
                matching.filter(|m| !m.expired_now() && session.may_read(&m.topic)).cloned().collect();
            let ids: Vec<_> = sub.id.into_iter().collect();
            for message in &readable {
                match session.deliver(message, Self::outgoing_qos(upgrade, message.qos, sub.options.qos), true, &ids) {
                    Delivery::Dropped => routed.dropped += 1,
                    _ => routed.delivered += 1,
                }
            }
        }
        (routed, codes)
    }

    /// Unsubscribes and answers UNSUBACK (also for filters that were not subscribed; MQTT 5.0
    /// says which with 0x11 No subscription existed).
    pub fn unsubscribe(&mut self, client_id: &str, u: &Unsubscribe) {
        let Some(session) = self.sessions.get_mut(client_id) else { return };
        let mut reasons = Vec::with_capacity(u.filters.len());
        for filter in &u.filters {
            if session.subscriptions.remove(filter).is_some() {
                self.subscriptions.remove(filter.as_str(), client_id);
                if !session.clean
                    && let Some(journal) = &self.journal
                {
                    journal.record(Change::Unsubscribe { client: session.client_id.clone(), filter: filter.clone() });
                }
                reasons.push(ReasonCode::Success);
            } else {
                reasons.push(ReasonCode::NoSubscriptionExisted);
            }
        }
        let ack = UnsubAck { pid: u.pid, properties: Properties::default(), reasons };
        session.send(Packet::UnsubAck(ack));
    }
}
