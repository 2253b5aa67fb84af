//! The history database: one SQLite file (bundled SQLite, WAL), one row per received message.
//! Plain functions over a `Connection`, so the writer thread and the readers share them.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rusqlite::{Connection, params};

use super::migrate;
use crate::connection::{Qos, ReceivedMessage};
use crate::mqtt::PublishProperties;

/// How the file is kept, set on every open (the schema itself is in `migrate`).
const PRAGMAS: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
";

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub profile: String,
    /// The client id of the connection that received it: one profile may be open twice (a
    /// publisher and a subscriber side by side), each with its own id. Empty when not known;
    /// stored as NULL then, as rows from before schema 3 are.
    pub client_id: String,
    pub message: ReceivedMessage,
}

impl Record {
    pub fn new(profile: impl Into<String>, client_id: impl Into<String>, message: ReceivedMessage) -> Self {
        Self { profile: profile.into(), client_id: client_id.into(), message }
    }
}

/// Opens (creating if needed) the history file; the directory is created too. An older file is
/// brought to the current schema; a newer one is refused before anything is written to it.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    if let Some(dir) = path.parent() {
        // A missing directory shows up as SQLite's "unable to open" just below.
        let _ = std::fs::create_dir_all(dir);
    }
    let mut db = Connection::open(path)?;
    db.busy_timeout(Duration::from_secs(5))?;
    // Before the pragmas: switching to WAL would already write to a file this build must not touch.
    let found = migrate::version(&db)?;
    if found > migrate::CURRENT {
        return Err(migrate::too_new(found));
    }
    if found == 0 {
        // Only before the first table does this take effect; on any later open it would still
        // rewrite the header, a write on every reader's open.
        db.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")?;
    }
    db.execute_batch(PRAGMAS)?;
    migrate::migrate(&mut db)?;
    Ok(db)
}

pub fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn time_of(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

const fn qos_of(level: i64) -> Qos {
    match level {
        1 => Qos::AtLeastOnce,
        2 => Qos::ExactlyOnce,
        _ => Qos::AtMostOnce,
    }
}

/// Writes `records` in one transaction: all or nothing.
pub fn insert(db: &mut Connection, records: &[Record]) -> rusqlite::Result<()> {
    let tx = db.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO messages (profile, topic, payload, qos, retain, at_ms, dup, properties, client_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for r in records {
            let m = &r.message;
            // A 3.1.1 message (no properties) costs no JSON and a NULL.
            let properties = if m.properties.is_empty() { None } else { Some(properties_json(&m.properties)?) };
            stmt.execute(params![
                r.profile,
                m.topic,
                &m.payload[..],
                m.qos.level(),
                m.retain,
                millis(m.at),
                m.dup,
                properties,
                (!r.client_id.is_empty()).then_some(r.client_id.as_str())
            ])?;
        }
    }
    tx.commit()
}

fn properties_json(p: &PublishProperties) -> rusqlite::Result<String> {
    serde_json::to_string(p).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// The columns `row_message` reads, in its order.
pub(super) const COLUMNS: &str = "topic, payload, qos, retain, at_ms, dup, properties";

pub(super) fn row_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<ReceivedMessage> {
    row_message_from(row, 0)
}

/// `row_message` for a row whose `COLUMNS` start at index `first` (after columns of its own).
pub(super) fn row_message_from(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ReceivedMessage> {
    let properties = match row.get_ref(first + 6)?.as_str_or_null()? {
        None => PublishProperties::default(),
        Some(json) => serde_json::from_str(json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(first + 6, rusqlite::types::Type::Text, Box::new(e))
        })?,
    };
    Ok(ReceivedMessage {
        topic: row.get(first)?,
        payload: Bytes::from(row.get::<_, Vec<u8>>(first + 1)?),
        qos: qos_of(row.get(first + 2)?),
        retain: row.get(first + 3)?,
        dup: row.get(first + 5)?,
        at: time_of(row.get(first + 4)?),
        properties,
    })
}

/// A profile's newest `limit` messages, newest first.
pub fn newest(db: &Connection, profile: &str, limit: usize) -> rusqlite::Result<Vec<ReceivedMessage>> {
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE profile = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2");
    let mut stmt = db.prepare_cached(&sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    stmt.query_map(params![profile, limit], row_message)?.collect()
}

/// How many messages a profile has stored.
pub fn count(db: &Connection, profile: &str) -> rusqlite::Result<u64> {
    db.query_row("SELECT COUNT(*) FROM messages WHERE profile = ?1", [profile], |r| r.get::<_, i64>(0))
        .map(|n| u64::try_from(n).unwrap_or(0))
}

/// Deletes a profile's history; the number of messages removed.
pub fn clear(db: &Connection, profile: &str) -> rusqlite::Result<usize> {
    db.execute("DELETE FROM messages WHERE profile = ?1", [profile])
}

/// Deletes messages received before `before`; the number removed.
pub fn delete_older(db: &Connection, before: SystemTime) -> rusqlite::Result<usize> {
    db.execute("DELETE FROM messages WHERE at_ms < ?1", [millis(before)])
}

/// The database's size on disk in bytes (pages in use, the WAL not counted).
pub fn size_bytes(db: &Connection) -> rusqlite::Result<u64> {
    let pages: i64 = db.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let page_size: i64 = db.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(u64::try_from(pages * page_size).unwrap_or(0))
}

/// The literal start of a filter, before its first wildcard: "PV/#" -> "PV/".
fn literal_prefix(filter: &str) -> &str {
    filter.find(['+', '#']).map_or(filter, |i| &filter[..i])
}

/// Calls `each(topic, payload, at_ms)` for a profile's messages whose topic may match `filter`
/// (the caller matches exactly), received in `[from_ms, to_ms]`, in time order. The topic index
/// narrows the search to the filter's literal prefix.
pub fn each_in_range(
    db: &Connection,
    profile: &str,
    filter: &str,
    (from_ms, to_ms): (i64, i64),
    mut each: impl FnMut(&str, &[u8], i64),
) -> rusqlite::Result<()> {
    let exact = !filter.contains(['+', '#']);
    let prefix = literal_prefix(filter);
    // Above every topic that starts with `prefix`: U+10FFFF sorts after any other character.
    let upper = format!("{prefix}\u{10FFFF}");
    let sql = if exact {
        "SELECT topic, payload, at_ms FROM messages WHERE profile = ?1 AND topic = ?2 AND at_ms BETWEEN ?4 AND ?5 AND ?3 = ?3 ORDER BY at_ms, id"
    } else {
        "SELECT topic, payload, at_ms FROM messages WHERE profile = ?1 AND topic >= ?2 AND topic < ?3 AND at_ms BETWEEN ?4 AND ?5 ORDER BY at_ms, id"
    };
    let mut stmt = db.prepare_cached(sql)?;
    let mut rows = stmt.query(params![profile, prefix, upper, from_ms, to_ms])?;
    while let Some(row) = rows.next()? {
        let topic = row.get_ref(0)?.as_str()?;
        let payload = row.get_ref(1)?.as_blob()?;
        each(topic, payload, row.get(2)?);
    }
    Ok(())
}

/// The condition shared by `count_before`, `page_before` and `each_before`: a profile's messages
/// (of one connection, the client id `?4`, when it is not NULL: a profile open twice)
/// received before `?2` that contain `?3` when it is not empty, as the list's search in memory
/// matches them (`model::messages`): in the topic, the payload as text, or the MQTT 5 properties'
/// text (content type, response topic, user property names and values, correlation data as
/// text). Rows without properties (NULL) never reach the JSON functions.
const BEFORE: &str = "FROM messages WHERE profile = ?1 AND at_ms < ?2 AND (?4 IS NULL OR client_id IS ?4)
    AND (?3 = '' OR instr(topic, ?3) > 0 OR instr(CAST(payload AS TEXT), ?3) > 0
        OR properties IS NOT NULL AND (
            instr(properties ->> '$.content_type', ?3) > 0
            OR instr(properties ->> '$.response_topic', ?3) > 0
            OR instr(CAST(unhex(properties ->> '$.correlation_data') AS TEXT), ?3) > 0
            OR EXISTS (SELECT 1 FROM json_each(properties, '$.user_properties') AS u
                WHERE instr(u.value ->> '$.name', ?3) > 0 OR instr(u.value ->> '$.value', ?3) > 0)))";

/// Whose rows a read takes: a profile's (`client: None`), or one connection's of it.
#[derive(Debug, Clone, Copy)]
pub struct Whose<'a> {
    pub profile: &'a str,
    /// The receiving connection's client id, when the profile is open more than once.
    pub client: Option<&'a str>,
}

/// How many of a profile's messages were received before `before_ms` (and contain `search`).
pub fn count_before(db: &Connection, whose: Whose<'_>, before_ms: i64, search: &str) -> rusqlite::Result<u64> {
    let sql = format!("SELECT COUNT(*) {BEFORE}");
    db.query_row(&sql, params![whose.profile, before_ms, search, whose.client], |r| r.get::<_, i64>(0))
        .map(|n| u64::try_from(n).unwrap_or(0))
}

/// One page of those messages, newest first: `limit` of them after skipping `offset`.
pub fn page_before(
    db: &Connection,
    whose: Whose<'_>,
    before_ms: i64,
    search: &str,
    (offset, limit): (u64, u64),
) -> rusqlite::Result<Vec<ReceivedMessage>> {
    let sql = format!("SELECT {COLUMNS} {BEFORE} ORDER BY at_ms DESC, id DESC LIMIT ?5 OFFSET ?6");
    let mut stmt = db.prepare_cached(&sql)?;
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    stmt.query_map(params![whose.profile, before_ms, search, whose.client, n(limit), n(offset)], row_message)?.collect()
}

/// Calls `each` for a profile's messages received before `before_ms` (and containing `search`),
/// oldest first: an export streams them without holding them all.
pub fn each_before(
    db: &Connection,
    whose: Whose<'_>,
    before_ms: i64,
    search: &str,
    mut each: impl FnMut(ReceivedMessage) -> std::io::Result<()>,
) -> Result<(), String> {
    let sql = format!("SELECT {COLUMNS} {BEFORE} ORDER BY at_ms, id");
    let mut stmt = db.prepare(&sql).map_err(|e| e.to_string())?;
    let mut rows = stmt.query(params![whose.profile, before_ms, search, whose.client]).map_err(|e| e.to_string())?;
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        each(row_message(row).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    Ok(())
}
