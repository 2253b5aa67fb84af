//! What changes durable state, in the order it happened under the router lock.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::SystemTime;

use crate::broker::{Message, Retained};
use crate::codec::{Packet, PacketId, SubOptions, TopicFilter, TopicName};

/// One change to what must survive a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A retained message set (`Some`, with who stored it and when) or cleared (`None`).
    Retain {
        topic: TopicName,
        message: Option<Retained>,
    },
    /// Retained messages cleared together (the embedding app's "clear this subtree"): one
    /// change, so one transaction deletes all of them or none.
    RetainCleared {
        topics: Vec<TopicName>,
    },
    /// A persistent session exists (created, or resumed by a user).
    Session {
        client: Arc<str>,
        username: Option<Arc<str>>,
    },
    /// A session's expiry (MQTT 5.0 3.1.2.11.2): its interval in seconds (0xFFFFFFFF: never)
    /// and, once its connection has ended, when (wall-clock time, so that a restart keeps
    /// counting from then).
    Expiry {
        client: Arc<str>,
        interval: u32,
        disconnected: Option<SystemTime>,
    },
    /// A persistent session ended (a clean session replaced it, or it expired).
    DropSession {
        client: Arc<str>,
    },
    /// A subscription made or replaced, with its options and Subscription Identifier.
    Subscribe {
        client: Arc<str>,
        filter: TopicFilter,
        options: SubOptions,
        id: Option<NonZeroU32>,
    },
    Unsubscribe {
        client: Arc<str>,
        filter: TopicFilter,
    },
    /// A message waits for a persistent session (queued, no packet id yet).
    Stored {
        client: Arc<str>,
        seq: u64,
        message: Message,
    },
    /// Sent with this packet id; waiting for PUBACK or PUBREC.
    Sent {
        client: Arc<str>,
        seq: u64,
        pid: PacketId,
    },
    /// PUBREC received; waiting for PUBCOMP.
    Received {
        client: Arc<str>,
        seq: u64,
    },
    /// Fully acknowledged (or dropped): forget it.
    Done {
        client: Arc<str>,
        seq: u64,
    },
    /// A QoS 2 id received from the client (`true`) or released by its PUBREL (`false`).
    IncomingQos2 {
        client: Arc<str>,
        pid: PacketId,
        present: bool,
    },
}

/// What the store thread receives.
#[derive(Debug)]
pub enum Entry {
    Change(Change),
    /// An acknowledgement to send once everything recorded before it is committed.
    Release {
        client: Arc<str>,
        link: u64,
        packet: Packet,
    },
    /// Answered once everything before it is committed (shutdown, tests).
    Sync(mpsc::Sender<()>),
}

/// The sending side, held by the router and by persistent sessions.
#[derive(Debug, Clone)]
pub struct Journal {
    tx: mpsc::Sender<Entry>,
}

impl Journal {
    pub fn new(tx: mpsc::Sender<Entry>) -> Self {
        Self { tx }
    }

    /// A journal whose entries go nowhere (for tests of pure state).
    pub fn channel() -> (Self, mpsc::Receiver<Entry>) {
        let (tx, rx) = mpsc::channel();
        (Self { tx }, rx)
    }

    /// Never blocks: the channel is unbounded, and publishers are held back instead by their
    /// acknowledgements, which wait for the store.
    pub fn record(&self, change: Change) {
        // Only fails once the store thread is gone, at shutdown: nothing is left to save then.
        let _ = self.tx.send(Entry::Change(change));
    }

    pub fn release(&self, client: Arc<str>, link: u64, packet: Packet) {
        let _ = self.tx.send(Entry::Release { client, link, packet });
    }

    pub fn sync(&self) -> mpsc::Receiver<()> {
        let (tx, rx) = mpsc::channel();
        let _ = self.tx.send(Entry::Sync(tx));
        rx
    }
}
