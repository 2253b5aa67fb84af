//! Received messages, newest first, bounded so that a day of traffic cannot exhaust memory; older
//! ones are listed from the history database (`StoredRows`).

use std::collections::VecDeque;

use crate::connection::ReceivedMessage;
use crate::mqtt::PublishProperties;

/// The most messages kept in memory; the list pages older ones from the history database.
pub const DEFAULT_CAPACITY: usize = 10_000;

#[derive(Debug, Clone)]
pub struct MessageStore {
    items: VecDeque<ReceivedMessage>,
    capacity: usize,
    /// Messages ever received, including those dropped by the bound.
    total: u64,
    /// Indices matching the last search, computed once per (query, total).
    cache: Option<(String, u64, Vec<usize>)>,
}

impl Default for MessageStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl MessageStore {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { items: VecDeque::new(), capacity: capacity.max(1), total: 0, cache: None }
    }

    pub fn push(&mut self, message: ReceivedMessage) {
        if self.items.len() == self.capacity {
            self.items.pop_back();
        }
        self.items.push_front(message);
        self.total += 1;
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The `i`-th newest message.
    pub fn get(&self, i: usize) -> Option<&ReceivedMessage> {
        self.items.get(i)
    }

    /// The oldest message held.
    pub fn oldest(&self) -> Option<&ReceivedMessage> {
        self.items.back()
    }

    /// The sequence number of the `i`-th newest message: stable while newer ones arrive.
    pub fn seq_of(&self, i: usize) -> u64 {
        self.total - 1 - i as u64
    }

    /// The message with sequence number `seq`, if it is still kept.
    pub fn by_seq(&self, seq: u64) -> Option<&ReceivedMessage> {
        let i = self.total.checked_sub(seq + 1)?;
        self.items.get(usize::try_from(i).ok()?)
    }

    /// The newest `n` messages on `topic`, newest first (the topic tree's detail without history).
    pub fn newest_of(&self, topic: &str, n: usize) -> Vec<ReceivedMessage> {
        self.items.iter().filter(|m| m.topic == topic).take(n).cloned().collect()
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.cache = None;
    }

    /// Indices of the messages that contain `query` (see `matches`), newest first; `hidden`
    /// filters out messages of muted subscriptions.
    pub fn search(&mut self, query: &str, hidden: impl Fn(&ReceivedMessage) -> bool) -> &[usize] {
        let stale = self.cache.as_ref().is_none_or(|(q, total, _)| q != query || *total != self.total);
        if stale {
            let indices = self
                .items
                .iter()
                .enumerate()
                .filter(|(_, m)| !hidden(m))
                .filter(|(_, m)| query.is_empty() || matches(m, query))
                .map(|(i, _)| i)
                .collect();
            self.cache = Some((query.to_owned(), self.total, indices));
        }
        self.cache.as_ref().map_or(&[], |(_, _, v)| v.as_slice())
    }

    /// Forgets the cached search (after muting changes what is hidden).
    pub fn invalidate(&mut self) {
        self.cache = None;
    }
}

/// Whether a message contains `query`: in its topic, its payload as text, or the text of its
/// MQTT 5 properties. The history's search of stored rows matches the same (`history::db`).
pub fn matches(m: &ReceivedMessage, query: &str) -> bool {
    m.topic.contains(query)
        || String::from_utf8_lossy(&m.payload).contains(query)
        || properties_contain(&m.properties, query)
}

/// Whether the text a user reads in a message's properties contains `query`: content type,
/// response topic, user property names and values, and correlation data as text. A 3.1.1
/// message's properties are empty: a few `None` and empty-vector checks, nothing allocated.
fn properties_contain(p: &PublishProperties, query: &str) -> bool {
    let has = |text: &Option<String>| text.as_deref().is_some_and(|t| t.contains(query));
    has(&p.content_type)
        || has(&p.response_topic)
        || p.correlation_data.as_deref().is_some_and(|data| String::from_utf8_lossy(data).contains(query))
        || p.user_properties.iter().any(|u| u.name.contains(query) || u.value.contains(query))
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use bytes::Bytes;

    use super::*;
    use crate::connection::Qos;
    use crate::mqtt::UserProperty;

    fn message(topic: &str, payload: &str) -> ReceivedMessage {
        ReceivedMessage {
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload.as_bytes()),
            qos: Qos::AtMostOnce,
            retain: false,
            dup: false,
            at: SystemTime::now(),
            properties: PublishProperties::default(),
        }
    }

    #[test]
    fn search_finds_a_message_by_the_text_of_its_properties() {
        let mut store = MessageStore::default();
        let mut v5 = message("lamp/status", "on");
        v5.properties.user_properties.push(UserProperty::new("room", "B204"));
        v5.properties.response_topic = Some("lamp/reply".into());
        v5.properties.correlation_data = Some(Bytes::from_static(b"req-7"));
        store.push(v5);
        store.push(message("PV/data", "1.5"));
        let found = |store: &mut MessageStore, q: &str| store.search(q, |_| false).to_vec();
        assert_eq!(found(&mut store, "B204"), vec![1], "a user property value");
        assert_eq!(found(&mut store, "room"), vec![1], "a user property name");
        assert_eq!(found(&mut store, "lamp/reply"), vec![1], "the response topic");
        assert_eq!(found(&mut store, "req-7"), vec![1], "correlation data as text");
        assert_eq!(found(&mut store, "1.5"), vec![0], "payloads as before");
        assert_eq!(found(&mut store, ""), vec![0, 1]);
        assert!(found(&mut store, "nowhere").is_empty());
    }
}
