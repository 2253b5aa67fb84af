//! The message list's older rows, paged from the history database: only the pages on screen (and
//! a few around them) are held, so millions of stored messages cost a few megabytes.
//!
//! The rows are a profile's stored messages received before the oldest message held in memory
//! (the "boundary"), newest first, filtered by the search text. The app reads counts and pages off
//! the UI thread and hands them in; this type only says what is missing.

use std::collections::{HashMap, HashSet};

use crate::connection::ReceivedMessage;

/// Rows per page read from the database.
pub const PAGE: u64 = 500;
/// Pages held at most; the ones farthest from the last asked for are dropped.
const KEEP_PAGES: usize = 40;

/// Which rows the pages hold: change any part and they are read again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub profile: String,
    /// One connection's rows (its client id) when its profile is open more than once.
    pub client: Option<String>,
    /// Rows received before this time (Unix ms).
    pub before_ms: i64,
    pub search: String,
}

#[derive(Debug, Clone, Default)]
pub struct StoredRows {
    key: Option<StoredKey>,
    count: Option<u64>,
    pages: HashMap<u64, Vec<ReceivedMessage>>,
    asked: HashSet<u64>,
    /// The page last asked for: eviction keeps those near it.
    focus: u64,
}

impl StoredRows {
    /// Rows to list (0 until counted).
    pub fn len(&self) -> u64 {
        self.count.unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn key(&self) -> Option<&StoredKey> {
        self.key.as_ref()
    }

    /// Starts over for `key`; returns true when it differs from the current one (count again).
    pub fn set_key(&mut self, key: StoredKey) -> bool {
        if self.key.as_ref() == Some(&key) {
            return false;
        }
        *self = Self { key: Some(key), ..Self::default() };
        true
    }

    /// Forgets everything (history cleared, another profile).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    pub fn counted(&mut self, key: &StoredKey, count: u64) {
        if self.key.as_ref() == Some(key) {
            self.count = Some(count);
        }
    }

    /// Row `i`, or `None` while its page is not read; `missing` collects pages to read.
    pub fn row(&self, i: u64, missing: &mut Vec<u64>) -> Option<&ReceivedMessage> {
        let page = i / PAGE;
        let row = self.pages.get(&page).and_then(|p| p.get(usize::try_from(i % PAGE).ok()?));
        if row.is_none() && !self.asked.contains(&page) && !missing.contains(&page) {
            missing.push(page);
        }
        row
    }

    /// Marks a page as being read.
    pub fn asked(&mut self, page: u64) {
        self.asked.insert(page);
        self.focus = page;
    }

    pub fn page_read(&mut self, key: &StoredKey, page: u64, rows: Vec<ReceivedMessage>) {
        if self.key.as_ref() != Some(key) {
            return;
        }
        self.asked.remove(&page);
        self.pages.insert(page, rows);
        while self.pages.len() > KEEP_PAGES {
            let focus = self.focus;
            let Some(far) = self.pages.keys().copied().max_by_key(|p| p.abs_diff(focus)) else { break };
            self.pages.remove(&far);
        }
    }

    /// Messages held in memory by the pages.
    pub fn held(&self) -> usize {
        self.pages.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use bytes::Bytes;

    use super::*;
    use crate::connection::Qos;

    fn key(search: &str) -> StoredKey {
        StoredKey { profile: "Pi".into(), client: None, before_ms: 1_000, search: search.into() }
    }

    fn rows(n: u64) -> Vec<ReceivedMessage> {
        (0..n)
            .map(|i| ReceivedMessage {
                topic: format!("t/{i}"),
                payload: Bytes::new(),
                qos: Qos::AtMostOnce,
                retain: false,
                dup: false,
                at: SystemTime::UNIX_EPOCH,
                properties: crate::mqtt::PublishProperties::default(),
            })
            .collect()
    }

    #[test]
    fn missing_pages_are_asked_once_and_far_pages_are_dropped() {
        let mut stored = StoredRows::default();
        assert!(stored.set_key(key("")));
        assert!(!stored.set_key(key("")), "the same key keeps the pages");
        stored.counted(&key(""), 1_000_000);
        let mut missing = Vec::new();
        assert!(stored.row(0, &mut missing).is_none());
        assert!(stored.row(1, &mut missing).is_none());
        assert_eq!(missing, [0]);
        stored.asked(0);
        let mut again = Vec::new();
        assert!(stored.row(2, &mut again).is_none());
        assert!(again.is_empty(), "asked once");
        stored.page_read(&key(""), 0, rows(PAGE));
        assert_eq!(stored.row(2, &mut again).unwrap().topic, "t/2");
        for page in 1..=100 {
            stored.asked(page);
            stored.page_read(&key(""), page, rows(PAGE));
        }
        assert_eq!(stored.held(), 40 * PAGE as usize, "memory stays bounded while scrolling a million rows");
        assert!(stored.row(0, &mut again).is_none(), "the first page, far away now, was dropped");
        stored.page_read(&key("other"), 7, rows(1));
        assert!(stored.set_key(key("sun")), "a new search starts over");
        assert_eq!((stored.len(), stored.held()), (0, 0));
    }
}
