//! Filling a history file with many rows fast, for benches and tests (a cold start over
//! 1,000,000 messages, the topic tree's queries at scale, a migration of a big old file). Not
//! used by the app.

use rusqlite::{Connection, params};

/// What `fill_for_tests` writes.
#[derive(Debug, Clone, Copy)]
pub struct Fill<'a> {
    pub profile: &'a str,
    /// Rows to add.
    pub rows: u64,
    /// Distinct topics they are spread over (at least 1).
    pub topics: u64,
    /// Unix time in milliseconds of the first row; each next row is 1 ms later.
    pub start_ms: i64,
}

/// The topic of row `i` of a fill: topic number `t = i % topics`, in a tree of three levels
/// (`fill/<t / 1000>/<t / 10 % 100>/<t>`), so a tree has branches, not one flat level.
pub fn fill_topic(i: u64, topics: u64) -> String {
    let t = i % topics.max(1);
    format!("fill/{}/{}/{t}", t / 1000, t / 10 % 100)
}

/// Adds `fill.rows` messages to the file in one transaction, for benches and tests only.
///
/// Row `i` (from 0) has the topic `fill_topic(i, fill.topics)`, the payload `i` as decimal text,
/// QoS `i % 3`, the retain flag on for odd `i`, and the time `fill.start_ms + i`. Only the columns
/// every schema has are written (no client id, no properties), so the same call fills a file of
/// schema 1, 2 or 3, e.g. an old file to migrate. About a second per million rows in a release
/// build.
pub fn fill_for_tests(db: &mut Connection, fill: Fill<'_>) -> rusqlite::Result<()> {
    let tx = db.transaction()?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO messages (profile, topic, payload, qos, retain, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for i in 0..fill.rows {
            let at = fill.start_ms.saturating_add(i64::try_from(i).unwrap_or(i64::MAX));
            let payload = i.to_string();
            stmt.execute(params![
                fill.profile,
                fill_topic(i, fill.topics),
                payload.as_bytes(),
                i64::try_from(i % 3).unwrap_or(0),
                i % 2 == 1,
                at
            ])?;
        }
    }
    tx.commit()
}
