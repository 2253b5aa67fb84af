//! Routing a PUBLISH: the retained store, then every matching subscriber once.

use std::sync::Arc;

use super::{Routed, Router};
use crate::broker::session::{Delivery, Link, Message};

impl Router {
    /// Routes an application message: retained store, then every matching subscriber once, at
    /// the lower of the message's QoS and its highest matching subscription QoS.
    /// With an ACL, only subscribers allowed to read the topic receive it.
    pub fn publish(&mut self, message: &Message) -> Routed {
        self.publish_from(message, None)
    }

    /// [`Self::publish`] for a client's PUBLISH: subscribers it leaves over their limits take
    /// the message and note `from` as waiting for room; [`Self::take_congested`] names them.
    pub fn publish_from(&mut self, message: &Message, from: Option<&Link>) -> Routed {
        self.congested.clear();
        if message.retain {
            if message.payload.is_empty() {
                // A zero-byte retained message clears the topic [MQTT-3.3.1-10].
                self.retained.remove(&message.topic);
                self.record_retained(&message.topic, None);
            } else {
                self.retained.insert(message.topic.clone(), message.clone());
                self.record_retained(&message.topic, Some(message));
            }
        }
        let mut targets = std::mem::take(&mut self.scratch);
        self.subscriptions.matches(message.topic.as_str(), &mut targets);
        let mut routed = Routed::default();
        for (client, sub_qos) in targets.drain() {
            let Some(session) = self.sessions.get_mut(&client) else { continue };
            if !session.may_read(&message.topic) {
                continue;
            }
            // Live subscribers get RETAIN=0 [MQTT-3.3.1-9].
            match session.deliver(message, message.qos.min(sub_qos), false) {
                Delivery::Dropped => routed.dropped += 1,
                Delivery::Backlogged => {
                    routed.delivered += 1;
                    if let Some(link) = from {
                        session.wait_for_room(&link.wake);
                        self.congested.push(client);
                    }
                }
                Delivery::Sent | Delivery::Queued => routed.delivered += 1,
            }
        }
        self.scratch = targets;
        routed
    }

    /// The subscribers the last [`Self::publish_from`] left congested.
    pub fn take_congested(&mut self) -> Vec<Arc<str>> {
        std::mem::take(&mut self.congested)
    }
}
