//! Byte budgets (issue 24): `max_inflight_bytes` and `max_queued_bytes` per client, and the
//! broker-wide `memory_limit`.
//!
//! Bytes are payload bytes, as Mosquitto 2.0.11 counts them (`payloadlen`): topics,
//! properties and packet headers are not counted. A message may go in flight, or be queued,
//! while the bytes already there are below the limit, so one message larger than the limit
//! still goes, alone (mosquitto.conf(5)).
//!
//! `memory_limit` cannot count the allocator here, as Mosquitto counts its own: the broker does
//! not wrap its allocator. [`Memory`] counts instead what the broker holds for clients: the
//! payload of every message held for a client (queued or in flight), once per client holding
//! it, and of every retained message. A payload shared by several clients is in memory once,
//! so the count is an upper bound of the payload memory; buffers, sessions and subscriptions
//! are not in it. Each held message carries a [`Charge`] that gives its bytes back when it is
//! dropped, whatever path drops it (acknowledged, expired, unreadable, handed over, session
//! ended), so the count cannot drift.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Held, Inflight, Limits, Session};
use crate::config::Config;

/// The broker-wide count behind `memory_limit`.
#[derive(Debug)]
pub struct Memory {
    /// `memory_limit`, in bytes (never 0: no `Memory` exists without a limit).
    limit: usize,
    /// Payload bytes held now.
    held: AtomicUsize,
}

impl Memory {
    /// The count for one broker, or `None` without a limit. Leaked, so that [`Limits`] stays
    /// `Copy` (every session holds a copy): one allocation of 16 bytes per broker started
    /// with `memory_limit`, never freed.
    pub fn leaked(limit: usize) -> Option<&'static Self> {
        (limit != 0).then(|| &*Box::leak(Box::new(Self { limit, held: AtomicUsize::new(0) })))
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Payload bytes held now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Whether taking `bytes` more would go over the limit.
    pub fn would_exceed(&self, bytes: usize) -> bool {
        self.held().saturating_add(bytes) > self.limit
    }

    /// Counts `bytes` until the returned charge is dropped.
    pub fn charge(memory: Option<&'static Self>, bytes: usize) -> Charge {
        if let Some(m) = memory {
            m.held.fetch_add(bytes, Ordering::Relaxed);
        }
        Charge { memory, bytes }
    }
}

/// Bytes counted in a [`Memory`] while this lives.
#[derive(Debug, Default)]
pub struct Charge {
    memory: Option<&'static Memory>,
    bytes: usize,
}

impl Clone for Charge {
    /// A copy is held too: it counts again.
    fn clone(&self) -> Self {
        Memory::charge(self.memory, self.bytes)
    }
}

impl PartialEq for Charge {
    /// What a message costs is not part of what it is.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Charge {}

impl Drop for Charge {
    fn drop(&mut self) {
        if let Some(m) = self.memory {
            m.held.fetch_sub(self.bytes, Ordering::Relaxed);
        }
    }
}

impl Limits {
    /// No limit at all (tests build on it).
    pub const NONE: Self = Self {
        max_inflight: 0,
        max_queued: 0,
        queue_qos0: false,
        max_inflight_bytes: 0,
        max_queued_bytes: 0,
        check_retain_source: false,
        memory: None,
    };

    /// The limits a configuration sets; `memory_limit` gets its count here.
    pub fn from_config(config: &Config) -> Self {
        Self {
            max_inflight: config.max_inflight_messages,
            max_queued: config.max_queued_messages,
            queue_qos0: config.queue_qos0_messages,
            max_inflight_bytes: config.max_inflight_bytes,
            max_queued_bytes: config.max_queued_bytes,
            check_retain_source: config.check_retain_source,
            memory: Memory::leaked(config.memory_limit),
        }
    }
}

impl Session {
    /// The broker's `memory_limit` count, if it has one.
    pub fn memory(&self) -> Option<&'static Memory> {
        self.limits.memory
    }

    /// Payload bytes in flight to this client.
    pub(super) fn inflight_bytes(&self) -> usize {
        self.flows.as_ref().map_or(0, |f| f.inflight_bytes)
    }

    /// Payload bytes queued for this client.
    pub(super) fn queued_bytes(&self) -> usize {
        self.flows.as_ref().map_or(0, |f| f.queued_bytes)
    }

    /// `max_inflight_bytes` is reached: the next message waits, however small.
    pub(super) fn inflight_bytes_full(&self) -> bool {
        self.limits.max_inflight_bytes != 0 && self.inflight_bytes() >= self.limits.max_inflight_bytes
    }

    /// `max_queued_bytes` is reached.
    pub(super) fn queued_bytes_full(&self) -> bool {
        self.limits.max_queued_bytes != 0 && self.queued_bytes() >= self.limits.max_queued_bytes
    }

    /// Down to half of each queue limit that is set: publishers held back may resume.
    pub(super) fn queue_half_empty(&self) -> bool {
        let (count, bytes) = (self.limits.max_queued, self.limits.max_queued_bytes);
        (count == 0 || self.queued() <= count / 2) && (bytes == 0 || self.queued_bytes() <= bytes / 2)
    }
}

impl super::flows::Flows {
    pub(super) fn push_inflight(&mut self, inflight: Inflight) {
        self.inflight_ids.insert(inflight.pid);
        self.inflight_bytes += inflight.held.message.payload.len();
        self.inflight.push_back(inflight);
    }

    pub(super) fn remove_inflight(&mut self, at: usize) -> Option<Inflight> {
        let done = self.inflight.remove(at)?;
        self.inflight_ids.remove(&done.pid);
        self.inflight_bytes -= done.held.message.payload.len();
        Some(done)
    }

    pub(super) fn push_queued(&mut self, held: Held) {
        self.queued_bytes += held.message.payload.len();
        self.queue.push_back(held);
    }

    pub(super) fn pop_queued(&mut self) -> Option<Held> {
        let held = self.queue.pop_front()?;
        self.queued_bytes -= held.message.payload.len();
        Some(held)
    }

    /// Counts the bytes again after the window or the queue was changed in bulk.
    pub(super) fn recount(&mut self) {
        self.inflight_bytes = self.inflight.iter().map(|i| i.held.message.payload.len()).sum();
        self.queued_bytes = self.queue.iter().map(|h| h.message.payload.len()).sum();
    }
}
