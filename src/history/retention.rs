//! How much history is kept: by age and by size, settings stored in the history file itself (so
//! they travel with it), and the figures the History panel shows.

use std::path::Path;
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OptionalExtension};

use super::db;

/// Retention settings; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    pub max_age_days: u32,
    pub max_megabytes: u32,
}

/// What the History panel shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// The database and its write-ahead log on disk.
    pub file_bytes: u64,
    /// Messages stored per profile, by name.
    pub per_profile: Vec<(String, u64)>,
    pub retention: Retention,
}

impl Stats {
    pub fn messages(&self) -> u64 {
        self.per_profile.iter().map(|(_, n)| n).sum()
    }

    pub fn of(&self, profile: &str) -> u64 {
        self.per_profile.iter().find(|(p, _)| p == profile).map_or(0, |(_, n)| *n)
    }
}

fn setting(db: &Connection, key: &str) -> rusqlite::Result<u32> {
    let value: Option<i64> =
        db.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    Ok(value.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
}

pub fn load(db: &Connection) -> rusqlite::Result<Retention> {
    Ok(Retention { max_age_days: setting(db, "max_age_days")?, max_megabytes: setting(db, "max_megabytes")? })
}

pub fn save(db: &Connection, r: Retention) -> rusqlite::Result<()> {
    let mut stmt = db.prepare_cached("INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)")?;
    stmt.execute(rusqlite::params!["max_age_days", r.max_age_days])?;
    stmt.execute(rusqlite::params!["max_megabytes", r.max_megabytes])?;
    Ok(())
}

/// Pages holding data (free pages left by deletions not counted), in bytes.
fn used_bytes(db: &Connection) -> rusqlite::Result<u64> {
    let free: i64 = db.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let page_size: i64 = db.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(db::size_bytes(db)?.saturating_sub(u64::try_from(free * page_size).unwrap_or(0)))
}

/// Deletes what the settings no longer keep: messages older than the age limit, then the oldest
/// messages until the data fits the size limit. Returns the number of messages removed; the
/// file shrinks as the freed pages are given back.
pub fn apply(db: &Connection, r: Retention, now: SystemTime) -> rusqlite::Result<usize> {
    let mut removed = 0;
    if r.max_age_days > 0 {
        let age = Duration::from_hours(24 * u64::from(r.max_age_days));
        removed += db::delete_older(db, now.checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH))?;
    }
    if r.max_megabytes > 0 {
        let limit = u64::from(r.max_megabytes) * 1_000_000;
        // Each round removes the share of rows that is over the limit (plus 1 %): rows differ in
        // size, so a few rounds may be needed.
        for _ in 0..8 {
            let used = used_bytes(db)?;
            if used <= limit {
                break;
            }
            let rows: i64 = db.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?;
            if rows == 0 {
                break;
            }
            // Byte counts and row counts are far below 2^52: the float arithmetic is exact enough.
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            let excess = ((rows as f64) * ((used - limit) as f64 / used as f64 + 0.01)).ceil() as i64;
            removed += db.execute(
                "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT ?1)",
                [excess.max(1)],
            )?;
        }
    }
    if removed > 0 {
        give_back_space(db)?;
    }
    Ok(removed)
}

/// Returns the pages freed by deletions to the file system: each step of `incremental_vacuum`
/// frees pages, and the checkpoint moves the shrunk file out of the write-ahead log.
pub fn give_back_space(db: &Connection) -> rusqlite::Result<()> {
    let mut stmt = db.prepare("PRAGMA incremental_vacuum")?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
}

pub fn stats(db: &Connection, path: &Path) -> rusqlite::Result<Stats> {
    let mut stmt = db.prepare_cached("SELECT profile, COUNT(*) FROM messages GROUP BY profile ORDER BY profile")?;
    let per_profile = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0))))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Stats { file_bytes: file_bytes(path), per_profile, retention: load(db)? })
}

/// The database file and its write-ahead log, in bytes.
pub fn file_bytes(path: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size(path) + size(Path::new(&wal))
}
