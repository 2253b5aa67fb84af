//! Which topic a PUBACK or PUBREC answers. rumqttc reports a sent PUBLISH by packet id only, in
//! the order it takes requests; this pairs each id with the topic handed to it. Pure state.

use std::collections::{HashMap, VecDeque};

use super::Qos;

/// Publishes handed to rumqttc, then in flight by packet id until acknowledged.
#[derive(Debug, Default)]
pub struct PublishNames {
    /// Handed to rumqttc, not yet reported as sent; oldest first.
    queued: VecDeque<(String, Qos)>,
    /// Sent with a packet id, waiting for PUBACK or PUBREC.
    in_flight: HashMap<u16, (String, Qos)>,
    /// A publish rumqttc holds back because its packet id was still in flight.
    collided: Option<(u16, String, Qos)>,
}

impl PublishNames {
    pub fn handed(&mut self, topic: String, qos: Qos) {
        self.queued.push_back((topic, qos));
    }

    /// rumqttc sent a PUBLISH with `pkid` (0 for QoS 0).
    pub fn sent(&mut self, pkid: u16) {
        if pkid != 0 && self.in_flight.contains_key(&pkid) {
            return; // sent again after a reconnect: already known
        }
        let next = match self.collided.take() {
            Some((id, topic, qos)) if id == pkid => Some((topic, qos)),
            other => {
                self.collided = other;
                self.queued.pop_front()
            }
        };
        if let (Some(entry), true) = (next, pkid != 0) {
            self.in_flight.insert(pkid, entry);
        }
    }

    /// rumqttc holds the next publish back until `pkid` is acknowledged.
    pub fn collided(&mut self, pkid: u16) {
        if let Some((topic, qos)) = self.queued.pop_front() {
            self.collided = Some((pkid, topic, qos));
        }
    }

    /// The topic and QoS of the publish `pkid` acknowledges, if it was ours.
    pub fn acked(&mut self, pkid: u16) -> Option<(String, Qos)> {
        self.in_flight.remove(&pkid)
    }

    /// The broker kept no session: nothing in flight or queued in rumqttc will be sent.
    pub fn forget(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_are_named_by_the_topic_sent_with_their_id() {
        let mut n = PublishNames::default();
        n.handed("a".into(), Qos::AtMostOnce);
        n.handed("b".into(), Qos::AtLeastOnce);
        n.handed("c".into(), Qos::ExactlyOnce);
        n.sent(0);
        n.sent(1);
        n.collided(1);
        assert_eq!(n.acked(1), Some(("b".into(), Qos::AtLeastOnce)));
        n.sent(1);
        n.sent(1); // a resend after a reconnect changes nothing
        assert_eq!(n.acked(1), Some(("c".into(), Qos::ExactlyOnce)));
        assert_eq!(n.acked(1), None);
        n.handed("d".into(), Qos::AtLeastOnce);
        n.forget();
        n.sent(2);
        assert_eq!(n.acked(2), None);
    }
}
