//! The SQLite file: one table per kind of state, a transaction per batch of changes.
//!
//! WAL mode with `synchronous=FULL`: a commit is on disk when it returns, and a crash (kill -9,
//! power loss) leaves the last committed batch intact.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use rusqlite::{Connection, params};

use super::Change;
use super::columns::{Clock, from_ms, options_of, properties_blob, properties_of, sub_id, to_ms};
use crate::broker::{Message, Origin, Retained};
use crate::codec::{PacketId, QoS, SubOptions, TopicFilter, TopicName};

#[derive(Debug, thiserror::Error)]
#[error("persistence database {path}: {error}")]
pub struct StoreError {
    pub path: String,
    pub error: rusqlite::Error,
}

/// A message held for a persistent session, as saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub seq: u64,
    pub message: Message,
    /// Set once sent; `received` once PUBREC came back.
    pub pid: Option<PacketId>,
    pub received: bool,
}

/// A persistent session as saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoredSession {
    pub username: Option<Arc<str>>,
    /// Session Expiry Interval in seconds, 0xFFFFFFFF: never (a database written before
    /// MQTT 5.0 holds only 3.1.1 persistent sessions, which never expire).
    pub expiry: u32,
    /// When its last connection ended (wall clock); `None` if it was not recorded.
    pub disconnected: Option<SystemTime>,
    /// With their options and Subscription Identifier (MQTT 5.0).
    pub subscriptions: Vec<(TopicFilter, SubOptions, Option<NonZeroU32>)>,
    /// In `seq` order.
    pub messages: Vec<StoredMessage>,
    pub incoming_qos2: Vec<PacketId>,
}

impl Default for RestoredSession {
    fn default() -> Self {
        Self {
            username: None,
            expiry: u32::MAX,
            disconnected: None,
            subscriptions: Vec::new(),
            messages: Vec::new(),
            incoming_qos2: Vec::new(),
        }
    }
}

/// Everything loaded at startup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// With who stored each and when.
    pub retained: Vec<Retained>,
    pub sessions: BTreeMap<Arc<str>, RestoredSession>,
}

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, payload BLOB NOT NULL, qos INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS sessions (client_id TEXT PRIMARY KEY, username TEXT);
    CREATE TABLE IF NOT EXISTS subscriptions (
        client_id TEXT NOT NULL, filter TEXT NOT NULL, qos INTEGER NOT NULL, PRIMARY KEY (client_id, filter));
    CREATE TABLE IF NOT EXISTS messages (
        client_id TEXT NOT NULL, seq INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
        qos INTEGER NOT NULL, retain INTEGER NOT NULL, pid INTEGER, received INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (client_id, seq));
    CREATE TABLE IF NOT EXISTS incoming_qos2 (client_id TEXT NOT NULL, pid INTEGER NOT NULL, PRIMARY KEY (client_id, pid));
";

/// Columns added since the first schema, with their type: added to an older file when it is
/// opened, NULL in its rows (read as "never expires", "disconnect time unknown", "no
/// properties", "only the QoS column", "no identifier").
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    // Session Expiry Interval, seconds.
    ("sessions", "expiry", "INTEGER"),
    // When the last connection ended: milliseconds since the Unix epoch.
    ("sessions", "disconnected_ms", "INTEGER"),
    // A message's MQTT 5.0 properties: the encoded block (Property Length, properties).
    ("retained", "properties", "BLOB"),
    ("messages", "properties", "BLOB"),
    // When its Message Expiry Interval runs out: milliseconds since the Unix epoch.
    ("retained", "expires_ms", "INTEGER"),
    ("messages", "expires_ms", "INTEGER"),
    // The subscription options byte (MQTT 5.0 3.8.3.1) and the Subscription Identifier.
    ("subscriptions", "options", "INTEGER"),
    ("subscriptions", "sub_id", "INTEGER"),
    // Who stored a retained message (its client id; NULL: the broker) and when: milliseconds
    // since the Unix epoch (NULL in rows saved before issue 22: read as the time of loading).
    ("retained", "publisher", "TEXT"),
    ("retained", "stored_ms", "INTEGER"),
    // The publisher's user name then, for `check_retain_source` after a restart (NULL: none,
    // or a row saved before it was kept).
    ("retained", "publisher_username", "TEXT"),
];

/// Adds the columns an older database lacks; its data stays readable.
fn migrate(conn: &Connection) -> Result<(), rusqlite::Error> {
    for (table, column, kind) in ADDED_COLUMNS {
        let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
        let names: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        if !names.iter().any(|n| n == column) {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))?;
        }
    }
    Ok(())
}

pub struct Store {
    conn: Connection,
    path: String,
}

fn qos(n: i64) -> QoS {
    QoS::from_u8(u8::try_from(n).unwrap_or(0)).unwrap_or_default()
}

fn pid(n: i64) -> Option<PacketId> {
    PacketId::new(u16::try_from(n).unwrap_or(0))
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let err = |error| StoreError { path: name.clone(), error };
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        migrate(&conn).map_err(err)?;
        Ok(Self { conn, path: name })
    }

    fn error(&self, error: rusqlite::Error) -> StoreError {
        StoreError { path: self.path.clone(), error }
    }

    /// Applies a batch of changes in one transaction: all or nothing.
    pub fn apply(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        let clock = Clock::now();
        let tx = self.conn.transaction().map_err(|e| StoreError { path: self.path.clone(), error: e })?;
        for change in changes {
            apply_one(&tx, change, &clock).map_err(|e| StoreError { path: self.path.clone(), error: e })?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    /// Reads everything back, on the runtime's clock (call it at startup, within the runtime).
    /// Rows that no longer decode (a topic or property block made invalid by hand) are skipped,
    /// never fatal.
    pub fn load(&self) -> Result<Restored, StoreError> {
        self.load_at(Clock::now())
    }

    /// [`Self::load`] as if at `clock`: a message's time left is its saved deadline less the
    /// wall-clock time now, so the broker's downtime counts. A retained or queued message
    /// whose Message Expiry Interval passed meanwhile is deleted [MQTT-3.3.2-5]; one already
    /// sent (in flight) is kept, expired, and completed like a live one.
    pub(super) fn load_at(&self, clock: Clock) -> Result<Restored, StoreError> {
        self.load_inner(&clock).map_err(|e| self.error(e))
    }

    /// The retained messages whose expiry has not passed, with who stored them and when.
    fn load_retained(&self, clock: &Clock, wall: i64) -> Result<Vec<Retained>, rusqlite::Error> {
        let mut retained = Vec::new();
        let mut stmt = self.conn.prepare(
            "SELECT topic, payload, qos, properties, expires_ms, publisher, stored_ms, publisher_username
             FROM retained ORDER BY topic",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?),
                (r.get::<_, Option<Vec<u8>>>(3)?, r.get::<_, Option<i64>>(4)?),
                (r.get::<_, Option<String>>(5)?, r.get::<_, Option<i64>>(6)?, r.get::<_, Option<String>>(7)?),
            ))
        })?;
        let loaded_ms = u64::try_from(wall).unwrap_or(0);
        for row in rows {
            let ((topic, payload, q), (properties, expires), (publisher, stored, username)) = row?;
            let expires_at = expires.map(|ms| clock.instant_of(ms));
            if let (Ok(topic), Some(properties), None | Some(Some(_))) =
                (TopicName::new(topic), properties_of(properties.as_deref()), expires_at)
            {
                let message = Message::new(topic, Bytes::from(payload), qos(q), true);
                let message = Message { properties, expires_at: expires_at.flatten(), ..message };
                let stored_ms = stored.map_or(loaded_ms, |ms| u64::try_from(ms).unwrap_or(0));
                let origin = Origin { publisher: publisher.map(Into::into), stored_ms, ..Origin::default() }
                    .with_username(username.map(Into::into));
                retained.push(Retained { message, origin });
            }
        }
        Ok(retained)
    }

    fn load_inner(&self, clock: &Clock) -> Result<Restored, rusqlite::Error> {
        let wall = to_ms(clock.wall);
        self.conn.execute("DELETE FROM retained WHERE expires_ms <= ?1", [wall])?;
        self.conn.execute("DELETE FROM messages WHERE pid IS NULL AND expires_ms <= ?1", [wall])?;
        let mut restored = Restored { retained: self.load_retained(clock, wall)?, ..Restored::default() };
        let mut stmt = self.conn.prepare("SELECT client_id, username, expiry, disconnected_ms FROM sessions")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        for row in rows {
            let (client, username, expiry, disconnected) = row?;
            let session = RestoredSession {
                username: username.map(Into::into),
                expiry: expiry.map_or(u32::MAX, |e| u32::try_from(e).unwrap_or(u32::MAX)),
                disconnected: disconnected.map(from_ms),
                ..RestoredSession::default()
            };
            restored.sessions.insert(client.into(), session);
        }
        let mut stmt = self.conn.prepare("SELECT client_id, filter, qos, options, sub_id FROM subscriptions")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })?;
        for row in rows {
            let (client, filter, q, options, id) = row?;
            if let (Some(s), Ok(filter)) = (restored.sessions.get_mut(client.as_str()), TopicFilter::new(filter)) {
                s.subscriptions.push((filter, options_of(options, qos(q)), sub_id(id)));
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT client_id, seq, topic, payload, qos, retain, pid, received, properties, expires_ms
             FROM messages ORDER BY client_id, seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, bool>(7)?,
                r.get::<_, Option<Vec<u8>>>(8)?,
                r.get::<_, Option<i64>>(9)?,
            ))
        })?;
        for row in rows {
            let (client, seq, topic, payload, q, retain, p, received, properties, expires) = row?;
            let (pid, session) = (p.and_then(pid), restored.sessions.get_mut(client.as_str()));
            // Expired in flight: due now (a queued one was deleted above).
            let expires_at = expires.map(|ms| clock.instant_of(ms).unwrap_or(clock.instant));
            if let (Some(s), Ok(topic), Some(properties)) =
                (session, TopicName::new(topic), properties_of(properties.as_deref()))
            {
                let message = Message::new(topic, Bytes::from(payload), qos(q), retain);
                let message = Message { properties, expires_at, ..message };
                let seq = u64::try_from(seq).unwrap_or(0);
                s.messages.push(StoredMessage { seq, message, pid, received });
            }
        }
        let mut stmt = self.conn.prepare("SELECT client_id, pid FROM incoming_qos2")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (client, p) = row?;
            if let (Some(s), Some(p)) = (restored.sessions.get_mut(client.as_str()), pid(p)) {
                s.incoming_qos2.push(p);
            }
        }
        Ok(restored)
    }
}

fn seq(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn apply_one(tx: &rusqlite::Transaction<'_>, change: &Change, clock: &Clock) -> Result<(), rusqlite::Error> {
    let deadline = |m: &Message| m.expires_at.map(|at| clock.wall_ms(at));
    match change {
        Change::Retain { topic, message: Some(Retained { message: m, origin }) } => tx.execute(
            "INSERT OR REPLACE INTO retained
             (topic, payload, qos, properties, expires_ms, publisher, stored_ms, publisher_username)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                topic.as_str(),
                &m.payload[..],
                m.qos as u8,
                properties_blob(&m.properties),
                deadline(m),
                origin.publisher.as_deref(),
                i64::try_from(origin.stored_ms).unwrap_or(i64::MAX),
                origin.username()
            ],
        ),
        Change::Retain { topic, message: None } => tx.execute("DELETE FROM retained WHERE topic = ?1", [topic.as_str()]),
        Change::RetainCleared { topics } => {
            let mut delete = tx.prepare_cached("DELETE FROM retained WHERE topic = ?1")?;
            for topic in topics {
                delete.execute([topic.as_str()])?;
            }
            Ok(0)
        }
        // A session resumed keeps its expiry columns: the Expiry change that follows sets them.
        Change::Session { client, username } => tx.execute(
            "INSERT INTO sessions (client_id, username) VALUES (?1, ?2)
             ON CONFLICT (client_id) DO UPDATE SET username = excluded.username",
            params![&**client, username.as_deref()],
        ),
        Change::Expiry { client, interval, disconnected } => tx.execute(
            "UPDATE sessions SET expiry = ?2, disconnected_ms = ?3 WHERE client_id = ?1",
            params![&**client, interval, disconnected.map(to_ms)],
        ),
        Change::DropSession { client } => {
            for table in ["sessions", "subscriptions", "messages", "incoming_qos2"] {
                tx.execute(&format!("DELETE FROM {table} WHERE client_id = ?1"), [&**client])?;
            }
            Ok(0)
        }
        Change::Subscribe { client, filter, options, id } => tx.execute(
            "INSERT OR REPLACE INTO subscriptions (client_id, filter, qos, options, sub_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![&**client, filter.as_str(), options.qos as u8, options.to_u8(), id.map(u32::from)],
        ),
        Change::Unsubscribe { client, filter } => tx.execute(
            "DELETE FROM subscriptions WHERE client_id = ?1 AND filter = ?2",
            params![&**client, filter.as_str()],
        ),
        Change::Stored { client, seq: s, message: m } => tx.execute(
            "INSERT OR REPLACE INTO messages (client_id, seq, topic, payload, qos, retain, properties, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                &**client,
                seq(*s),
                m.topic.as_str(),
                &m.payload[..],
                m.qos as u8,
                m.retain,
                properties_blob(&m.properties),
                deadline(m)
            ],
        ),
        Change::Sent { client, seq: s, pid } => tx.execute(
            "UPDATE messages SET pid = ?3 WHERE client_id = ?1 AND seq = ?2",
            params![&**client, seq(*s), pid.get()],
        ),
        Change::Received { client, seq: s } => {
            tx.execute("UPDATE messages SET received = 1 WHERE client_id = ?1 AND seq = ?2", params![&**client, seq(*s)])
        }
        Change::Done { client, seq: s } => {
            tx.execute("DELETE FROM messages WHERE client_id = ?1 AND seq = ?2", params![&**client, seq(*s)])
        }
        Change::IncomingQos2 { client, pid, present: true } => tx.execute(
            "INSERT OR IGNORE INTO incoming_qos2 (client_id, pid) VALUES (?1, ?2)",
            params![&**client, pid.get()],
        ),
        Change::IncomingQos2 { client, pid, present: false } => tx.execute(
            "DELETE FROM incoming_qos2 WHERE client_id = ?1 AND pid = ?2",
            params![&**client, pid.get()],
        ),
    }
    .map(drop)
}
