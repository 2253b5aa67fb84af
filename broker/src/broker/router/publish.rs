//! Routing a PUBLISH: the retained store, then every matching subscriber once.

use std::num::NonZeroU32;
use std::sync::Arc;

use super::{Routed, Router};
use crate::broker::session::{Delivery, Link, Message, Session};
use crate::broker::subscriptions::{Held, Sub};

impl Router {
    /// Routes an application message: retained store, then every matching subscriber once, at
    /// the lower of the message's QoS and its highest matching subscription QoS.
    /// With an ACL, only subscribers allowed to read the topic receive it.
    pub fn publish(&mut self, message: &Message) -> Routed {
        self.publish_from(message, None)
    }

    /// [`Self::publish`] for a client's PUBLISH: `from` names the publisher (for No Local)
    /// and its link; subscribers it leaves over their limits take the message and note the
    /// link as waiting for room; [`Self::take_congested`] names them.
    pub fn publish_from(&mut self, message: &Message, from: Option<(&str, &Link)>) -> Routed {
        self.route(message, from, from.map(|(id, _)| id))
    }

    /// [`Self::publish_from`], with the client a retained message is recorded as stored by
    /// (a will's own client, which has no link any more).
    pub(super) fn route(&mut self, message: &Message, from: Option<(&str, &Link)>, publisher: Option<&str>) -> Routed {
        self.congested.clear();
        if message.retain {
            self.retain(message, publisher);
        }
        let mut routed = Routed::default();
        let upgrade = self.upgrade_outgoing_qos;
        let link = from.map(|(_, link)| link);
        // No Local is about the connection that sent it: a will has none.
        let sender = from.map(|(id, _)| id);
        // One client's copy, at `qos` (its highest matching subscription's), with the
        // subscriptions' identifiers, if the ACL lets it read the topic.
        let (sessions, congested, once) = (&mut self.sessions, &mut self.congested, &mut self.encoded);
        once.clear();
        let mut give = |client: &Arc<str>, slot, qos, retain_as_published: bool, ids: &[NonZeroU32]| {
            let Some(session) = sessions.at(slot, client) else { return };
            if !session.may_read(&message.topic) {
                return;
            }
            // Live subscribers get RETAIN=0 [MQTT-3.3.1-9], unless they asked for Retain As
            // Published (MQTT 5.0, 3.8.3.1).
            let retain = message.retain && retain_as_published;
            let qos = Self::outgoing_qos(upgrade, message.qos, qos);
            let delivery = session.deliver_routed(message, qos, retain, ids, once);
            count_delivery(&mut routed, congested, session, client, delivery, link);
        };
        if let Ok(only) = self.subscriptions.only_set(message.topic.as_str()) {
            // One filter matched: each of its clients once, as it subscribed.
            for (client, Held { sub, slot }) in only.into_iter().flatten() {
                if !(sub.options.no_local && sender == Some(&**client)) {
                    give(client, *slot, sub.options.qos, sub.options.retain_as_published, sub.id.as_slice());
                }
            }
        } else {
            // Several: merged, so that each client gets one copy at its highest QoS.
            let mut targets = std::mem::take(&mut self.scratch);
            self.subscriptions.matches(message.topic.as_str(), sender, &mut targets);
            for (client, mut matched) in targets.drain() {
                matched.dedup_ids();
                give(&client, matched.slot, matched.qos, matched.retain_as_published, &matched.ids);
            }
            self.scratch = targets;
        }
        if !self.subscriptions.shared.is_empty() {
            self.publish_shared(message, from, &mut routed);
        }
        if !self.seal_later {
            self.seal_encoded();
        }
        routed
    }

    /// Each shared subscription group matching the topic gives the message to one member: the
    /// next in turn that is online and may read it; when none is online, the next that may
    /// read it (a persistent session queues it).
    fn publish_shared(&mut self, message: &Message, from: Option<(&str, &Link)>, routed: &mut Routed) {
        let mut chosen = Vec::new();
        for turn in self.subscriptions.shared.turns(message.topic.as_str()) {
            let readable = |client: &str| self.sessions.get(client).is_some_and(|s| s.may_read(&message.topic));
            let online = |client: &str| self.sessions.get(client).is_some_and(Session::is_online);
            let pick = turn
                .candidates()
                .find(|(_, (c, _))| online(c) && readable(c))
                .or_else(|| turn.candidates().find(|(_, (c, _))| readable(c)));
            if let Some((at, (client, sub))) = pick {
                chosen.push((turn.share.clone(), at, client.clone(), *sub));
            }
        }
        for (share, at, client, sub) in chosen {
            let delivery = self.give_shared(&share, at, &client, sub, message);
            self.count_delivery(routed, &client, delivery, from.map(|(_, link)| link));
        }
    }

    /// Delivers `message` to the member at `at` of the group `share` and passes the turn on.
    fn give_shared(&mut self, share: &Arc<str>, at: usize, client: &Arc<str>, sub: Sub, message: &Message) -> Delivery {
        self.subscriptions.shared.took(share, at);
        let Some(session) = self.sessions.get_mut(client) else { return Delivery::Dropped };
        let retain = message.retain && sub.options.retain_as_published;
        let ids: Vec<_> = sub.id.into_iter().collect();
        let qos = Self::outgoing_qos(self.upgrade_outgoing_qos, message.qos, sub.options.qos);
        session.deliver_via(message, qos, retain, &ids, Some(share))
    }

    /// A member of shared subscriptions went offline: what it held through them and had not
    /// started to take goes to the next online member of the same group that may read it; with
    /// none, it stays with `from` (queued for its return).
    pub(super) fn hand_over(&mut self, from: &str, orphans: Vec<(Arc<str>, Message)>) {
        for (share, message) in orphans {
            let pick = self.subscriptions.shared.turn(&share).and_then(|turn| {
                turn.candidates()
                    .find(|(_, (c, _))| {
                        &**c != from
                            && self.sessions.get(c).is_some_and(|s| s.is_online() && s.may_read(&message.topic))
                    })
                    .map(|(at, (c, sub))| (at, c.clone(), *sub))
            });
            match pick {
                Some((at, client, sub)) => {
                    self.give_shared(&share, at, &client, sub, &message);
                }
                None => {
                    if let Some(session) = self.sessions.get_mut(from) {
                        session.deliver_via(&message, message.qos, message.retain, &[], Some(&share));
                    }
                }
            }
        }
    }

    fn count_delivery(&mut self, routed: &mut Routed, client: &Arc<str>, delivery: Delivery, from: Option<&Link>) {
        if let Some(session) = self.sessions.get_mut(client) {
            count_delivery(routed, &mut self.congested, session, client, delivery, from);
        } else if delivery == Delivery::Dropped {
            routed.dropped += 1;
        } else {
            routed.delivered += 1;
        }
    }

    /// The subscribers the last [`Self::publish_from`] left congested.
    pub fn take_congested(&mut self) -> Vec<Arc<str>> {
        std::mem::take(&mut self.congested)
    }
}

/// Counts a delivery; a subscriber it left over its limits keeps the publisher's link waiting
/// for room, and is named in `congested`.
fn count_delivery(
    routed: &mut Routed,
    congested: &mut Vec<Arc<str>>,
    session: &mut Session,
    client: &Arc<str>,
    delivery: Delivery,
    from: Option<&Link>,
) {
    match delivery {
        Delivery::Dropped => routed.dropped += 1,
        Delivery::Backlogged => {
            routed.delivered += 1;
            if let Some(link) = from {
                session.wait_for_room(&link.wake);
                congested.push(client.clone());
            }
        }
        Delivery::Sent | Delivery::Queued => routed.delivered += 1,
    }
}
