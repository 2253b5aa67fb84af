//! Subscriptions as a tree of topic levels, so that routing a PUBLISH walks its levels
//! instead of testing every filter; shared subscriptions (`$share/{group}/{filter}`, MQTT 5.0
//! section 4.8.2) apart, in `shared`, as groups that take turns.

use std::num::NonZeroU32;
use std::sync::Arc;

use super::FastMap as HashMap;
use super::router::Slot;
use crate::codec::{QoS, SubOptions};

mod shared;

pub use shared::SharedGroups;

/// One client's subscription to one filter: its options and, in MQTT 5.0, its Subscription
/// Identifier (3.8.2.1.2), sent with every message it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sub {
    pub options: SubOptions,
    pub id: Option<NonZeroU32>,
}

impl From<QoS> for Sub {
    fn from(qos: QoS) -> Self {
        Self { options: SubOptions::from(qos), id: None }
    }
}

/// What one client gets of a PUBLISH, from all its matching subscriptions together: one copy
/// at the highest QoS [MQTT-3.3.4-2], with every Subscription Identifier [MQTT-3.3.4-4], and
/// RETAIN kept if any subscription asked for Retain As Published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matched {
    pub qos: QoS,
    pub retain_as_published: bool,
    pub ids: Vec<NonZeroU32>,
    /// Where the client's session sits (router/sessions.rs).
    pub slot: Slot,
}

impl Matched {
    fn add(&mut self, sub: Sub) {
        self.qos = self.qos.max(sub.options.qos);
        self.retain_as_published |= sub.options.retain_as_published;
        if let Some(id) = sub.id {
            self.ids.push(id);
        }
    }

    /// Each identifier once, in order: a client may give many filters that match one topic
    /// the same identifier (sorting once is linear-logarithmic where a check per push was
    /// quadratic).
    pub fn dedup_ids(&mut self) {
        if self.ids.len() > 1 {
            self.ids.sort_unstable();
            self.ids.dedup();
        }
    }

    fn of(held: Held) -> Self {
        let mut m = Self { slot: held.slot, ..Self::default() };
        m.add(held.sub);
        m
    }
}

/// The subscribers of each filter.
#[derive(Debug, Default)]
pub struct SubscriptionTree {
    root: Node,
    count: usize,
    pub shared: SharedGroups,
}

#[derive(Debug, Default)]
struct Node {
    children: HashMap<Box<str>, Node>,
    /// The `+` level, apart from the others: every topic's walk looks for it at each level,
    /// and a hash lookup of "+" per level was a tenth of the fan-in's routing.
    plus: Option<Box<Node>>,
    /// Subscribers whose filter ends at this level.
    here: Subscribers,
    /// Subscribers whose filter ends with `#` after this level.
    multi: Subscribers,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.plus.is_none() && self.here.is_empty() && self.multi.is_empty()
    }
}

impl SubscriptionTree {
    /// Adds or replaces a subscription (a `$share/` filter joins its group); true if it
    /// replaced one.
    pub fn insert(&mut self, filter: &str, client: &Arc<str>, sub: impl Into<Sub>) -> bool {
        self.insert_at(filter, client, sub, Slot::UNKNOWN)
    }

    /// [`Self::insert`] for a client whose session sits in `slot`: routing finds it there
    /// without looking its id up (shared subscriptions take turns by id, without a slot).
    pub fn insert_at(&mut self, filter: &str, client: &Arc<str>, sub: impl Into<Sub>, slot: Slot) -> bool {
        let sub = sub.into();
        if let Some((group, filter)) = shared::split(filter) {
            let replaced = self.shared.insert(group, filter, client, sub);
            if !replaced {
                self.count += 1;
            }
            return replaced;
        }
        let mut node = &mut self.root;
        let mut levels = filter.split('/').peekable();
        let mut set = None;
        while let Some(level) = levels.next() {
            if level == "#" && levels.peek().is_none() {
                set = Some(&mut node.multi);
                break;
            }
            node = if level == "+" {
                node.plus.get_or_insert_with(Box::default)
            } else {
                node.children.entry(level.into()).or_default()
            };
        }
        let set = set.unwrap_or(&mut node.here);
        let replaced = set.insert(client.clone(), Held { sub, slot }).is_some();
        if !replaced {
            self.count += 1;
        }
        replaced
    }

    /// Removes a subscription; true if there was one.
    pub fn remove(&mut self, filter: &str, client: &str) -> bool {
        let removed = if let Some((group, filter)) = shared::split(filter) {
            self.shared.remove(group, filter, client)
        } else {
            let levels: Vec<&str> = filter.split('/').collect();
            remove_in(&mut self.root, &levels, client)
        };
        if removed {
            self.count -= 1;
        }
        removed
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Every client with a (non-shared) filter matching `topic`, with what it gets of the
    /// message. A subscription with No Local does not match its own client's messages
    /// [MQTT-3.8.3-3]: `publisher` names it.
    pub fn matches(&self, topic: &str, publisher: Option<&str>, out: &mut HashMap<Arc<str>, Matched>) {
        let mut sink = Sink { publisher, out };
        self.walk(topic, &mut |set| merge(&mut sink, set));
    }

    /// The one set of subscribers whose filter matches `topic` (a filter's clients each
    /// subscribed to it once), or `None` when no filter matches; `Err(Several)` when several
    /// do, whose clients [`Self::matches`] merges. Most topics match one filter, and routing
    /// then needs no merge: in the fan-out, merging 50 subscribers per message into a map took
    /// a fifth of the router's time, all of it under its lock.
    pub fn only_set(&self, topic: &str) -> Result<Option<&Subscribers>, Several> {
        let mut only = None;
        let mut several = false;
        self.walk(topic, &mut |set| {
            if only.is_some() {
                several = true;
            }
            only = Some(set);
        });
        if several { Err(Several) } else { Ok(only) }
    }

    /// Calls `f` with each non-empty set of subscribers whose filter matches `topic`.
    fn walk<'t>(&'t self, topic: &str, f: &mut impl FnMut(&'t Subscribers)) {
        // Wildcards at the first level do not match `$` topics [MQTT-4.7.2-1].
        let system = topic.starts_with('$');
        collect(&self.root, Some(topic), !system, f);
    }
}

/// The clients subscribed to one filter.
pub type Subscribers = HashMap<Arc<str>, Held>;

/// A client's subscription in the tree, and where its session sits (a hint for routing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub sub: Sub,
    pub slot: Slot,
}

/// More than one filter matched a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Several;

/// Where matches go: skipping No Local subscriptions of the publisher.
struct Sink<'a, 'o> {
    publisher: Option<&'a str>,
    out: &'o mut HashMap<Arc<str>, Matched>,
}

fn merge(into: &mut Sink<'_, '_>, from: &Subscribers) {
    for (client, held) in from {
        if held.sub.options.no_local && into.publisher == Some(&**client) {
            continue;
        }
        // One hash lookup per match: the routing hot path.
        into.out.entry(client.clone()).and_modify(|m| m.add(held.sub)).or_insert_with(|| Matched::of(*held));
    }
}

/// `rest`: the topic levels not yet matched, `None` past the last one (no allocation per
/// PUBLISH for a list of levels).
fn collect<'t>(node: &'t Node, rest: Option<&str>, wildcards: bool, f: &mut impl FnMut(&'t Subscribers)) {
    if wildcards && !node.multi.is_empty() {
        // `a/#` matches `a` itself and everything below it.
        f(&node.multi);
    }
    let Some(rest) = rest else {
        if !node.here.is_empty() {
            f(&node.here);
        }
        return;
    };
    // A byte search: `split_once('/')` set up a `memchr` per level, a tenth of the fan-in's
    // instructions for levels a few bytes long. `/` is ASCII, so `at` is a char boundary.
    let (first, after) = match rest.bytes().position(|b| b == b'/') {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    if let Some(child) = node.children.get(first) {
        collect(child, after, true, f);
    }
    if wildcards && let Some(child) = &node.plus {
        collect(child, after, true, f);
    }
}

fn remove_in(node: &mut Node, levels: &[&str], client: &str) -> bool {
    match levels {
        ["#"] => node.multi.remove(client).is_some(),
        [] => node.here.remove(client).is_some(),
        ["+", rest @ ..] => {
            let Some(child) = node.plus.as_deref_mut() else { return false };
            let removed = remove_in(child, rest, client);
            if child.is_empty() {
                node.plus = None;
            }
            removed
        }
        [first, rest @ ..] => {
            let Some(child) = node.children.get_mut(*first) else { return false };
            let removed = remove_in(child, rest, client);
            if child.is_empty() {
                node.children.remove(*first);
            }
            removed
        }
    }
}

#[cfg(test)]
mod tests;
