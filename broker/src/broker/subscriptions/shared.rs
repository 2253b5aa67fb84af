//! Shared subscriptions (MQTT 5.0 section 4.8.2, which Mosquitto also grants 3.1.1 clients):
//! `$share/{group}/{filter}` subscriptions of one group take turns, so each message matching
//! the filter goes to one member of the group. The router picks the member: the next one in
//! turn that is online and may read the topic ([`SharedGroups::candidates`] gives the order).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Sub;
use crate::codec::{SHARE_PREFIX, matches};

/// `$share/{group}/{filter}` → `(group, filter)`.
pub fn split(filter: &str) -> Option<(&str, &str)> {
    filter.strip_prefix(SHARE_PREFIX).and_then(|rest| rest.split_once('/'))
}

/// Every shared subscription group, by group name and filter.
#[derive(Debug, Default)]
pub struct SharedGroups {
    groups: BTreeMap<(Box<str>, Box<str>), Group>,
}

#[derive(Debug, Default)]
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

impl SharedGroups {
    pub(super) fn insert(&mut self, group: &str, filter: &str, client: &Arc<str>, sub: Sub) -> bool {
        let g = self
            .groups
            .entry((group.into(), filter.into()))
            .or_insert_with(|| Group { share: format!("{SHARE_PREFIX}{group}/{filter}").into(), ..Group::default() });
        if let Some(member) = g.members.iter_mut().find(|(c, _)| c == client) {
            member.1 = sub;
            return true;
        }
        g.members.push((client.clone(), sub));
        false
    }

    pub(super) fn remove(&mut self, group: &str, filter: &str, client: &str) -> bool {
        let key = (Box::from(group), Box::from(filter));
        let Some(g) = self.groups.get_mut(&key) else { return false };
        let Some(at) = g.members.iter().position(|(c, _)| &**c == client) else { return false };
        g.members.remove(at);
        if at < g.next {
            g.next -= 1;
        }
        if g.members.is_empty() {
            self.groups.remove(&key);
        } else {
            g.next %= g.members.len();
        }
        true
    }

    /// The groups whose filter matches `topic`, each with its members in turn order.
    pub fn turns(&self, topic: &str) -> Vec<Turn<'_>> {
        self.groups
            .iter()
            .filter(|((_, filter), _)| matches(filter, topic))
            .map(|(_, g)| Turn { share: &g.share, members: &g.members, start: g.next })
            .collect()
    }

    /// The turn of one group, if it exists.
    pub fn turn(&self, group: &str, filter: &str) -> Option<Turn<'_>> {
        let key = (Box::from(group), Box::from(filter));
        self.groups.get(&key).map(|g| Turn { share: &g.share, members: &g.members, start: g.next })
    }

    /// The member at `at` of the group took a message: the turn passes to the one after it.
    pub fn took(&mut self, group: &str, filter: &str, at: usize) {
        if let Some(g) = self.groups.get_mut(&(Box::from(group), Box::from(filter))) {
            g.next = (at + 1) % g.members.len().max(1);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}
