//! The history file's schema versions, kept in SQLite's `PRAGMA user_version`, and the ordered
//! steps from one to the next. Each step runs in its own transaction that also bumps the version,
//! so a crash leaves the file at one version or the next, never in between. A file written by a
//! newer MQTT Lab (a version above `CURRENT`) is refused before anything is written to it: its
//! rows may mean what this build cannot know.

use rusqlite::{Connection, TransactionBehavior};

/// Step `i` takes the file from version `i` to `i + 1`.
const STEPS: &[&str] = &[
    // 1: the schema from before versions. Everything is `IF NOT EXISTS`, so a file of that time
    // (user_version 0, its tables there) passes through unchanged and is marked version 1.
    // `at_ms` is Unix time in milliseconds. The indexes serve "a profile's messages in a time
    // range" (message list, reload) and "a profile's topic in a time range" (plots).
    "CREATE TABLE IF NOT EXISTS messages (
        id      INTEGER PRIMARY KEY,
        profile TEXT    NOT NULL,
        topic   TEXT    NOT NULL,
        payload BLOB    NOT NULL,
        qos     INTEGER NOT NULL,
        retain  INTEGER NOT NULL,
        at_ms   INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS messages_by_time ON messages (profile, at_ms);
    CREATE INDEX IF NOT EXISTS messages_by_topic ON messages (profile, topic, at_ms);
    CREATE TABLE IF NOT EXISTS settings (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );",
    // 2: MQTT 5. `properties` is the PUBLISH's properties as JSON (`PublishProperties`' serde
    // form), NULL when there are none, so a 3.1.1 row costs nothing; `dup` is the DUP flag.
    // Adding columns with constant defaults rewrites no rows: instant on a file of millions.
    "ALTER TABLE messages ADD COLUMN properties TEXT;
    ALTER TABLE messages ADD COLUMN dup INTEGER NOT NULL DEFAULT 0;",
    // 3: several connections at once, the same profile possibly twice: `client_id` is the client
    // id of the connection that received the row, NULL for rows from before (and when unknown).
    // Again a column without a default to write: instant on a file of millions. No index on it:
    // the topic tree and the list read by profile (and topic), and one connection's rows are
    // found by filtering the profile's newest rows, so no insert pays for a third index.
    "ALTER TABLE messages ADD COLUMN client_id TEXT;",
];

/// The newest schema this build reads and writes.
#[allow(clippy::cast_possible_wrap, reason = "a handful of steps")]
pub const CURRENT: i64 = STEPS.len() as i64;

/// The version in the file's header (0 for a new file or one from before versions).
pub fn version(db: &Connection) -> rusqlite::Result<i64> {
    db.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// The error for a file newer than this build, naming both versions.
pub fn too_new(found: i64) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
        Some(format!(
            "this history was written by a newer MQTT Lab (schema {found}); this version reads up to {CURRENT}, \
             so it is left as it is"
        )),
    )
}

/// Brings the file to `CURRENT`, one step per transaction. Readers and the writer open the file
/// at the same time: each step takes the write lock first (`BEGIN IMMEDIATE`) and reads the
/// version again under it, so a step another connection just ran is not run twice.
pub fn migrate(db: &mut Connection) -> rusqlite::Result<()> {
    // The common case, every read of an up-to-date file: one header read, no lock.
    let found = version(db)?;
    if found > CURRENT {
        return Err(too_new(found));
    }
    if found == CURRENT {
        return Ok(());
    }
    loop {
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = version(&tx)?;
        if at > CURRENT {
            return Err(too_new(at));
        }
        let Some(step) = usize::try_from(at).ok().and_then(|i| STEPS.get(i)) else {
            return Ok(());
        };
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", at + 1)?;
        tx.commit()?;
    }
}
