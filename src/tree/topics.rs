//! [`TopicTree`]: the nodes in one arena (ids are indexes; children are created after their
//! parent, so a child's id is always larger), an index from every level's full topic to its
//! node (one hash lookup per message for a known topic), and the stats of topics with messages.

use std::hash::BuildHasher;
use std::sync::Arc;

use super::chunked::Chunked;
use super::hash::Seeded;
use super::index::TopicIndex;
use super::node::{NONE, Node, NodeRef, Stats, decay, millis, preview, weight};
use super::rows::RowCache;
use super::{NodeId, Seen, Summary};

/// The label of the synthetic top-level row holding the topics that start with `$`.
pub const DOLLAR_BRANCH: &str = "$ topics";

const ROOT: u32 = 0;

/// Every topic seen on one connection. See the module docs of `crate::tree`.
#[derive(Debug)]
pub struct TopicTree {
    /// Node 0 is the invisible root; the `$` branch is created with the first `$` topic.
    /// Chunked, not a `Vec`: growing never copies the nodes (see `chunked`).
    pub(crate) nodes: Chunked<Node>,
    pub(crate) stats: Chunked<Stats>,
    /// Full topic of every level (root and `$` branch excluded) -> node.
    index: TopicIndex,
    /// The `$` branch's node, `NONE` until a `$` topic arrives.
    pub(crate) dollar: u32,
    /// Bumped when a node is created: the rows may have changed shape.
    pub(crate) structure_gen: u64,
    /// Bumped by every message: values, rates and retained flags moved.
    pub(crate) data_gen: u64,
    pub(crate) cache: RowCache,
}

impl Default for TopicTree {
    fn default() -> Self {
        Self::new()
    }
}

fn payload_hash(payload: &[u8]) -> u64 {
    Seeded::FIXED.hash_one(payload)
}

impl TopicTree {
    pub fn new() -> Self {
        Self {
            nodes: std::iter::once(Node::new(Arc::from(""), 0, 0, NONE)).collect(),
            stats: Chunked::default(),
            index: TopicIndex::default(),
            dollar: NONE,
            structure_gen: 0,
            data_gen: 0,
            cache: RowCache::default(),
        }
    }

    /// Takes one message in: about a microsecond for a known topic (one hash lookup, then the
    /// node and its ancestors updated in place), a few more for a new one.
    pub fn record(&mut self, seen: Seen<'_>) {
        let at = millis(seen.at);
        let id = self.find_or_insert(seen.topic);
        let node = &mut self.nodes[id as usize];
        if node.stats == NONE {
            node.stats = u32::try_from(self.stats.len()).unwrap_or(NONE);
            self.stats.push(Stats::default());
        }
        let stats = &mut self.stats[node.stats as usize];
        let hash = payload_hash(seen.payload);
        let changed = stats.count == 0 || stats.payload_hash != hash;
        stats.sample_interval(at);
        let newest = stats.count == 0 || at >= stats.last_received;
        stats.rate = decay(stats.rate, stats.last_received, at) + weight(at, stats.last_received);
        stats.count += 1;
        stats.seeded = false;
        if newest {
            stats.last_received = at;
            stats.qos = seen.qos.min(2);
            if changed {
                stats.preview = preview(seen.payload);
                stats.payload_hash = hash;
                stats.last_change = at;
            }
        }
        let was_retained = stats.retained;
        if seen.retain && newest {
            stats.retained = !seen.payload.is_empty();
        }
        let retained_delta = i64::from(stats.retained) - i64::from(was_retained);
        self.update_ancestors(id, 1, at, changed && newest, retained_delta, true);
        self.data_gen += 1;
    }

    /// Seeds one topic from history: counts add up; the last value, time, QoS and retained flag
    /// are taken when newer than what the tree has. History adds nothing to the rate or the
    /// usual interval (they describe the live connection).
    pub fn seed(&mut self, summary: &Summary) {
        let at = millis(summary.last_at);
        let id = self.find_or_insert(&summary.topic);
        let node = &mut self.nodes[id as usize];
        if node.stats == NONE {
            node.stats = u32::try_from(self.stats.len()).unwrap_or(NONE);
            self.stats.push(Stats::default());
        }
        let stats = &mut self.stats[node.stats as usize];
        let newer = stats.count == 0 || at >= stats.last_received;
        let was_retained = stats.retained;
        stats.count += summary.count;
        if newer {
            let hash = payload_hash(&summary.last_payload);
            if stats.count == summary.count || hash != stats.payload_hash {
                stats.preview = preview(&summary.last_payload);
                stats.payload_hash = hash;
                stats.last_change = at;
            }
            stats.last_received = at;
            stats.qos = summary.last_qos.min(2);
            stats.retained = summary.last_retain && !summary.last_payload.is_empty();
            stats.seeded = true;
        }
        let retained_delta = i64::from(stats.retained) - i64::from(was_retained);
        self.update_ancestors(id, summary.count, at, newer, retained_delta, false);
        self.data_gen += 1;
    }

    /// The retained message of `topic` is known to be gone (deleted through the Topics tab: an
    /// empty retained PUBLISH reaches a live subscriber with RETAIN 0 in MQTT 3.1.1, so the
    /// message itself cannot say so). Counts and values stay.
    pub fn forget_retained(&mut self, topic: &str) {
        let Some(id) = self.index.get(&self.nodes, topic) else { return };
        let stats = self.nodes[id as usize].stats;
        let Some(stats) = self.stats.get_mut(stats as usize).filter(|s| s.retained) else { return };
        stats.retained = false;
        self.update_ancestors(id, 0, i64::MIN, false, -1, false);
        self.data_gen += 1;
    }

    /// Adds a message's effect to the node and every ancestor (the root included: tree totals).
    fn update_ancestors(&mut self, id: u32, count: u64, at: i64, changed: bool, retained: i64, live: bool) {
        let mut n = id;
        while n != NONE {
            let node = &mut self.nodes[n as usize];
            node.subtree_count += count;
            if live {
                node.sub_rate = decay(node.sub_rate, node.sub_last_received, at) + weight(at, node.sub_last_received);
            }
            node.sub_last_received = node.sub_last_received.max(at);
            if changed {
                node.sub_last_change = node.sub_last_change.max(at);
            }
            node.retained_under = node.retained_under.saturating_add_signed(retained as i32);
            n = node.parent;
        }
    }

    fn find_or_insert(&mut self, topic: &str) -> u32 {
        if let Some(id) = self.index.get(&self.nodes, topic) {
            return id;
        }
        let mut parent = ROOT;
        if topic.starts_with('$') {
            if self.dollar == NONE {
                self.dollar = self.push_node(Arc::from(""), 0, ROOT);
            }
            parent = self.dollar;
        }
        let mut start = 0;
        loop {
            let end = topic[start..].find('/').map_or(topic.len(), |i| start + i);
            let prefix = &topic[..end];
            parent = if let Some(id) = self.index.get(&self.nodes, prefix) {
                id
            } else {
                let shared: Arc<str> = Arc::from(prefix);
                let id = self.push_node(shared.clone(), start, parent);
                self.index.insert(&shared, id);
                id
            };
            if end == topic.len() {
                return parent;
            }
            start = end + 1;
        }
    }

    fn push_node(&mut self, topic: Arc<str>, name_start: usize, parent: u32) -> u32 {
        let id = u32::try_from(self.nodes.len()).unwrap_or(NONE);
        let up = &self.nodes[parent as usize];
        let depth = if parent == ROOT { 0 } else { up.depth.saturating_add(1) };
        let last = up.last_child;
        self.nodes.push(Node::new(topic, u16::try_from(name_start).unwrap_or(u16::MAX), depth, parent));
        if last == NONE {
            self.nodes[parent as usize].first_child = id;
        } else {
            self.nodes[last as usize].next_sibling = id;
        }
        self.nodes[parent as usize].last_child = id;
        self.structure_gen += 1;
        id
    }

    /// The node, `None` for an id of another tree beyond this one's nodes.
    pub fn node(&self, id: NodeId) -> Option<NodeRef<'_>> {
        (id.0 != ROOT && (id.0 as usize) < self.nodes.len()).then_some(NodeRef { tree: self, id })
    }

    /// The node of a topic (or of an intermediate level: `a/b` of `a/b/c`).
    pub fn find(&self, topic: &str) -> Option<NodeId> {
        self.index.get(&self.nodes, topic).map(NodeId)
    }

    /// The full topic of a node ("" for the `$` branch or an unknown id).
    pub fn topic_of(&self, id: NodeId) -> String {
        self.node(id).map_or_else(String::new, |n| n.topic().to_owned())
    }

    /// "Subscribe to this subtree": `a/b/#` (which also matches `a/b` itself); `None` for the `$`
    /// branch, which no single filter covers.
    pub fn subtree_filter(&self, id: NodeId) -> Option<String> {
        let node = self.node(id).filter(|n| !n.is_dollar_branch())?;
        Some(format!("{}/#", node.topic()))
    }

    /// The topics at or below `id` holding a retained message (for "delete retained"), in
    /// tree order; `retained_under` of the node says how many without the walk.
    pub fn retained_topics_under(&self, id: NodeId) -> Vec<String> {
        let Some(node) = self.node(id) else { return Vec::new() };
        let mut out = Vec::with_capacity(node.retained_under() as usize);
        let mut stack = vec![id.0];
        while let Some(n) = stack.pop() {
            let node = &self.nodes[n as usize];
            if node.retained_under == 0 {
                continue;
            }
            if self.stats.get(node.stats as usize).is_some_and(|s| s.retained) {
                out.push(node.topic.to_string());
            }
            let mut child = node.first_child;
            let mark = stack.len();
            while child != NONE {
                stack.push(child);
                child = self.nodes[child as usize].next_sibling;
            }
            stack[mark..].reverse();
        }
        out
    }

    /// Topics that received messages.
    pub fn len(&self) -> usize {
        self.stats.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stats.is_empty()
    }

    /// Nodes, intermediate levels and the `$` branch included (the root excluded).
    pub fn node_count(&self) -> usize {
        self.nodes.len() - 1
    }

    /// Messages in the whole tree.
    pub fn message_count(&self) -> u64 {
        self.nodes[ROOT as usize].subtree_count
    }

    /// Topics holding a retained message in the whole tree.
    pub fn retained_count(&self) -> u32 {
        self.nodes[ROOT as usize].retained_under
    }

    /// The heap this tree holds, estimated from capacities and string lengths (glibc's malloc
    /// chunks counted: 8 bytes of header, 16-byte steps, 32 at least): O(nodes), for benches and the
    /// status line, not for every frame.
    pub fn memory_bytes(&self) -> usize {
        let alloc = |len: usize| ((len + 8).div_ceil(16) * 16).max(32);
        let nodes = self.nodes.capacity_bytes();
        let stats = self.stats.capacity_bytes();
        let index = self.index.memory_bytes();
        // Arc<str>: two counters before the text.
        let topics: usize = self.nodes.iter().map(|n| alloc(16 + n.topic.len())).sum();
        let previews: usize =
            self.stats.iter().map(|s| if s.preview.is_empty() { 0 } else { alloc(s.preview.len()) }).sum();
        nodes + stats + index + topics + previews + self.cache.memory_bytes()
    }
}
