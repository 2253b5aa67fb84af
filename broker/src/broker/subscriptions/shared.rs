//! Shared subscriptions (MQTT 5.0 section 4.8.2, which Mosquitto also grants 3.1.1 clients):
//! `$share/{group}/{filter}` subscriptions of one group take turns, so each message matching
//! the filter goes to one member of the group. The router picks the member: the next one in
//! turn that is online and may read the topic ([`Turn::candidates`] gives the order). The
//! groups' filters sit in a subscription tree of their own, so routing a PUBLISH walks topic
//! levels instead of testing every group.

use std::sync::Arc;

use super::{Matched, Sub, SubscriptionTree};
use crate::broker::FastMap as HashMap;
use crate::codec::SHARE_PREFIX;

/// `$share/{group}/{filter}` → `(group, filter)`.
pub fn split(filter: &str) -> Option<(&str, &str)> {
    filter.strip_prefix(SHARE_PREFIX).and_then(|rest| rest.split_once('/'))
}

/// Every shared subscription group, by its whole `$share/{group}/{filter}`.
#[derive(Debug, Default)]
pub struct SharedGroups {
    groups: HashMap<Arc<str>, Group>,
    /// Each group's filter, with the group as its subscriber; allocated with the first group.
    index: Option<Box<SubscriptionTree>>,
}

#[derive(Debug)]
struct Group {
    /// The whole `$share/{group}/{filter}`, which held messages name.
    share: Arc<str>,
    /// In the order they joined.
    members: Vec<(Arc<str>, Sub)>,
    /// The member whose turn is next.
    next: usize,
}

/// One group's turn for a message: its members from the one whose turn it is.
pub struct Turn<'a> {
    /// The whole `$share/{group}/{filter}`.
    pub share: &'a Arc<str>,
    members: &'a [(Arc<str>, Sub)],
    start: usize,
}

impl<'a> Turn<'a> {
    /// The members in turn order: the router takes the first that can take the message.
    pub fn candidates(&self) -> impl Iterator<Item = (usize, &'a (Arc<str>, Sub))> + 'a {
        let (members, start) = (self.members, self.start);
        (0..members.len()).map(move |i| {
            let at = (start + i) % members.len();
            (at, &members[at])
        })
    }
}

impl Group {
    fn turn(&self) -> Turn<'_> {
        Turn { share: &self.share, members: &self.members, start: self.next }
    }
}

impl SharedGroups {
    pub(super) fn insert(&mut self, group: &str, filter: &str, client: &Arc<str>, sub: Sub) -> bool {
        let share = format!("{SHARE_PREFIX}{group}/{filter}");
        if let Some(g) = self.groups.get_mut(share.as_str()) {
            if let Some(member) = g.members.iter_mut().find(|(c, _)| c == client) {
                member.1 = sub;
                return true;
            }
            g.members.push((client.clone(), sub));
            return false;
        }
        let share: Arc<str> = share.into();
        self.index.get_or_insert_with(Box::default).insert(filter, &share, Sub::default());
        self.groups.insert(share.clone(), Group { share, members: vec![(client.clone(), sub)], next: 0 });
        false
    }

    pub(super) fn remove(&mut self, group: &str, filter: &str, client: &str) -> bool {
        let share = format!("{SHARE_PREFIX}{group}/{filter}");
        let Some(g) = self.groups.get_mut(share.as_str()) else { return false };
        let Some(at) = g.members.iter().position(|(c, _)| &**c == client) else { return false };
        g.members.remove(at);
        if at < g.next {
            g.next -= 1;
        }
        if g.members.is_empty() {
            self.groups.remove(share.as_str());
            if let Some(index) = self.index.as_mut() {
                index.remove(filter, &share);
            }
        } else {
            g.next %= g.members.len();
        }
        true
    }

    /// The groups whose filter matches `topic`, each with its members in turn order.
    pub fn turns(&self, topic: &str) -> Vec<Turn<'_>> {
        let Some(index) = &self.index else { return Vec::new() };
        let mut matching: HashMap<Arc<str>, Matched> = HashMap::default();
        index.matches(topic, None, &mut matching);
        matching.keys().filter_map(|share| self.groups.get(share).map(Group::turn)).collect()
    }

    /// The turn of the group `share` names, if it exists.
    pub fn turn(&self, share: &str) -> Option<Turn<'_>> {
        self.groups.get(share).map(Group::turn)
    }

    /// The member at `at` of the group took a message: the turn passes to the one after it.
    pub fn took(&mut self, share: &str, at: usize) {
        if let Some(g) = self.groups.get_mut(share) {
            g.next = (at + 1) % g.members.len().max(1);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}
