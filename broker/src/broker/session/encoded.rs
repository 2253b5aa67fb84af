//! A QoS 0 PUBLISH encoded once for every subscriber that receives it byte for byte alike.
//!
//! In a fan-out each subscriber's outbox held a `Publish` of its own: two reference counts
//! raised on the publisher's core and dropped on the subscriber's, and the packet encoded
//! again by every subscriber. Most subscribers of a QoS 0 message receive the same bytes: the
//! ones on the same protocol family (3.1/3.1.1, or 5.0) with the same RETAIN flag, no
//! mount point, no topic alias and no Subscription Identifier. Those now share one encoding:
//! one count per delivery and a copy into the write buffer (docs/PERFORMANCE.md, "Every
//! core: the sixth session").

use std::sync::Arc;

use bytes::BytesMut;

use super::Message;
use crate::codec::{Packet, Protocol, Publish, QosPid};

/// A larger PUBLISH is not shared: copying it once more (into the shared buffer) would cost
/// what sharing saves, and the reused buffer would keep its room.
const SHARE_UP_TO: usize = 16 * 1024;

/// A whole PUBLISH packet, shared by the outboxes it goes to.
#[derive(Debug, Clone)]
pub struct Encoded {
    bytes: Arc<[u8]>,
    /// The payload's size, for the broker's byte counts.
    payload: usize,
}

impl Encoded {
    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(super) const fn payload_len(&self) -> usize {
        self.payload
    }
}

/// The shared encodings of one routed message, by protocol family and RETAIN flag. The first
/// subscriber of a kind gets a packet of its own, as before (a message with one subscriber,
/// the fan-in, is not encoded twice); the second encodes it for itself and the rest.
#[derive(Debug, Default)]
pub struct EncodedOnce {
    kinds: [Kind; 4],
    /// Reused from message to message: the shared copy is allocated at its exact size.
    scratch: BytesMut,
}

#[derive(Debug, Default)]
enum Kind {
    #[default]
    Unseen,
    Once,
    Shared(Encoded),
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

    /// `message` as a QoS 0 PUBLISH with `retain` for a `protocol` connection, if a subscriber
    /// of that kind had it before; `None` for the first (or if it cannot be shared).
    pub(super) fn get(&mut self, message: &Message, protocol: Protocol, retain: bool) -> Option<Encoded> {
        let kind = &mut self.kinds[usize::from(protocol.is_v5()) * 2 + usize::from(retain)];
        match kind {
            Kind::Shared(encoded) => return Some(encoded.clone()),
            Kind::Unseen => {
                *kind = Kind::Once;
                return None;
            }
            Kind::Unshared => return None,
            Kind::Once => {}
        }
        let packet = Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain,
            topic: message.topic.clone(),
            payload: message.payload.clone(),
            properties: message.properties.clone(),
        });
        self.scratch.clear();
        let fits = packet.encoded_len(protocol).is_ok_and(|len| len <= SHARE_UP_TO);
        if !fits || packet.encode(protocol, &mut self.scratch).is_err() {
            *kind = Kind::Unshared;
            return None;
        }
        let encoded = Encoded { bytes: Arc::from(&self.scratch[..]), payload: message.payload.len() };
        *kind = Kind::Shared(encoded.clone());
        Some(encoded)
    }
}
