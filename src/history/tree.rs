//! The topic tree's reads: what history knows of each topic of a profile (how many messages,
//! the last one, whether the broker probably holds a retained message for it), a topic's recent
//! messages for the detail pane, and one connection's newest messages when a profile is open
//! twice. All of them run off the UI thread on a reader's own
//! connection; on a file of 1,000,000 rows they are served by the `(profile, topic, at_ms)`
//! index the file has had since schema 1 (figures in `scale_tests`).

use rusqlite::{Connection, params};

use super::db::{COLUMNS, row_message, row_message_from};
use crate::connection::ReceivedMessage;

/// One topic of a profile as history knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSummary {
    pub topic: String,
    /// Messages stored for this topic (the node's own count; the subtree's is the app's sum).
    pub count: u64,
    /// The newest of them (time, payload, retain flag, QoS; MQTT 5 properties when it had some).
    /// Of two received in the same millisecond, the one stored last.
    pub last: ReceivedMessage,
    /// Whether the broker probably holds a retained message for the topic (as of the newest row
    /// counted): the newest row that says anything about it is a retained non-empty one.
    ///
    /// `last.retain` cannot tell: a broker replays the retained message at subscribe time with
    /// RETAIN 1, but forwards what arrives after to a live subscriber with RETAIN 0 (MQTT 3.1.1,
    /// and MQTT 5 without "retain as published"), so a typical history is one retained row and
    /// then live rows whose flag is clear. Rows that say something are
    /// - RETAIN 1 with a payload: the broker stores it;
    /// - any empty payload, RETAIN 1 or not: a delete. An empty retained PUBLISH (the Topics
    ///   tab's "Delete retained…" sends one) reaches a live subscriber as an empty payload with
    ///   RETAIN 0. An empty message sent without the flag deletes nothing on the broker, but
    ///   history cannot tell the two apart, and is taken as a delete: the topic then shows as not
    ///   retained until a later RETAIN 1 row (the next connection's replay) says otherwise.
    ///
    /// Live non-empty rows with RETAIN 0 say nothing (their publisher may or may not have set the
    /// flag), so they neither make nor unmake a retained topic.
    pub retained: bool,
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Every topic a profile has messages for, in topic order, with its count and last message.
pub fn topics(db: &Connection, profile: &str) -> rusqlite::Result<Vec<TopicSummary>> {
    topics_before(db, profile, i64::MAX)
}

/// `topics` of the messages received before `before_ms` (Unix milliseconds): a tree that counts
/// what arrives live from a moment on seeds itself with what history holds from before it, so
/// a message committed in between is not counted twice.
///
/// Counting walks the topic index without touching the table; then each topic's newest row is
/// one index seek and one read of that row, so the cost is the profile's rows in the index plus
/// two seeks per topic.
///
/// `retained` is read off the newest row when it is retained or empty (no further cost);
/// otherwise the topic's rows are walked newest first, reading each row's flag and payload
/// length, until one is: a topic with a retained row before a run of live ones costs the run,
/// a topic never retained all its rows (figures in `scale_tests`).
pub fn topics_before(db: &Connection, profile: &str, before_ms: i64) -> rusqlite::Result<Vec<TopicSummary>> {
    // `length` of a BLOB comes from the row's header: the payload itself is not read.
    let sql = format!(
        "SELECT g.n, CASE WHEN messages.retain <> 0 OR length(messages.payload) = 0
                     THEN messages.retain <> 0 AND length(messages.payload) > 0
                     ELSE (SELECT r.retain <> 0 AND length(r.payload) > 0 FROM messages AS r
                           WHERE r.profile = ?1 AND r.topic = g.t AND r.at_ms < ?2
                             AND (r.retain <> 0 OR length(r.payload) = 0)
                           ORDER BY r.at_ms DESC, r.id DESC LIMIT 1) END,
                {COLUMNS}
         FROM (SELECT topic AS t, COUNT(*) AS n FROM messages WHERE profile = ?1 AND at_ms < ?2 GROUP BY topic) AS g
         CROSS JOIN messages ON messages.id = (
             SELECT id FROM messages WHERE profile = ?1 AND topic = g.t AND at_ms < ?2
             ORDER BY at_ms DESC, id DESC LIMIT 1)"
    );
    let mut stmt = db.prepare_cached(&sql)?;
    let mut found = stmt
        .query_map(params![profile, before_ms], |row| {
            let count = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
            // NULL: no row said anything, the topic was never retained.
            let retained = row.get::<_, Option<bool>>(1)?.unwrap_or(false);
            let last = row_message_from(row, 2)?;
            Ok(TopicSummary { topic: last.topic.clone(), count, last, retained })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // The grouping walks the index in topic order, so this is one pass over a sorted list; an
    // ORDER BY would have SQLite sort it again in a temporary tree (a fifth of the time).
    found.sort_by(|a, b| a.topic.cmp(&b.topic));
    Ok(found)
}

/// A topic's newest `limit` messages of a profile, newest first (the node's detail pane).
pub fn recent(db: &Connection, profile: &str, topic: &str, limit: usize) -> rusqlite::Result<Vec<ReceivedMessage>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE profile = ?1 AND topic = ?2 ORDER BY at_ms DESC, id DESC LIMIT ?3"
    );
    let mut stmt = db.prepare_cached(&sql)?;
    stmt.query_map(params![profile, topic, limit_of(limit)], row_message)?.collect()
}

/// The newest `limit` messages one connection received (its profile and client id), newest
/// first: for a profile open twice, each connection's own list. An empty client id reads the
/// rows stored without one (from before schema 3).
///
/// There is no index on the client id (each insert would pay for it): the profile's rows are
/// walked newest first until `limit` of this connection's are found, which is quick while the
/// connection has received recently and at worst a walk of the profile's rows.
pub fn newest_of_client(
    db: &Connection,
    profile: &str,
    client_id: &str,
    limit: usize,
) -> rusqlite::Result<Vec<ReceivedMessage>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE profile = ?1 AND client_id IS ?2 ORDER BY at_ms DESC, id DESC LIMIT ?3"
    );
    let mut stmt = db.prepare_cached(&sql)?;
    let client = (!client_id.is_empty()).then_some(client_id);
    stmt.query_map(params![profile, client, limit_of(limit)], row_message)?.collect()
}
