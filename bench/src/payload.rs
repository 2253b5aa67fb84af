//! What each benchmark message carries, so that the subscriber can count lost and duplicated
//! messages and measure latency without any side channel:
//!
//! `publisher: u32 | seq: u64 | sent: u64 (ns since the run's epoch) | padding`, big-endian.

use std::sync::OnceLock;
use std::time::Instant;

/// Bytes the stamp needs; payloads are at least this long.
pub const STAMP_LEN: usize = 20;

/// One clock for every client of the process, so that a send time written by a publisher can
/// be compared with the receive time of a subscriber.
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub publisher: u32,
    pub seq: u64,
    pub sent_ns: u64,
}

impl Stamp {
    /// Writes the stamp and pads to `len` bytes.
    pub fn put(self, buf: &mut Vec<u8>, len: usize) {
        buf.extend_from_slice(&self.publisher.to_be_bytes());
        buf.extend_from_slice(&self.seq.to_be_bytes());
        buf.extend_from_slice(&self.sent_ns.to_be_bytes());
        buf.resize(buf.len() + len.saturating_sub(STAMP_LEN), b'x');
    }

    /// Reads a stamp; `None` for a payload that is not one of ours.
    pub fn read(payload: &[u8]) -> Option<Self> {
        let publisher = u32::from_be_bytes(payload.get(0..4)?.try_into().ok()?);
        let seq = u64::from_be_bytes(payload.get(4..12)?.try_into().ok()?);
        let sent_ns = u64::from_be_bytes(payload.get(12..20)?.try_into().ok()?);
        Some(Self { publisher, seq, sent_ns })
    }
}

/// Which sequence numbers of each publisher arrived: counts unique, duplicated and foreign
/// messages with one bit per expected message.
#[derive(Debug)]
pub struct Tracker {
    per_publisher: u64,
    seen: Vec<Vec<u64>>,
    pub unique: u64,
    pub duplicated: u64,
    /// Payloads that are not stamps of this run (wrong publisher or sequence number).
    pub foreign: u64,
}

impl Tracker {
    pub fn new(publishers: u32, per_publisher: u64) -> Self {
        let words = usize::try_from(per_publisher.div_ceil(64)).unwrap_or(usize::MAX);
        Self {
            per_publisher,
            seen: (0..publishers).map(|_| vec![0; words]).collect(),
            unique: 0,
            duplicated: 0,
            foreign: 0,
        }
    }

    pub fn expected(&self) -> u64 {
        self.per_publisher * self.seen.len() as u64
    }

    pub fn complete(&self) -> bool {
        self.unique >= self.expected()
    }

    /// Records one arrival.
    pub fn record(&mut self, stamp: Stamp) {
        let Some(bits) = self.seen.get_mut(stamp.publisher as usize) else {
            self.foreign += 1;
            return;
        };
        if stamp.seq >= self.per_publisher {
            self.foreign += 1;
            return;
        }
        let (word, bit) = ((stamp.seq / 64) as usize, stamp.seq % 64);
        if bits[word] & (1 << bit) == 0 {
            bits[word] |= 1 << bit;
            self.unique += 1;
        } else {
            self.duplicated += 1;
        }
    }

    /// Unique arrivals of publishers that sent `sent[p]` messages, short of what they sent.
    pub fn lost(&self, sent_total: u64) -> u64 {
        sent_total.saturating_sub(self.unique)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_round_trips_and_pads() {
        let stamp = Stamp { publisher: 3, seq: 1 << 40, sent_ns: 123_456_789 };
        let mut buf = Vec::new();
        stamp.put(&mut buf, 64);
        assert_eq!(buf.len(), 64);
        assert_eq!(Stamp::read(&buf), Some(stamp));
        assert_eq!(Stamp::read(&buf[..19]), None);
    }

    #[test]
    fn tracker_counts_unique_duplicates_and_foreign() {
        let mut t = Tracker::new(2, 100);
        for seq in [0, 1, 63, 64, 99] {
            t.record(Stamp { publisher: 1, seq, sent_ns: 0 });
        }
        t.record(Stamp { publisher: 1, seq: 64, sent_ns: 0 });
        t.record(Stamp { publisher: 2, seq: 0, sent_ns: 0 });
        t.record(Stamp { publisher: 0, seq: 100, sent_ns: 0 });
        assert_eq!((t.unique, t.duplicated, t.foreign), (5, 1, 2));
        assert_eq!(t.expected(), 200);
        assert_eq!(t.lost(200), 195);
        assert!(!t.complete());
    }
}
