//! The outbox: packets waiting for the connection's next write. A message leaves here in the
//! client's view: without the listener's mount point, with its topic alias.
//!
//! The connection takes the packets under the router's lock ([`Session::take_outbox`]) and
//! encodes them after releasing it ([`Outgoing::encode`]): only that connection's task drains
//! the outbox, so nothing else needs what it holds meanwhile. On two cores, encoding under the
//! lock kept every publisher waiting for every subscriber's encoding (docs/PERFORMANCE.md).

use std::collections::VecDeque;

use bytes::BytesMut;

use super::alias::OutAliases;
use super::encoded::{Encoded, Pending};
use super::{Await, IDLE_OUTBOX, Session, Written};
use crate::broker::mount::MountPoint;
use crate::codec::{Packet, PacketId, Protocol, Publish};

/// The most packets a connection takes out of the router's lock to encode. A larger batch is
/// encoded under it: taking it needs a second queue as large as the first, for a few hundred
/// packets per subscriber (one core, where the publisher routes a whole read before any
/// subscriber runs). Taking every batch out measured 0.86x in the one-core fan-out (a build
/// with the default codegen units, which also moved figures: docs/PERFORMANCE.md). Two cores
/// drain in smaller batches, which go out of the lock.
pub const ENCODE_APART: usize = 64;

/// A packet waiting in an outbox.
#[derive(Debug)]
pub enum Outbound {
    Packet(Packet),
    /// QoS 0 PUBLISHes already encoded, shared with other subscribers (encoded.rs).
    Encoded(Encoded),
    /// The same before the router's unlock seals them (encoded.rs): never taken out.
    Pending(Pending),
}

/// Packets taken from a session's outbox, with what encoding them needs from the session.
#[derive(Debug)]
pub struct Outgoing {
    packets: VecDeque<Outbound>,
    protocol: Protocol,
    /// The client's Maximum Packet Size (MQTT 5.0), if it set one.
    max: Option<usize>,
    /// The connection's topic aliases, lent for the encoding: given back with
    /// [`Session::give_back`].
    aliases: Option<Box<OutAliases>>,
    /// Held PUBLISHes too large for the client: discarded as if sent [MQTT-3.1.2-25], and
    /// settled by [`Session::give_back`].
    dropped: Vec<PacketId>,
}

impl Session {
    /// Puts a packet at the front of the outbox (CONNACK goes before any resend).
    pub fn send_first(&mut self, packet: Packet) {
        self.outbox.push_front(Outbound::Packet(packet));
        self.outbox_packets = self.outbox_packets.saturating_add(1);
        if let Some(link) = &self.link {
            link.wake.notify_one();
        }
    }

    /// Takes every waiting packet into `spare` (an empty queue the caller keeps from one
    /// encoding to the next), or `None` if there is none. The packets are moved, not the queue:
    /// the session keeps its own, with the room a busy subscriber's next batch needs.
    pub fn take_outbox(&mut self, spare: &mut VecDeque<Outbound>) -> Option<Outgoing> {
        if self.outbox.is_empty() {
            self.outbox_done();
            return None;
        }
        let mut packets = std::mem::take(spare);
        packets.extend(self.outbox.drain(..));
        self.outbox_packets = 0;
        self.outbox_done();
        Some(self.lend(packets))
    }

    /// The outbox was emptied.
    fn outbox_done(&mut self) {
        if self.outbox.capacity() <= IDLE_OUTBOX {
            // An idle client should not keep the room its CONNACK took.
            self.outbox = VecDeque::new();
        }
        self.relieve();
    }

    /// `packets` with what encoding them needs from the session.
    fn lend(&mut self, packets: VecDeque<Outbound>) -> Outgoing {
        let max = self.client_max_packet_size();
        Outgoing { packets, protocol: self.protocol, max, aliases: self.out_aliases.take(), dropped: Vec::new() }
    }

    /// Takes back what [`Self::take_outbox`] lent (the topic aliases) and settles the messages
    /// too large for the client. Only for the connection that took them: a connection that took
    /// the session over has aliases of its own.
    pub fn give_back(&mut self, outgoing: &mut Outgoing) {
        if let Some(aliases) = outgoing.aliases.take()
            && self.out_aliases.is_none()
        {
            self.out_aliases = Some(aliases);
        }
        for pid in outgoing.dropped.drain(..) {
            let _ = self.settle(pid, Await::PubAck) || self.settle(pid, Await::PubRec);
        }
    }

    /// Encodes every waiting packet into `buf` under the caller's borrow, keeping the outbox's
    /// own queue: for a batch larger than [`ENCODE_APART`], and for tests.
    pub fn write_outbox(&mut self, buf: &mut BytesMut) -> Written {
        if self.outbox.is_empty() {
            self.outbox_done();
            return Written::default();
        }
        let packets = std::mem::take(&mut self.outbox);
        self.outbox_packets = 0;
        let mut outgoing = self.lend(packets);
        let written = outgoing.encode(buf, self.mount.as_ref());
        self.give_back(&mut outgoing);
        self.outbox = outgoing.into_spare();
        self.outbox_done();
        written
    }

    /// Entries waiting in the outbox (one may hold several shared PUBLISHes).
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// Packets waiting in the outbox.
    pub(super) fn outbox_packets(&self) -> usize {
        self.outbox_packets as usize
    }

    pub fn has_output(&self) -> bool {
        !self.outbox.is_empty()
    }
}

impl Outgoing {
    /// Encodes the packets into `buf`, each PUBLISH as the client sees it: without the
    /// listener's `mount` point, with its topic alias.
    pub(crate) fn encode(&mut self, buf: &mut BytesMut, mount: Option<&MountPoint>) -> Written {
        let mut written = Written::default();
        for out in self.packets.drain(..) {
            let mut packet = match out {
                Outbound::Packet(packet) => packet,
                Outbound::Encoded(encoded) => {
                    // Shared only for a session without mount point or topic aliases, each
                    // packet within the client's Maximum Packet Size when it was routed, and
                    // an outbox is emptied when a connection attaches.
                    buf.extend_from_slice(encoded.bytes());
                    written.publishes += u64::from(encoded.publishes());
                    written.packets += u64::from(encoded.publishes());
                    written.publish_bytes += encoded.payload_len() as u64;
                    continue;
                }
                // The router seals every range before it is unlocked.
                Outbound::Pending(_) => continue,
            };
            if let Packet::Publish(p) = &mut packet {
                // Queued for an earlier connection that took larger packets, or for a 3.1.1
                // one: discarded as if sent [MQTT-3.1.2-25].
                if let Some(max) = self.max
                    && packet_len(p, self.protocol) > max
                {
                    self.dropped.extend(p.qos_pid.pid());
                    continue;
                }
                written.publishes += 1;
                written.publish_bytes += p.payload.len() as u64;
                if let Some(mount) = mount {
                    mount.unmount(p);
                }
                if let Some(aliases) = self.aliases.as_mut() {
                    aliases.apply(p);
                }
            }
            written.packets += 1;
            // Packets built by the broker from validated parts always encode.
            let _ = packet.encode(self.protocol, buf);
        }
        written
    }

    /// Whether the session must take something back ([`Session::give_back`]).
    pub fn lent(&self) -> bool {
        self.aliases.is_some() || !self.dropped.is_empty()
    }

    /// The emptied queue, to lend the outbox at the next [`Session::take_outbox`].
    pub fn into_spare(self) -> VecDeque<Outbound> {
        self.packets
    }
}

fn packet_len(p: &Publish, protocol: Protocol) -> usize {
    // Only a PUBLISH whose properties cannot be encoded fails here: it is too large anyway.
    p.encoded_len(protocol).unwrap_or(usize::MAX)
}
