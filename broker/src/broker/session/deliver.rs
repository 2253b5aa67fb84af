//! Delivering a message to a session: straight into the outbox (QoS 0 online), into the
//! in-flight window, or into the queue, within the client's and the broker's limits.

use std::num::NonZeroU32;
use std::sync::Arc;

use super::encoded::EncodedOnce;
use super::{Delivery, Held, Message, Session};
use crate::codec::{Packet, Publish, QoS, QosPid};
use crate::store::Change;

impl Session {
    pub(super) fn hold(&mut self, message: Message, share: Option<&Arc<str>>) -> Held {
        self.last_seq += 1;
        let charge = super::Memory::charge(self.limits.memory, message.payload.len());
        let held = Held { seq: self.last_seq, message: message.arrived(), share: share.cloned(), _charge: charge };
        self.record(|client| Change::Stored { client, seq: held.seq, message: held.message.clone() });
        held
    }

    /// Delivers a message at `qos` (already the minimum of the publish and subscription QoS),
    /// with the Subscription Identifiers `ids` of the subscriptions it matched (MQTT 5.0).
    pub fn deliver(&mut self, message: &Message, qos: QoS, retain: bool, ids: &[NonZeroU32]) -> Delivery {
        self.deliver_via(message, qos, retain, ids, None)
    }

    /// [`Self::deliver`] for one of a routed message's subscribers: a QoS 0 PUBLISH that goes
    /// out alike to several of them is encoded once, in `once` (encoded.rs).
    pub fn deliver_routed(
        &mut self,
        message: &Message,
        qos: QoS,
        retain: bool,
        ids: &[NonZeroU32],
        once: &mut EncodedOnce,
    ) -> Delivery {
        self.deliver_with(message, qos, retain, ids, None, Some(once))
    }

    /// [`Self::deliver`] through the shared subscription `share` (its `$share/` filter).
    pub fn deliver_via(
        &mut self,
        message: &Message,
        qos: QoS,
        retain: bool,
        ids: &[NonZeroU32],
        share: Option<&Arc<str>>,
    ) -> Delivery {
        self.deliver_with(message, qos, retain, ids, share, None)
    }

    fn deliver_with(
        &mut self,
        message: &Message,
        qos: QoS,
        retain: bool,
        ids: &[NonZeroU32],
        share: Option<&Arc<str>>,
        once: Option<&mut EncodedOnce>,
    ) -> Delivery {
        let with_ids;
        let message = if ids.is_empty() || !self.protocol.is_v5() {
            message
        } else {
            with_ids = message.with_subscription_ids(ids);
            &with_ids
        };
        if self.client.max_packet_size != 0 && self.too_large_for_client(message, qos) {
            return Delivery::Dropped;
        }
        if qos == QoS::AtMostOnce && self.is_online() {
            // QoS 0 to a client that does not read is bounded by the queue limit too (a
            // persistent session's packets wait in the journal first, for a few ms).
            let cap = self.limits.max_queued + self.limits.max_inflight;
            let over = self.limits.max_queued != 0 && self.outbox_packets() >= cap;
            if over && !self.accept_over_limit() {
                return Delivery::Dropped;
            }
            let delivery = if over { Delivery::Backlogged } else { Delivery::Sent };
            if let Some(once) = once
                && self.takes_shared(message, ids)
                && once.give(self, message, retain)
            {
                return delivery;
            }
            // Straight into a packet, with no copy of the message first.
            let publish = Publish {
                dup: false,
                qos_pid: QosPid::AtMostOnce,
                retain,
                topic: message.topic.clone(),
                payload: message.payload.clone(),
                properties: message.properties_now(),
            };
            self.send(Packet::Publish(publish));
            return delivery;
        }
        let message = Message { qos, retain, ..message.clone() };
        if qos == QoS::AtMostOnce {
            if !self.queue_qos0_offline() || self.queue_full() {
                return Delivery::Dropped;
            }
            let held = self.hold(message, share);
            self.flows_mut().push_queued(held);
            return Delivery::Queued;
        }
        // Messages keep their order: nothing overtakes what is already queued.
        if self.is_online() && !self.window_full() && self.queued() == 0 {
            let held = self.hold(message, share);
            self.send_inflight(held);
            return Delivery::Sent;
        }
        let over = self.queue_full();
        if over && !self.accept_over_limit() {
            return Delivery::Dropped;
        }
        let held = self.hold(message, share);
        self.flows_mut().push_queued(held);
        if over { Delivery::Backlogged } else { Delivery::Queued }
    }

    /// Whether this connection receives a QoS 0 `message` exactly as another one of its
    /// protocol family would: no journal to pass it through, no mount point to take off, no
    /// topic alias or Subscription Identifier to add, no expiry interval to count down.
    fn takes_shared(&self, message: &Message, ids: &[NonZeroU32]) -> bool {
        let v5 = self.protocol.is_v5();
        self.journal.is_none()
            && self.mount.is_none()
            && message.expires_at.is_none()
            && !(v5 && (self.client.topic_alias_maximum > 0 || !ids.is_empty()))
    }

    fn queue_qos0_offline(&self) -> bool {
        self.limits.queue_qos0 && !self.clean
    }
}
