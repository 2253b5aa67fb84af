//! Retained messages with where they came from (issue 22): the router stores each with the
//! publisher's client id and the wall-clock time it was stored, answers which ones a filter
//! covers by walking only the part of the ordered map under the filter's literal prefix, and
//! clears every one under a filter in one step (the embedding app's "delete this subtree").
//!
//! The origin costs 32 bytes per retained message: the client id is the session's own
//! `Arc<str>` (a pointer, shared by every message of that client), the time is milliseconds
//! since the Unix epoch (a `SystemTime` takes 16 bytes), and a pointer to the publisher's user
//! name and the `memory_limit` charge, null for an anonymous publisher without a limit.
//! Mosquitto keeps the same facts per stored message (`source_id`, `source_username`, as
//! copies of the strings).
//!
//! With `check_retain_source true`, a new subscription is sent a retained message only while
//! its publisher, as it was named when it stored it (client id and user name), may still
//! publish to the topic under the ACL in force: a reload that takes the right away withholds
//! the message, one that gives it back sends it again. It is not deleted, as in Mosquitto
//! 2.0.11. The broker's own messages (`$SYS`) are not checked.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Router;
use crate::auth::{Acl, Client};
use crate::broker::session::{Charge, Memory, Message};
use crate::codec::{TopicFilter, TopicName, matches};
use crate::store::Change;

/// Who stored a retained message, and when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The publishing client's id: its session's `Arc`, so the string is not copied. `None`
    /// for the broker's own messages (`$SYS`) and rows saved before origins were kept.
    pub publisher: Option<Arc<str>>,
    /// Milliseconds since the Unix epoch: 8 bytes where a `SystemTime` takes 16.
    pub stored_ms: u64,
    /// The publisher's user name and the payload's `memory_limit` charge: boxed, and absent
    /// for an anonymous publisher on a broker without `memory_limit`, so that the origin costs
    /// one pointer more, not 32 bytes.
    pub(crate) source: Option<Box<Source>>,
}

/// What an [`Origin`] keeps only when there is something to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Source {
    /// The publisher's user name then, for `check_retain_source` (the session's `Arc`; for a
    /// message restored at startup, the store's copy).
    username: Option<Arc<str>>,
    /// The payload, counted toward `memory_limit` while the message is retained.
    charge: Charge,
}

impl Origin {
    /// Stored now by `publisher`.
    pub fn now(publisher: Option<Arc<str>>) -> Self {
        Self { publisher, stored_ms: ms_of(SystemTime::now()), ..Self::default() }
    }

    /// The publisher's user name when it stored the message.
    pub fn username(&self) -> Option<&str> {
        self.source.as_ref().and_then(|s| s.username.as_deref())
    }

    /// This origin naming `username` as the publisher's user name (the store restoring it).
    #[must_use]
    pub fn with_username(mut self, username: Option<Arc<str>>) -> Self {
        match (&mut self.source, username) {
            (Some(source), username) => source.username = username,
            (None, Some(username)) => {
                self.source = Some(Box::new(Source { username: Some(username), ..Source::default() }));
            }
            (None, None) => {}
        }
        self
    }

    pub fn stored_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.stored_ms)
    }
}

/// Milliseconds since the Unix epoch (0 for a clock set before it).
pub fn ms_of(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A retained message as the router keeps it and the store saves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retained {
    pub message: Message,
    pub origin: Origin,
}

impl Retained {
    /// Counts this message's payload toward `memory_limit` (a message restored from the store
    /// at startup, which was not counted when it was read).
    #[must_use]
    pub fn charged(mut self, memory: Option<&'static Memory>) -> Self {
        if memory.is_some() {
            let charge = Memory::charge(memory, self.message.payload.len());
            self.origin.source.get_or_insert_with(Box::default).charge = charge;
        }
        self
    }
}

/// The part of a filter before its first wildcard, without the level separator that ends it:
/// every topic the filter matches starts with it (`a/b/#` matches `a/b` itself).
fn literal_prefix(filter: &str) -> &str {
    let end = filter.find(['+', '#']).unwrap_or(filter.len());
    filter[..end].trim_end_matches('/')
}

/// [`Router::retained_matching`] over the map alone, for callers holding a session mutably.
pub(super) fn matching<'a>(
    retained: &'a BTreeMap<TopicName, Retained>,
    filter: &'a TopicFilter,
) -> impl Iterator<Item = &'a Retained> + 'a {
    let filter = filter.as_str();
    let prefix = literal_prefix(filter);
    retained
        .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
        .take_while(move |(topic, _)| topic.as_str().starts_with(prefix))
        .filter(move |(topic, _)| matches(filter, topic.as_str()))
        .map(|(_, r)| r)
}

/// `check_retain_source`: whether the publisher of `r` may still publish to its topic under
/// `acl` (`None`: no check). A message with no publisher (`$SYS`) passes.
pub(super) fn source_may_publish(acl: Option<&Acl>, r: &Retained) -> bool {
    let (Some(acl), Some(id)) = (acl, r.origin.publisher.as_deref()) else { return true };
    acl.can_write(Client { id, username: r.origin.username() }, r.message.topic.as_str())
}

impl Router {
    /// Stores or clears (`origin` then unused) the retained message of a PUBLISH.
    pub(super) fn retain(&mut self, message: &Message, publisher: Option<&str>) {
        if message.payload.is_empty() {
            // A zero-byte retained message clears the topic [MQTT-3.3.1-10].
            self.retained.remove(&message.topic);
            self.record_retained(&message.topic, None);
            return;
        }
        // The session's own id and user name: pointers, and only for retained messages.
        let session = publisher.and_then(|id| self.sessions.get(id));
        let mut origin = Origin::now(session.map(|s| s.client_id.clone()));
        let username = session.and_then(|s| s.username.clone());
        if username.is_some() || self.limits.memory.is_some() {
            let charge = Memory::charge(self.limits.memory, message.payload.len());
            origin.source = Some(Box::new(Source { username, charge }));
        }
        let retained = Retained { message: message.clone(), origin };
        self.record_retained(&message.topic, Some(&retained));
        self.retained.insert(message.topic.clone(), retained);
    }

    /// The retained message of `topic`, if one is stored and its expiry has not passed.
    pub fn retained_at(&self, topic: &str) -> Option<&Retained> {
        self.retained.get(topic).filter(|r| !r.message.expired_now())
    }

    /// Every retained message `filter` matches, in topic order (expired ones included: the
    /// sweep deletes them). `#` and `+` at the first level skip `$` topics [MQTT-4.7.2-1].
    pub fn retained_matching<'a>(&'a self, filter: &'a TopicFilter) -> impl Iterator<Item = &'a Retained> + 'a {
        matching(&self.retained, filter)
    }

    /// Deletes every retained message `filter` matches, at once (nothing published meanwhile
    /// can be lost: the caller holds the router), and saves the deletion as one change, so a
    /// restart finds all of them gone or, after a crash before the commit, none. Returns how
    /// many were deleted.
    pub fn clear_retained(&mut self, filter: &TopicFilter) -> usize {
        let topics: Vec<TopicName> = self.retained_matching(filter).map(|r| r.message.topic.clone()).collect();
        for topic in &topics {
            self.retained.remove(topic);
        }
        // `$SYS` messages are not saved (see `record_retained`).
        let saved: Vec<TopicName> = topics.iter().filter(|t| !t.is_system()).cloned().collect();
        if !saved.is_empty() {
            self.record(Change::RetainCleared { topics: saved });
        }
        topics.len()
    }
}
