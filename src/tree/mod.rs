//! The topic tree of one connection, free of egui: every topic seen (live, and seeded from
//! history) as a tree of levels with per-node statistics, a view state (expanded nodes, selection,
//! filter, "only retained", sort, pins), and a cached flattening of the visible rows so a panel
//! draws only what is on screen (`ScrollArea::show_rows`).
//!
//! - `node`: what one node knows (last value preview, counts, rate, change and receive times,
//!   retained flag, QoS, usual interval for staleness) and [`NodeRef`], its read-only view.
//! - `topics`: [`TopicTree`]: [`TopicTree::record`] (about a microsecond a message: one hash
//!   lookup and a walk up the topic's levels), [`TopicTree::seed`] from history, and the accessors.
//! - `view`: [`TreeView`], the panel's state, and keyboard navigation over the rows.
//! - `rows`: [`TopicTree::rows`], the visible rows, rebuilt only when the view or the tree changed.
//! - `hash`: the fast seeded hasher of the tree's maps.
//! - `index`: the topic -> node index, keyed by each topic's 64-bit hash.
//! - `chunked`: `Chunked`, the nodes' append-only storage that never moves them when it grows.
//! - `diff`: a JSON-aware diff of a payload against the previous one, the numeric fields of a JSON
//!   payload ("Plot this") and a payload's sparkline value, through [`crate::plot::Extractor`].
//!
//! A leaf: it depends on `crate::plot` (extractors) and `crate::mqtt` (hex) only, so the
//! integrator feeds it from each connection's events with a [`Seen`] per message.

mod chunked;
mod diff;
mod hash;
mod index;
mod node;
mod rows;
mod topics;
mod view;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_view;

use std::time::SystemTime;

pub use diff::{Change, ChangeKind, Diff, default_extractor, diff, numeric_fields, sparkline_value};
pub use node::{MIN_INTERVALS, NodeRef, PREVIEW_CHARS, RATE_TAU_SECS, STALE_FACTOR, STALE_SLACK_SECS};
pub use rows::{REBUILD_EVERY_MS, Row};
pub use topics::{DOLLAR_BRANCH, TopicTree};
pub use view::{SortBy, TreeView};

/// A node of a [`TopicTree`]: an index, valid for the tree that gave it (nodes are never removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

/// One message as the tree needs it (the integrator builds it from a connection's event).
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    pub topic: &'a str,
    pub payload: &'a [u8],
    /// 0..=2; larger values are stored as 2.
    pub qos: u8,
    /// The RETAIN flag as received: set on the retained copy a broker sends at subscribe time.
    pub retain: bool,
    /// When the message arrived (the history row's time for replayed messages).
    pub at: SystemTime,
}

/// What history knows of one topic, to seed the tree at start (one per topic, not per message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub topic: String,
    /// Messages stored for the topic.
    pub count: u64,
    pub last_payload: Vec<u8>,
    pub last_at: SystemTime,
    /// Whether history says a retained message is stored: the newest retained row with a
    /// payload came after any empty one (`history::TopicSummary::retained`). With a non-empty
    /// last payload the tree takes the topic as holding a retained message.
    pub last_retain: bool,
    pub last_qos: u8,
}
