//! Counters for `$SYS`, updated by connection tasks without taking the router lock.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Stats {
    pub bytes_received: AtomicU64,
    pub bytes_sent: AtomicU64,
    /// Every control packet, as Mosquitto's `messages/received` counts them.
    pub messages_received: AtomicU64,
    pub messages_sent: AtomicU64,
    pub publish_received: AtomicU64,
    pub publish_sent: AtomicU64,
    pub publish_dropped: AtomicU64,
    pub publish_bytes_received: AtomicU64,
    pub publish_bytes_sent: AtomicU64,
    /// Accepted CONNECTs.
    pub connections: AtomicU64,
    /// Accepted sockets.
    pub sockets: AtomicU64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
