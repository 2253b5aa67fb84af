//! Persistence (`persistence true`): retained messages, persistent sessions with their
//! subscriptions, queued and in-flight QoS 1/2 messages, and the QoS 2 ids received but not
//! released, in an SQLite database under `persistence_location`.
//!
//! - `journal`: the changes the router and sessions report, and acknowledgements held back until
//!   the changes before them are on disk.
//! - `columns`: MQTT 5.0 parts as columns (properties, expiry deadlines, subscription options).
//! - `db`: the SQLite schema, applying a batch of changes in one transaction, loading at startup.
//! - `writer`: the `broker-store` thread that commits batches and then releases the held acks.

mod columns;
mod db;
mod journal;
mod writer;

pub use db::{Restored, RestoredSession, Store, StoreError, StoredMessage};
pub use journal::{Change, Entry, Journal};
pub use writer::Writer;

#[cfg(test)]
mod tests;
