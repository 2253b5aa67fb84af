//! QoS 0 PUBLISHes encoded once for every subscriber that receives them byte for byte alike,
//! and shared by their outboxes one batch at a time.
//!
//! In a fan-out each subscriber's outbox held a `Publish` of its own: two reference counts
//! raised on the publisher's core and dropped on the subscriber's, and the packet encoded
//! again by every subscriber. Most subscribers of a QoS 0 message receive the same bytes: the
//! ones on the same protocol family (3.1/3.1.1, or 5.0) with the same RETAIN flag, no
//! mount point, no topic alias and no Subscription Identifier. Those share one encoding.
//!
//! The encodings of all the messages routed under one lock go into one buffer, and a
//! subscriber's outbox notes the range it gets ([`Outbound::Pending`]), extended while its
//! messages follow each other there. When the router is unlocked the buffer is sealed into one
//! shared allocation and each noted range takes a reference to it: one count per subscriber
//! per batch of messages, not one per delivery (docs/PERFORMANCE.md, "Every core: the sixth
//! session").

use std::sync::Arc;

use bytes::BytesMut;

use super::{Message, Outbound, Session};
use crate::codec::{Packet, Protocol, Publish, QosPid};

/// A larger PUBLISH is not shared: copying it once more (into the shared buffer) would cost
/// what sharing saves.
const SHARE_UP_TO: usize = 16 * 1024;

/// A range of less than 1/`KEEP_SHARE` of the sealed buffer gets a copy of its own
/// ([`Session::seal_pending`]).
const KEEP_SHARE: usize = 4;

/// Whole PUBLISH packets in a row, a range of a buffer shared by the outboxes they go to.
#[derive(Debug, Clone)]
pub struct Encoded {
    bytes: Arc<[u8]>,
    start: usize,
    end: usize,
    /// How many PUBLISHes, and their payloads' size, for the broker's counts.
    publishes: u32,
    payload: usize,
}

impl Encoded {
    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    pub(super) const fn publishes(&self) -> u32 {
        self.publishes
    }

    pub(super) const fn payload_len(&self) -> usize {
        self.payload
    }

    /// The size of the allocation this entry keeps alive.
    #[cfg(test)]
    pub(super) fn held_len(&self) -> usize {
        self.bytes.len()
    }
}

/// A range of the buffer not sealed yet: only in an outbox while the router is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    start: usize,
    end: usize,
    publishes: u32,
    payload: usize,
}

/// The shared encodings of the messages routed under one lock. For each message, by protocol
/// family and RETAIN flag, the first subscriber of a kind gets a packet of its own, as before
/// (a message with one subscriber, the fan-in, is not encoded twice); the second encodes it
/// into the buffer for itself and the rest.
#[derive(Debug, Default)]
pub struct EncodedOnce {
    kinds: [Kind; 4],
    /// The encodings of this lock's messages, in the order they were made.
    buffer: BytesMut,
    /// The sessions given a range of `buffer`, with where in their outbox it starts.
    given: Vec<(Arc<str>, usize)>,
}

#[derive(Debug, Default)]
enum Kind {
    #[default]
    Unseen,
    Once,
    Shared {
        start: usize,
        end: usize,
    },
    /// Too large to share, or it does not encode (each delivery reports it as before).
    Unshared,
}

impl EncodedOnce {
    /// For the next message.
    pub fn clear(&mut self) {
        if self.kinds.iter().any(|k| !matches!(k, Kind::Unseen)) {
            self.kinds = Default::default();
        }
    }

    /// Gives `session` (named `client`) the current message as a QoS 0 PUBLISH with `retain`
    /// from the shared buffer, if a subscriber of its kind had it before; `false` for the first
    /// of a kind (or if it cannot be shared): the caller then sends it a packet of its own.
    pub(super) fn give(&mut self, session: &mut Session, message: &Message, retain: bool) -> bool {
        let protocol = session.protocol;
        let kind = &mut self.kinds[usize::from(protocol.is_v5()) * 2 + usize::from(retain)];
        let (start, end) = match *kind {
            Kind::Shared { start, end } => (start, end),
            Kind::Unseen => {
                *kind = Kind::Once;
                return false;
            }
            Kind::Unshared => return false,
            Kind::Once => {
                let Some(range) = encode(&mut self.buffer, message, protocol, retain) else {
                    *kind = Kind::Unshared;
                    return false;
                };
                *kind = Kind::Shared { start: range.0, end: range.1 };
                range
            }
        };
        let pending = Pending { start, end, publishes: 1, payload: message.payload.len() };
        if let Some(at) = session.push_pending(pending) {
            self.given.push((session.client_id.clone(), at));
        }
        true
    }

    /// Seals the buffer, and has `give` hand each session that noted a range of it (by client
    /// id, with where in its outbox the ranges start) its reference to the sealed buffer
    /// ([`Session::seal_pending`]): when the router is unlocked, and after each message routed
    /// outside a batch.
    pub fn seal(&mut self, mut give: impl FnMut(&str, usize, &Arc<[u8]>)) {
        if self.given.is_empty() {
            self.buffer.clear();
            return;
        }
        let bytes: Arc<[u8]> = Arc::from(&self.buffer[..]);
        self.buffer.clear();
        for (client, from) in self.given.drain(..) {
            give(&client, from, &bytes);
        }
    }
}

fn encode(buffer: &mut BytesMut, message: &Message, protocol: Protocol, retain: bool) -> Option<(usize, usize)> {
    let packet = Packet::Publish(Publish {
        dup: false,
        qos_pid: QosPid::AtMostOnce,
        retain,
        topic: message.topic.clone(),
        payload: message.payload.clone(),
        properties: message.properties.clone(),
    });
    if !packet.encoded_len(protocol).is_ok_and(|len| len <= SHARE_UP_TO) {
        return None;
    }
    let start = buffer.len();
    packet.encode(protocol, buffer).ok()?;
    Some((start, buffer.len()))
}

impl Session {
    /// Notes a range of the shared buffer at the end of the outbox: added to the last one if
    /// it follows it there; otherwise a new entry, whose place is answered.
    fn push_pending(&mut self, pending: Pending) -> Option<usize> {
        self.outbox_packets = self.outbox_packets.saturating_add(1);
        if let Some(link) = &self.link {
            link.wake.notify_one();
        }
        if let Some(Outbound::Pending(last)) = self.outbox.back_mut()
            && last.end == pending.start
        {
            last.end = pending.end;
            last.publishes += 1;
            last.payload += pending.payload;
            return None;
        }
        self.outbox.push_back(Outbound::Pending(pending));
        Some(self.outbox.len() - 1)
    }

    /// Gives the ranges noted from `from` on their reference to the sealed buffer. A range of
    /// less than a quarter of it gets a copy of its own instead: a client that does not read
    /// would otherwise hold a whole batch for each message it got from it, many times what it
    /// was sent (a rare topic among busy ones); with the copy it holds at most four times.
    pub fn seal_pending(&mut self, from: usize, bytes: &Arc<[u8]>) {
        let from = from.min(self.outbox.len());
        for out in self.outbox.range_mut(from..) {
            if let Outbound::Pending(p) = *out {
                let (bytes, start, end) = if (p.end - p.start) * KEEP_SHARE < bytes.len() {
                    (Arc::from(&bytes[p.start..p.end]), 0, p.end - p.start)
                } else {
                    (bytes.clone(), p.start, p.end)
                };
                *out = Outbound::Encoded(Encoded { bytes, start, end, publishes: p.publishes, payload: p.payload });
            }
        }
    }
}
