//! The SQLite file: one table per kind of state, a transaction per batch of changes.
//!
//! WAL mode with `synchronous=FULL`: a commit is on disk when it returns, and a crash (kill -9,
//! power loss) leaves the last committed batch intact.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rusqlite::{Connection, params};

use super::Change;
use crate::broker::Message;
use crate::codec::{PacketId, QoS, TopicFilter, TopicName};

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
    pub subscriptions: Vec<(TopicFilter, QoS)>,
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
    pub retained: Vec<Message>,
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
/// opened, NULL in its rows (read as "never expires", "disconnect time unknown").
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    // Session Expiry Interval, seconds.
    ("sessions", "expiry", "INTEGER"),
    // When the last connection ended: milliseconds since the Unix epoch.
    ("sessions", "disconnected_ms", "INTEGER"),
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

fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
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
        let tx = self.conn.transaction().map_err(|e| StoreError { path: self.path.clone(), error: e })?;
        for change in changes {
            apply_one(&tx, change).map_err(|e| StoreError { path: self.path.clone(), error: e })?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    /// Reads everything back; rows that no longer decode (a topic made invalid by hand) are
    /// skipped, never fatal.
    pub fn load(&self) -> Result<Restored, StoreError> {
        self.load_inner().map_err(|e| self.error(e))
    }

    fn load_inner(&self) -> Result<Restored, rusqlite::Error> {
        let mut restored = Restored::default();
        let mut stmt = self.conn.prepare("SELECT topic, payload, qos FROM retained ORDER BY topic")?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?)))?;
        for row in rows {
            let (topic, payload, q) = row?;
            if let Ok(topic) = TopicName::new(topic) {
                restored.retained.push(Message::new(topic, Bytes::from(payload), qos(q), true));
            }
        }
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
        let mut stmt = self.conn.prepare("SELECT client_id, filter, qos FROM subscriptions")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))? {
            let (client, filter, q) = row?;
            if let (Some(s), Ok(filter)) = (restored.sessions.get_mut(client.as_str()), TopicFilter::new(filter)) {
                s.subscriptions.push((filter, qos(q)));
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT client_id, seq, topic, payload, qos, retain, pid, received FROM messages ORDER BY client_id, seq",
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
            ))
        })?;
        for row in rows {
            let (client, seq, topic, payload, q, retain, p, received) = row?;
            if let (Some(s), Ok(topic)) = (restored.sessions.get_mut(client.as_str()), TopicName::new(topic)) {
                let message = Message::new(topic, Bytes::from(payload), qos(q), retain);
                let seq = u64::try_from(seq).unwrap_or(0);
                s.messages.push(StoredMessage { seq, message, pid: p.and_then(pid), received });
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

fn apply_one(tx: &rusqlite::Transaction<'_>, change: &Change) -> Result<(), rusqlite::Error> {
    match change {
        Change::Retain { topic, message: Some(m) } => tx.execute(
            "INSERT OR REPLACE INTO retained (topic, payload, qos) VALUES (?1, ?2, ?3)",
            params![topic.as_str(), &m.payload[..], m.qos as u8],
        ),
        Change::Retain { topic, message: None } => tx.execute("DELETE FROM retained WHERE topic = ?1", [topic.as_str()]),
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
        Change::Subscribe { client, filter, qos } => tx.execute(
            "INSERT OR REPLACE INTO subscriptions (client_id, filter, qos) VALUES (?1, ?2, ?3)",
            params![&**client, filter.as_str(), *qos as u8],
        ),
        Change::Unsubscribe { client, filter } => tx.execute(
            "DELETE FROM subscriptions WHERE client_id = ?1 AND filter = ?2",
            params![&**client, filter.as_str()],
        ),
        Change::Stored { client, seq: s, message: m } => tx.execute(
            "INSERT OR REPLACE INTO messages (client_id, seq, topic, payload, qos, retain) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![&**client, seq(*s), m.topic.as_str(), &m.payload[..], m.qos as u8, m.retain],
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(topic: &str, payload: &'static [u8], qos: QoS) -> Message {
        Message::new(TopicName::new(topic).unwrap(), Bytes::from_static(payload), qos, false)
    }

    #[test]
    fn changes_survive_reopening_the_file() {
        let path = std::env::temp_dir().join(format!("mqtt-lab-store-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let c: Arc<str> = "pv-logger".into();
        let one = PacketId::new(1).unwrap();
        {
            let mut store = Store::open(&path).unwrap();
            store
                .apply(&[
                    Change::Retain {
                        topic: TopicName::new("PV/sunshine").unwrap(),
                        message: Some(Message { retain: true, ..message("PV/sunshine", b"yes", QoS::AtLeastOnce) }),
                    },
                    Change::Session { client: c.clone(), username: Some("btsiot1".into()) },
                    Change::Subscribe {
                        client: c.clone(),
                        filter: TopicFilter::new("PV/#").unwrap(),
                        qos: QoS::ExactlyOnce,
                    },
                    Change::Stored { client: c.clone(), seq: 1, message: message("PV/data", b"1.0", QoS::AtLeastOnce) },
                    Change::Stored { client: c.clone(), seq: 2, message: message("PV/data", b"2.0", QoS::ExactlyOnce) },
                    Change::Stored { client: c.clone(), seq: 3, message: message("PV/data", b"3.0", QoS::ExactlyOnce) },
                    Change::Sent { client: c.clone(), seq: 2, pid: one },
                    Change::Received { client: c.clone(), seq: 2 },
                    Change::Done { client: c.clone(), seq: 1 },
                    Change::IncomingQos2 { client: c.clone(), pid: one, present: true },
                ])
                .unwrap();
        }
        let restored = Store::open(&path).unwrap().load().unwrap();
        assert_eq!(restored.retained.len(), 1);
        let s = &restored.sessions[&c];
        assert_eq!(s.username.as_deref(), Some("btsiot1"));
        assert_eq!(s.subscriptions, [(TopicFilter::new("PV/#").unwrap(), QoS::ExactlyOnce)]);
        assert_eq!(
            s.messages.iter().map(|m| (m.seq, m.pid, m.received)).collect::<Vec<_>>(),
            [(2, Some(one), true), (3, None, false)]
        );
        assert_eq!(s.incoming_qos2, [one]);
        Store::open(&path).unwrap().apply(&[Change::DropSession { client: c.clone() }]).unwrap();
        assert!(Store::open(&path).unwrap().load().unwrap().sessions.is_empty());
        std::fs::remove_file(&path).unwrap();
    }
}
