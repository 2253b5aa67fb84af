//! What one node of the tree knows. Structure and subtree aggregates live in [`Node`] (every
//! level); the statistics of a topic's own messages live in [`Stats`], only for topics that
//! received messages, so intermediate levels stay small (the 100,000-topic budget).
//!
//! Times are milliseconds since the Unix epoch (`i64`: 8 bytes instead of `SystemTime`'s 16).
//! The rate is an exponentially decayed message count with a time constant of
//! [`RATE_TAU_SECS`]: every message adds 1 and the sum decays by `exp(-dt/τ)`, so at a steady
//! rate `r` the sum settles at `r·τ` and the rate shown is `sum/τ` (it reads low for the first
//! τ seconds of a topic and falls smoothly to 0 when the topic goes quiet).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::NodeId;
use super::topics::TopicTree;

/// Time constant of the message rate, in seconds.
pub const RATE_TAU_SECS: f32 = 10.0;
/// Characters kept of a value for its one-line preview (an ellipsis marks the cut).
pub const PREVIEW_CHARS: usize = 60;
/// A topic is stale when silent for longer than this many times its usual interval...
pub const STALE_FACTOR: f32 = 3.0;
/// ...plus this slack (jitter of fast topics is not staleness)...
pub const STALE_SLACK_SECS: f32 = 1.0;
/// ...once it has shown at least this many live intervals (seeded history shows none).
pub const MIN_INTERVALS: u16 = 3;
/// Weight of a new interval in the usual interval's moving average.
const INTERVAL_WEIGHT: f32 = 0.125;

pub(crate) const NONE: u32 = u32::MAX;

/// Milliseconds since the Unix epoch (0 before it).
pub(crate) fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn system_time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[allow(clippy::cast_precision_loss)]
fn seconds(ms: i64) -> f32 {
    ms as f32 / 1000.0
}

/// A decayed sum seen at `from`, carried to `to` (a later time decays it; an earlier one, a
/// message out of order, is left as is).
pub(crate) fn decay(sum: f32, from: i64, to: i64) -> f32 {
    if to <= from { sum } else { sum * (-seconds(to - from) / RATE_TAU_SECS).exp() }
}

/// What one message adds to a decayed sum last updated at `last`: 1 when it is the newest,
/// less when it arrived out of order (it has decayed since).
pub(crate) fn weight(at: i64, last: i64) -> f32 {
    if at >= last { 1.0 } else { (-seconds(last - at) / RATE_TAU_SECS).exp() }
}

/// One level of a topic. Children form a linked list (12 bytes a node instead of a `Vec`'s 24);
/// the flattening sorts them anyway.
#[derive(Debug)]
pub(crate) struct Node {
    /// The full topic up to this level, shared with the tree's index (one allocation).
    pub topic: Arc<str>,
    /// Where this level's name starts in `topic` (MQTT topics are at most 65,535 bytes).
    pub name_start: u16,
    /// The row indentation: 0 for top-level rows.
    pub depth: u16,
    pub parent: u32,
    pub first_child: u32,
    pub last_child: u32,
    pub next_sibling: u32,
    /// Index into the tree's stats, `NONE` until the topic itself has a message.
    pub stats: u32,
    /// Messages of this node and all below it.
    pub subtree_count: u64,
    /// Topics at or below this node holding a retained message ("only retained", deletion).
    pub retained_under: u32,
    /// Decayed message count of the subtree at `sub_last_received` (rate sort of branches).
    pub sub_rate: f32,
    pub sub_last_received: i64,
    pub sub_last_change: i64,
}

impl Node {
    pub fn new(topic: Arc<str>, name_start: u16, depth: u16, parent: u32) -> Self {
        Self {
            topic,
            name_start,
            depth,
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            stats: NONE,
            subtree_count: 0,
            retained_under: 0,
            sub_rate: 0.0,
            sub_last_received: 0,
            sub_last_change: 0,
        }
    }

    pub fn name(&self) -> &str {
        &self.topic[usize::from(self.name_start)..]
    }
}

/// A topic's own messages.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub count: u64,
    pub preview: Box<str>,
    /// Hash of the last payload: a different one is a change of value.
    pub payload_hash: u64,
    pub last_received: i64,
    pub last_change: i64,
    /// Decayed message count at `last_received`.
    pub rate: f32,
    /// Moving average of the seconds between live messages.
    pub mean_interval: f32,
    pub intervals: u16,
    pub qos: u8,
    pub retained: bool,
    /// The last update came from history: the next live message starts a new interval run
    /// (the gap since the app last ran is not an interval).
    pub seeded: bool,
}

impl Stats {
    /// Counts an interval of `at - last_received` (a live message after a live one).
    pub fn sample_interval(&mut self, at: i64) {
        if self.count == 0 || self.seeded || at < self.last_received {
            return;
        }
        let dt = seconds(at - self.last_received);
        self.mean_interval =
            if self.intervals == 0 { dt } else { self.mean_interval + INTERVAL_WEIGHT * (dt - self.mean_interval) };
        self.intervals = self.intervals.saturating_add(1);
    }

    pub fn is_stale(&self, now: i64) -> bool {
        self.intervals >= MIN_INTERVALS
            && now > self.last_received
            && seconds(now - self.last_received) > STALE_FACTOR * self.mean_interval + STALE_SLACK_SECS
    }
}

/// A value as one short line: control characters and line breaks as spaces, cut at
/// [`PREVIEW_CHARS`] characters with "…"; a payload that is not UTF-8 as `0x` and hex digits.
pub fn preview(payload: &[u8]) -> Box<str> {
    let Ok(text) = std::str::from_utf8(payload) else {
        let shown = payload.len().min(PREVIEW_CHARS / 2 - 2);
        let more = if shown < payload.len() { "…" } else { "" };
        return format!("0x{}{more}", crate::mqtt::to_hex(&payload[..shown])).into();
    };
    let mut out = String::with_capacity(text.len().min(PREVIEW_CHARS + 3));
    for (n, c) in text.trim().chars().enumerate() {
        if n == PREVIEW_CHARS {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out.into()
}

/// A node as the panel reads it.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    pub(crate) tree: &'a TopicTree,
    pub(crate) id: NodeId,
}

impl<'a> NodeRef<'a> {
    fn node(&self) -> &'a Node {
        &self.tree.nodes[self.id.0 as usize]
    }

    fn stats(&self) -> Option<&'a Stats> {
        self.tree.stats.get(self.node().stats as usize)
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    /// This level's name (may be empty: `a//b`), or [`super::DOLLAR_BRANCH`] for the `$` branch.
    pub fn name(&self) -> &'a str {
        if self.is_dollar_branch() { super::DOLLAR_BRANCH } else { self.node().name() }
    }

    /// The full topic ("" for the synthetic `$` branch).
    pub fn topic(&self) -> &'a str {
        &self.node().topic
    }

    /// The synthetic top-level row holding the topics that start with `$`.
    pub fn is_dollar_branch(&self) -> bool {
        self.tree.dollar == self.id.0
    }

    /// The parent row, `None` for a top-level row.
    pub fn parent(&self) -> Option<NodeId> {
        let parent = self.node().parent;
        (parent != NONE && parent != 0).then_some(NodeId(parent))
    }

    pub fn has_children(&self) -> bool {
        self.node().first_child != NONE
    }

    /// Children in arrival order (the rows sort them).
    pub fn children(&self) -> impl Iterator<Item = NodeId> + 'a {
        let nodes = &self.tree.nodes;
        std::iter::successors(Some(self.node().first_child).filter(|c| *c != NONE), move |c| {
            Some(nodes[*c as usize].next_sibling).filter(|c| *c != NONE)
        })
        .map(NodeId)
    }

    /// Whether the topic itself received messages (an intermediate level may not).
    pub fn has_messages(&self) -> bool {
        self.stats().is_some()
    }

    /// The last value as one line ("" when none).
    pub fn preview(&self) -> &'a str {
        self.stats().map_or("", |s| &s.preview)
    }

    /// Messages on this topic.
    pub fn count(&self) -> u64 {
        self.stats().map_or(0, |s| s.count)
    }

    /// Messages on this topic and every topic below it.
    pub fn subtree_count(&self) -> u64 {
        self.node().subtree_count
    }

    /// Messages a second on this topic (decayed, see the module docs), as of `now`.
    pub fn rate(&self, now: SystemTime) -> f32 {
        self.stats().map_or(0.0, |s| decay(s.rate, s.last_received, millis(now)) / RATE_TAU_SECS)
    }

    /// Messages a second on this topic and below it, as of `now`.
    pub fn subtree_rate(&self, now: SystemTime) -> f32 {
        let node = self.node();
        decay(node.sub_rate, node.sub_last_received, millis(now)) / RATE_TAU_SECS
    }

    /// When the value last differed from the one before (the first message counts).
    pub fn last_change(&self) -> Option<SystemTime> {
        self.stats().map(|s| system_time(s.last_change))
    }

    pub fn last_received(&self) -> Option<SystemTime> {
        self.stats().map(|s| system_time(s.last_received))
    }

    /// The newest message anywhere in the subtree.
    pub fn subtree_last_received(&self) -> Option<SystemTime> {
        (self.node().subtree_count > 0).then(|| system_time(self.node().sub_last_received))
    }

    /// Whether the broker holds a retained message for this topic, as far as the messages seen
    /// tell: a retained non-empty payload stores one, a retained empty one deletes it.
    pub fn retained(&self) -> bool {
        self.stats().is_some_and(|s| s.retained)
    }

    /// Topics at or below this node holding a retained message.
    pub fn retained_under(&self) -> u32 {
        self.node().retained_under
    }

    /// The last message's QoS.
    pub fn qos(&self) -> Option<u8> {
        self.stats().map(|s| s.qos)
    }

    /// The usual interval between live messages, once [`MIN_INTERVALS`] were seen.
    pub fn usual_interval(&self) -> Option<Duration> {
        self.stats().filter(|s| s.intervals >= MIN_INTERVALS).map(|s| Duration::from_secs_f32(s.mean_interval.max(0.0)))
    }

    /// Silent for longer than `STALE_FACTOR` × its usual interval + `STALE_SLACK_SECS`, once it
    /// showed `MIN_INTERVALS` live intervals (a topic seen once is never stale).
    pub fn is_stale(&self, now: SystemTime) -> bool {
        self.stats().is_some_and(|s| s.is_stale(millis(now)))
    }
}
