//! Message history on disk: every received message, per profile, in an SQLite file in the OS data
//! directory, so the message list (and the plots) survive a restart.
//!
//! - `db`: opening the file and the queries (plain functions over a connection).
//! - `migrate`: the schema's versions (`PRAGMA user_version`) and the steps between them.
//! - `writer`: the named thread that owns the write connection and commits in batches.
//! - `retention`: limits by age and size (kept in the file), and the figures shown.
//! - `tree`: the topic tree's reads (each topic's count and last message, a topic's recent
//!   messages) and one connection's newest messages.
//! - `fill`: many rows fast, for benches and tests.
//!
//! Readers open their own connection (WAL lets them read while the writer writes) on the I/O
//! runtime's blocking pool, never on the UI thread.

mod db;
mod fill;
mod migrate;
pub mod retention;
mod tree;
mod writer;

pub use db::{
    Record, Whose, clear, count, count_before, delete_older, each_before, each_in_range, insert, millis, newest, open,
    page_before, size_bytes,
};
pub use fill::{Fill, fill_for_tests, fill_topic};
pub use retention::{Retention, Stats};
pub use tree::{TopicSummary, newest_of_client, recent, topics, topics_before};
pub use writer::{FLUSH_EVERY, HistoryWriter, Report};

use std::path::PathBuf;

/// Where the history lives by default: `<OS data dir>/history.sqlite3`.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "MQTT Lab", "mqtt-lab").map(|d| d.data_dir().join("history.sqlite3"))
}

#[cfg(test)]
mod migrate_tests;
#[cfg(test)]
mod scale_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tree_tests;
