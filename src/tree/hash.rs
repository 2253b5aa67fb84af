//! A fast hasher for the tree's maps (topics, expanded nodes, sorted children) and payload
//! hashes: std's SipHash costs more than the rest of a message's update. A word at a time,
//! rotate-xor-multiply, with a random seed per map so no broker can prepare colliding topics
//! ahead of time; the final rotation brings the multiply's well-mixed high bits down to the
//! bucket index.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

const K: u64 = 0xf135_7aea_2e62_a9c5;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Seeded(u64);

impl Default for Seeded {
    fn default() -> Self {
        Self(RandomState::new().hash_one(0x5eed_u32))
    }
}

impl Seeded {
    /// A fixed seed, for hashes compared within one tree only (payloads).
    pub const FIXED: Self = Self(0x243f_6a88_85a3_08d3);
}

impl BuildHasher for Seeded {
    type Hasher = Fold;
    fn build_hasher(&self) -> Fold {
        Fold(self.0)
    }
}

pub(crate) struct Fold(u64);

impl Fold {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for Fold {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0; 8];
        word[..rest.len()].copy_from_slice(rest);
        // The length keeps "a" and "a\0" apart.
        self.add(u64::from_le_bytes(word) ^ ((bytes.len() as u64) << 56));
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::Seeded;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    #[test]
    fn similar_topics_spread_over_buckets() {
        let seed = Seeded::default();
        let low: HashSet<u64> = (0..10_000).map(|i| seed.hash_one(format!("site/dev{i}/temp")) & 0xfff).collect();
        assert!(low.len() > 3000, "{} of 4096 buckets used by 10,000 topics", low.len());
        assert_ne!(seed.hash_one("a"), seed.hash_one("a\0"));
        assert_eq!(Seeded::FIXED.hash_one(b"x"), Seeded::FIXED.hash_one(b"x"));
    }
}
