//! [`Chunked`]: an append-only vector stored in fixed chunks, so growing it never moves what it
//! holds. A `Vec` of 200,000 tree nodes doubling copies 30 MB and faults in 60 MB in one push:
//! 15-20 ms of one frame (`perf`, `cargo bench --bench app -- three`, 2026-12-07). Here a push
//! allocates at most one chunk of `CHUNK` items, and indexing is a shift and a mask.

use std::ops::{Index, IndexMut};

/// Items per chunk: a power of two (indexing is a shift), small enough that allocating one is
/// cheap (4,096 nodes of ~100 B: 400 KB), large enough that the chunk list stays short.
const SHIFT: u32 = 12;
const CHUNK: usize = 1 << SHIFT;

#[derive(Debug, Clone)]
pub struct Chunked<T> {
    /// Every chunk but the last holds exactly `CHUNK` items; each is allocated with that capacity
    /// once, so pushing never reallocates one.
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self { chunks: Vec::new(), len: 0 }
    }
}

impl<T> Chunked<T> {
    pub const fn len(&self) -> usize {
        self.len
    }

    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(item);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i >> SHIFT)?.get(i & (CHUNK - 1))
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i >> SHIFT)?.get_mut(i & (CHUNK - 1))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// Bytes of the items' slots, allocated or not (what `Vec::capacity` would count).
    pub fn capacity_bytes(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum::<usize>() * size_of::<T>()
            + self.chunks.capacity() * size_of::<Vec<T>>()
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.chunks[i >> SHIFT][i & (CHUNK - 1)]
    }
}

impl<T> IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i >> SHIFT][i & (CHUNK - 1)]
    }
}

impl<T> FromIterator<T> for Chunked<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut out = Self::default();
        for item in items {
            out.push(item);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_keep_their_index_across_chunks() {
        let mut v = Chunked::default();
        let n = 3 * CHUNK + 5;
        for i in 0..n {
            v.push(i);
        }
        assert_eq!(v.len(), n);
        assert_eq!(v[0], 0);
        assert_eq!(v[CHUNK - 1], CHUNK - 1);
        assert_eq!(v[CHUNK], CHUNK);
        assert_eq!(v[n - 1], n - 1);
        assert_eq!(v.get(n), None);
        v[CHUNK + 1] = 7;
        assert_eq!(v.get(CHUNK + 1), Some(&7));
        assert!(v.iter().copied().eq((0..n).map(|i| if i == CHUNK + 1 { 7 } else { i })));
        assert_eq!(v.iter().next_back(), Some(&(n - 1)));
    }

    #[test]
    fn a_full_chunk_is_never_reallocated() {
        let mut v = Chunked::default();
        v.push(0u8);
        let first = std::ptr::from_ref(&v[0]);
        for i in 1..(2 * CHUNK) {
            v.push(u8::try_from(i % 256).unwrap());
        }
        assert_eq!(std::ptr::from_ref(&v[0]), first, "the first chunk stayed where it was");
        assert_eq!(v.capacity_bytes(), 2 * CHUNK + v.chunks.capacity() * size_of::<Vec<u8>>());
    }
}
