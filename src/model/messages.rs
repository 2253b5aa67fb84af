//! Received messages, newest first, bounded so that a day of traffic cannot exhaust memory; older
//! ones are listed from the history database (`StoredRows`).

use std::collections::VecDeque;

use crate::connection::ReceivedMessage;

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

    pub fn clear(&mut self) {
        self.items.clear();
        self.cache = None;
    }

    /// Indices of the messages whose topic or (text) payload contains `query`, newest first;
    /// `hidden` filters out messages of muted subscriptions.
    pub fn search(&mut self, query: &str, hidden: impl Fn(&ReceivedMessage) -> bool) -> &[usize] {
        let stale = self.cache.as_ref().is_none_or(|(q, total, _)| q != query || *total != self.total);
        if stale {
            let indices = self
                .items
                .iter()
                .enumerate()
                .filter(|(_, m)| !hidden(m))
                .filter(|(_, m)| {
                    query.is_empty() || m.topic.contains(query) || String::from_utf8_lossy(&m.payload).contains(query)
                })
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
