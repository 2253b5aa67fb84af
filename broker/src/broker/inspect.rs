//! What the broker knows that no client can (issue 22), for the app that embeds it: a topic's
//! subscribers and who stored its retained message and when, the retained messages under a
//! filter, and clearing them in one step.
//!
//! Read-only apart from [`Inspector::clear_retained`], callable from any thread. Each call
//! holds the router lock only to copy pointers (client ids and topics are `Arc<str>`); the
//! strings the answer owns are made after the lock is released. The ACL is not applied: the
//! broker's owner asks, not a client.

use std::sync::{Arc, Weak};
use std::time::SystemTime;

use bytes::Bytes;

use super::Shared;
use super::router::{Reader, Retained};
use crate::codec::{QoS, TopicError, TopicFilter, TopicName};
use crate::log::LogType;

/// Everything the broker knows about one topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicInfo {
    pub topic: String,
    /// Every subscription a PUBLISH to the topic would match, by client id then filter
    /// (a client with two matching filters appears twice).
    pub subscribers: Vec<SubscriberInfo>,
    /// The retained message stored on the topic, if any (an expired one is not shown).
    pub retained: Option<RetainedInfo>,
}

/// One subscription matching a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberInfo {
    pub client_id: String,
    /// The QoS granted: the most the subscriber receives.
    pub qos: QoS,
    /// The filter that matches, without `$share/{group}/` for a shared subscription.
    pub filter: String,
    /// The group of a shared subscription (`$share/{group}/...`): one member of the group
    /// receives each message.
    pub share_group: Option<String>,
    /// Connected now. A persistent session's subscriptions stay while it is away, and what
    /// matches them is queued for its return.
    pub online: bool,
}

/// A retained message: who stored it, when, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetainedInfo {
    /// The client id that stored it; `None` for the broker's own (`$SYS`) and messages saved
    /// by a broker that did not record it.
    pub publisher: Option<String>,
    /// When the broker stored it (wall clock).
    pub stored_at: SystemTime,
    pub qos: QoS,
    pub payload_len: usize,
    /// The stored payload itself: shared with the broker's copy (a reference count, not a
    /// copy), so answering many costs no payload bytes.
    pub payload: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    #[error("{0}")]
    Filter(#[from] TopicError),
    #[error("{0:?} is a shared subscription filter; retained messages are named by a plain filter such as a/b/#")]
    Shared(String),
    #[error("the broker has stopped")]
    Stopped,
}

/// A handle on a running broker's state for inspection: cheap to clone, `Send` and `Sync`.
/// It does not keep a stopped broker's state alive: calls then answer nothing (or
/// [`InspectError::Stopped`]).
#[derive(Debug, Clone)]
pub struct Inspector {
    shared: Weak<Shared>,
}

fn filter_of(filter: &str) -> Result<TopicFilter, InspectError> {
    let filter = TopicFilter::new(filter)?;
    if filter.share().is_some() {
        return Err(InspectError::Shared(filter.as_str().to_owned()));
    }
    Ok(filter)
}

fn info_of(retained: &Retained) -> RetainedInfo {
    RetainedInfo {
        publisher: retained.origin.publisher.as_deref().map(str::to_owned),
        stored_at: retained.origin.stored_at(),
        qos: retained.message.qos,
        payload_len: retained.message.payload.len(),
        payload: retained.message.payload.clone(),
    }
}

fn subscriber_of(reader: &Reader) -> SubscriberInfo {
    let (share_group, filter) = match reader.filter.share() {
        Some((group, filter)) => (Some(group.to_owned()), filter.to_owned()),
        None => (None, reader.filter.as_str().to_owned()),
    };
    SubscriberInfo {
        client_id: reader.client.to_string(),
        qos: reader.sub.options.qos,
        filter,
        share_group,
        online: reader.online,
    }
}

impl Inspector {
    pub(crate) fn new(shared: &Arc<Shared>) -> Self {
        Self { shared: Arc::downgrade(shared) }
    }

    /// Each bridge of the config: connected or not, to which remote, and the last error.
    pub fn bridges(&self) -> Vec<super::BridgeInfo> {
        self.shared.upgrade().map(|s| s.bridges.snapshot()).unwrap_or_default()
    }

    /// The subscriptions matching `topic` and its retained message. A string that is no
    /// topic name (empty, with a wildcard) has neither.
    pub fn topic_info(&self, topic: &str) -> TopicInfo {
        let nothing = || TopicInfo { topic: topic.to_owned(), ..TopicInfo::default() };
        let Some(shared) = self.shared.upgrade() else { return nothing() };
        if TopicName::parse(topic).is_err() {
            return nothing();
        }
        let (readers, retained) = {
            let router = shared.router();
            (router.readers_of(topic), router.retained_at(topic).cloned())
        };
        TopicInfo {
            topic: topic.to_owned(),
            subscribers: readers.iter().map(subscriber_of).collect(),
            retained: retained.as_ref().map(info_of),
        }
    }

    /// Every retained message `filter` matches (e.g. `a/b/#`, `#`), in topic order. As for a
    /// subscription, `#` and `+` at the first level do not match `$` topics [MQTT-4.7.2-1];
    /// `$SYS/#` does.
    ///
    /// # Errors
    /// The filter is not a valid topic filter, or is a shared one; the broker has stopped.
    pub fn retained_under(&self, filter: &str) -> Result<Vec<(String, RetainedInfo)>, InspectError> {
        let filter = filter_of(filter)?;
        let shared = self.shared.upgrade().ok_or(InspectError::Stopped)?;
        // Clones of pointers under the lock (topic, payload, client id); strings after it.
        let found: Vec<Retained> = shared.router().retained_matching(&filter).cloned().collect();
        Ok(found
            .iter()
            .filter(|r| !r.message.expired_now())
            .map(|r| (r.message.topic.to_string(), info_of(r)))
            .collect())
    }

    /// Deletes every retained message `filter` matches in one step under the router lock:
    /// a message published after it is kept, none matching is left. With persistence on, the
    /// deletion is saved as one transaction. Live subscribers receive nothing (unlike clearing
    /// by empty retained PUBLISHes). Returns how many were deleted, and logs it.
    ///
    /// # Errors
    /// The filter is not a valid topic filter, or is a shared one; the broker has stopped.
    pub fn clear_retained(&self, filter: &str) -> Result<usize, InspectError> {
        let filter = filter_of(filter)?;
        let shared = self.shared.upgrade().ok_or(InspectError::Stopped)?;
        let cleared = shared.router().clear_retained(&filter);
        shared.log.log(
            LogType::Notice,
            format_args!(
                "Cleared {cleared} retained message{} matching {filter}.",
                if cleared == 1 { "" } else { "s" }
            ),
        );
        Ok(cleared)
    }
}
