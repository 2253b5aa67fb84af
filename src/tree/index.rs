//! The index from a level's full topic to its node, keyed by the topic's 64-bit hash. A map
//! keyed by the strings themselves reads every topic again when it grows (hashbrown rehashes
//! all at once): at 57,000 topics that was one 17 ms frame in the bench. Keyed by the hash it
//! moves 12-byte entries only, and `griddle` moves them a few at a time on the inserts that follow
//! a growth instead of all at once (hashbrown's rehash of 131,072 entries still took 10 ms of
//! one frame in the `three` bench with three trees, 2026-12-07). A hit is confirmed against the node's topic; a topic whose hash
//! another took first (rare: 64 bits, seeded per tree) goes to a small map of its own.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::chunked::Chunked;
use super::hash::Seeded;
use super::node::Node;

/// The key is already a good hash: it is used as it is.
#[derive(Default)]
pub(crate) struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[derive(Debug, Default)]
pub(crate) struct TopicIndex {
    seed: Seeded,
    by_hash: griddle::HashMap<u64, u32, BuildHasherDefault<Identity>>,
    /// Topics whose hash was taken by another topic first.
    collided: HashMap<Arc<str>, u32, Seeded>,
}

impl TopicIndex {
    pub fn get(&self, nodes: &Chunked<Node>, topic: &str) -> Option<u32> {
        let id = *self.by_hash.get(&self.seed.hash_one(topic))?;
        if nodes.get(id as usize).is_some_and(|n| &*n.topic == topic) {
            Some(id)
        } else {
            self.collided.get(topic).copied()
        }
    }

    /// Adds a topic not in the index yet.
    pub fn insert(&mut self, topic: &Arc<str>, id: u32) {
        let hash = self.seed.hash_one(&**topic);
        if self.by_hash.contains_key(&hash) {
            self.collided.insert(topic.clone(), id);
        } else {
            self.by_hash.insert(hash, id);
        }
    }

    /// Bytes held (hashbrown: a slot and a control byte per bucket, buckets 8/7 of capacity).
    pub fn memory_bytes(&self) -> usize {
        self.by_hash.capacity() * 8 / 7 * (size_of::<(u64, u32)>() + 1)
            + self.collided.capacity() * 8 / 7 * (size_of::<(Arc<str>, u32)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collision_is_told_apart_by_the_topic() {
        let nodes: Chunked<Node> = ["a", "b"].iter().map(|t| Node::new(Arc::from(*t), 0, 0, 0)).collect();
        let mut index = TopicIndex::default();
        index.insert(&nodes[0].topic, 0);
        // "b" filed under "a"'s hash, as a collision would.
        let h = index.seed.hash_one("a");
        index.collided.insert(nodes[1].topic.clone(), 1);
        assert_eq!(index.by_hash.get(&h), Some(&0));
        assert_eq!(index.get(&nodes, "a"), Some(0));
        assert_eq!(index.get(&nodes, "c"), None);
        index.by_hash.insert(index.seed.hash_one("b"), 0);
        assert_eq!(index.get(&nodes, "b"), Some(1), "a hit on another topic's node is checked");
    }
}
