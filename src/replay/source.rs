//! Where a replay's messages come from: a time range and topic filter of one connection's
//! history, or a JSON-lines file. Both read files: call them off the UI thread.

use std::path::Path;

use super::lines::{MAX_MESSAGES, parse_lines};
use crate::connection::ReceivedMessage;
use crate::history;

/// A part of the history file: whose messages, which topics, received when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRange {
    pub db_path: std::path::PathBuf,
    pub profile: String,
    /// One connection's rows when its profile is open more than once.
    pub client: Option<String>,
    /// An MQTT topic filter ("#" for all).
    pub filter: String,
    /// Unix ms, both ends included.
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The messages of `range`, oldest first.
pub fn from_history(range: &HistoryRange) -> Result<Vec<ReceivedMessage>, String> {
    crate::mqtt::validate_filter(&range.filter)?;
    if range.from_ms > range.to_ms {
        return Err("the range ends before it starts".into());
    }
    let db = history::open(&range.db_path).map_err(|e| format!("{}: {e}", range.db_path.display()))?;
    let whose = history::Whose { profile: &range.profile, client: range.client.as_deref() };
    let mut messages = Vec::new();
    history::each_before(&db, whose, range.to_ms.saturating_add(1), "", |m| {
        if history::millis(m.at) >= range.from_ms && crate::mqtt::filter_matches(&range.filter, &m.topic) {
            if messages.len() == MAX_MESSAGES {
                return Err(std::io::Error::other(format!(
                    "more than {MAX_MESSAGES} messages in the range: narrow it or the filter"
                )));
            }
            messages.push(m);
        }
        Ok(())
    })?;
    Ok(messages)
}

/// The messages of a JSON-lines file (as the message list exports them), in the file's order.
pub fn from_file(path: &Path) -> Result<Vec<ReceivedMessage>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_lines(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use bytes::Bytes;

    use super::*;
    use crate::connection::Qos;
    use crate::history::Record;

    fn message(topic: &str, ms: u64) -> ReceivedMessage {
        ReceivedMessage {
            topic: topic.into(),
            payload: Bytes::from_static(b"1"),
            qos: Qos::AtMostOnce,
            retain: false,
            dup: false,
            at: UNIX_EPOCH + Duration::from_millis(ms),
            properties: crate::mqtt::PublishProperties::default(),
        }
    }

    #[test]
    fn a_range_takes_its_profile_filter_and_times_only() {
        let dir = std::env::temp_dir().join(format!("mqtt-lab-replay-source-{}", std::process::id()));
        let db_path = dir.join("history.sqlite3");
        let mut db = history::open(&db_path).unwrap();
        let rows = [
            Record::new("lab", "c1", message("PV/data", 1_000)),
            Record::new("lab", "c1", message("PV/data", 2_000)),
            Record::new("lab", "c1", message("lamp/state", 2_500)),
            Record::new("lab", "c2", message("PV/power", 3_000)),
            Record::new("other", "c1", message("PV/data", 3_000)),
            Record::new("lab", "c1", message("PV/data", 4_001)),
        ];
        history::insert(&mut db, &rows).unwrap();
        let range = HistoryRange {
            db_path: db_path.clone(),
            profile: "lab".into(),
            client: None,
            filter: "PV/#".into(),
            from_ms: 2_000,
            to_ms: 4_000,
        };
        let topics = |r: &HistoryRange| -> Vec<(String, i64)> {
            from_history(r).unwrap().into_iter().map(|m| (m.topic, history::millis(m.at))).collect()
        };
        assert_eq!(topics(&range), [("PV/data".to_owned(), 2_000), ("PV/power".to_owned(), 3_000)]);
        let one_client = HistoryRange { client: Some("c1".into()), ..range.clone() };
        assert_eq!(topics(&one_client), [("PV/data".to_owned(), 2_000)]);
        let bad = HistoryRange { filter: "PV/#/x".into(), ..range.clone() };
        assert!(from_history(&bad).is_err());
        let backwards = HistoryRange { from_ms: 5_000, ..range };
        assert!(from_history(&backwards).unwrap_err().contains("ends before it starts"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = from_file(Path::new("/nonexistent/burst.jsonl")).unwrap_err();
        assert!(e.starts_with("/nonexistent/burst.jsonl: "), "{e}");
    }
}
