//! The topic tree's reads: what history knows of each topic of a profile (how many messages,
//! the last one, whether the broker probably holds a retained message for it), a topic's recent
//! messages for the detail pane, and one connection's newest messages when a profile is open
//! twice. All of them run off the UI thread on a reader's own
//! connection; on a file of 1,000,000 rows they are served by the `(profile, topic, at_ms)`
//! index the file has had since schema 1 (figures in `scale_tests`).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, ToSql, params};

use super::db::{COLUMNS, Whose, row_message, row_message_from};
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
    topics_before(db, Whose { profile, client: None }, i64::MAX)
}

/// `topics` of the messages received before `before_ms` (Unix milliseconds): a tree that counts
/// what arrives live from a moment on seeds itself with what history holds from before it, so
/// a message committed in between is not counted twice.
///
/// Counting walks the topic index without touching the table; then each topic's newest row is
/// one index seek and one read of that row, so the cost is the profile's rows in the index plus
/// two seeks per topic.
///
/// `retained` is read off the newest row when it is retained or empty (no further cost); the
/// other topics are settled by `settle_retained`.
///
/// With `whose.client` (a profile open twice), only that connection's rows count: the profile's
/// index is walked as before and each row's client id read from the table.
pub fn topics_before(db: &Connection, whose: Whose<'_>, before_ms: i64) -> rusqlite::Result<Vec<TopicSummary>> {
    topics_settled(db, whose, before_ms, None)
}

/// The SQL condition on the client id, `?{n}`, when `whose` names one; none for a whole profile,
/// so its reads stay within the (profile, topic, at_ms) index.
fn client_clause(whose: Whose<'_>, n: usize) -> String {
    if whose.client.is_some() { format!(" AND client_id IS ?{n}") } else { String::new() }
}

/// `fixed` then the client id when `whose` names one (the parameter `client_clause` refers to).
fn with_client<'a>(mut fixed: Vec<&'a dyn ToSql>, whose: &'a Whose<'a>) -> Vec<&'a dyn ToSql> {
    if let Some(client) = &whose.client {
        fixed.push(client);
    }
    fixed
}

/// How the topics whose newest row says nothing of a retained message are settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Settle {
    /// Each topic's rows newest first until one says something: one index step and one table
    /// seek per row (about a microsecond), so it costs the live rows after the topic's last
    /// retained one, or all the rows of a topic never retained.
    Walk,
    /// One pass over the whole table in storage order (about a tenth of that per row), keeping
    /// each topic's newest row that says something: a bound when the walks would be long.
    Scan,
}

/// What a table step costs against a walk's step, as measured on a million rows.
const WALK_STEPS_PER_SCAN_STEP: u64 = 8;

/// `topics_before`, settling `retained` as `how` says, or the cheaper way for `None`: `Walk`
/// while those topics hold fewer rows than an eighth of the table, else `Scan` (tests run both).
pub(super) fn topics_settled(
    db: &Connection,
    whose: Whose<'_>,
    before_ms: i64,
    how: Option<Settle>,
) -> rusqlite::Result<Vec<TopicSummary>> {
    let client = client_clause(whose, 3);
    // `length` of a BLOB comes from the row's header: the payload itself is not read. NULL when
    // the newest row says nothing.
    let sql = format!(
        "SELECT g.n, CASE WHEN messages.retain <> 0 OR length(messages.payload) = 0
                     THEN messages.retain <> 0 AND length(messages.payload) > 0 END,
                {COLUMNS}
         FROM (SELECT topic AS t, COUNT(*) AS n FROM messages WHERE profile = ?1 AND at_ms < ?2{client}
               GROUP BY topic) AS g
         CROSS JOIN messages ON messages.id = (
             SELECT id FROM messages WHERE profile = ?1 AND topic = g.t AND at_ms < ?2{client}
             ORDER BY at_ms DESC, id DESC LIMIT 1)"
    );
    let mut stmt = db.prepare_cached(&sql)?;
    let (mut unsettled, mut walk) = (Vec::new(), 0);
    let mut found = stmt
        .query_map(&*with_client(vec![&whose.profile, &before_ms], &whose), |row| {
            let count = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
            let retained = row.get::<_, Option<bool>>(1)?;
            let last = row_message_from(row, 2)?;
            Ok((TopicSummary { topic: last.topic.clone(), count, last, retained: retained.unwrap_or(false) }, retained))
        })?
        .map(|r| {
            r.map(|(summary, retained)| {
                if retained.is_none() {
                    unsettled.push(summary.topic.clone());
                    walk += summary.count;
                }
                summary
            })
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // The grouping walks the index in topic order, so this is one pass over a sorted list; an
    // ORDER BY would have SQLite sort it again in a temporary tree (a fifth of the time).
    found.sort_by(|a, b| a.topic.cmp(&b.topic));
    if !unsettled.is_empty() {
        let settled = settle_retained(db, whose, before_ms, unsettled, walk, how)?;
        for t in &mut found {
            t.retained = settled.get(t.topic.as_str()).copied().unwrap_or(t.retained);
        }
    }
    Ok(found)
}

/// `Walk` while the walks (at most `walk` rows) are shorter than an eighth of the table.
fn cheaper(db: &Connection, walk: u64) -> rusqlite::Result<Settle> {
    // Ids are handed out in order and retention deletes the oldest: their span is the table's
    // size (every profile's rows, which a scan reads), found in two seeks.
    let span: i64 = db.query_row("SELECT COALESCE(MAX(id) - MIN(id) + 1, 0) FROM messages", [], |r| r.get(0))?;
    let scan = walk.saturating_mul(WALK_STEPS_PER_SCAN_STEP) > u64::try_from(span).unwrap_or(0);
    Ok(if scan { Settle::Scan } else { Settle::Walk })
}

/// `retained` of each of `topics` (whose newest row said nothing; `walk` rows between them):
/// whether its newest row that is retained or empty is retained with a payload.
fn settle_retained(
    db: &Connection,
    whose: Whose<'_>,
    before_ms: i64,
    topics: Vec<String>,
    walk: u64,
    how: Option<Settle>,
) -> rusqlite::Result<HashMap<String, bool>> {
    let says_something = "(retain <> 0 OR length(payload) = 0)";
    let profile = whose.profile;
    let how = if let Some(how) = how { how } else { cheaper(db, walk)? };
    let mut settled = HashMap::with_capacity(topics.len());
    if how == Settle::Scan {
        // NOT INDEXED: the table in storage order, not the time index and a seek per row.
        let mut newest: HashMap<String, (i64, i64, bool)> =
            topics.into_iter().map(|t| (t, (i64::MIN, i64::MIN, false))).collect();
        let mut stmt = db.prepare_cached(&format!(
            "SELECT topic, at_ms, id, retain <> 0 AND length(payload) > 0 FROM messages NOT INDEXED
             WHERE profile = ?1 AND at_ms < ?2 AND {says_something}{}",
            client_clause(whose, 3)
        ))?;
        let mut rows = stmt.query(&*with_client(vec![&profile, &before_ms], &whose))?;
        while let Some(row) = rows.next()? {
            let Some(seen) = newest.get_mut(row.get_ref(0)?.as_str()?) else { continue };
            let (at, id) = (row.get::<_, i64>(1)?, row.get::<_, i64>(2)?);
            if (at, id) > (seen.0, seen.1) {
                *seen = (at, id, row.get(3)?);
            }
        }
        settled.extend(newest.into_iter().map(|(t, (_, _, retained))| (t, retained)));
    } else {
        let mut stmt = db.prepare_cached(&format!(
            "SELECT retain <> 0 AND length(payload) > 0 FROM messages
             WHERE profile = ?1 AND topic = ?2 AND at_ms < ?3 AND {says_something}{}
             ORDER BY at_ms DESC, id DESC LIMIT 1",
            client_clause(whose, 4)
        ))?;
        for topic in topics {
            let retained =
                stmt.query_row(&*with_client(vec![&profile, &topic, &before_ms], &whose), |r| r.get(0)).optional()?;
            settled.insert(topic, retained.unwrap_or(false));
        }
    }
    Ok(settled)
}

/// A topic's newest `limit` messages of a profile (or of one connection of it), newest first
/// (the node's detail pane).
pub fn recent(db: &Connection, whose: Whose<'_>, topic: &str, limit: usize) -> rusqlite::Result<Vec<ReceivedMessage>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE profile = ?1 AND topic = ?2{}
         ORDER BY at_ms DESC, id DESC LIMIT ?3",
        client_clause(whose, 4)
    );
    let mut stmt = db.prepare_cached(&sql)?;
    let limit = limit_of(limit);
    stmt.query_map(&*with_client(vec![&whose.profile, &topic, &limit], &whose), row_message)?.collect()
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
