//! The outbox: packets waiting for the connection's next write, encoded in one go. A message
//! leaves here in the client's view: without the listener's mount point, with its topic alias.

use std::collections::VecDeque;

use bytes::BytesMut;

use super::{Await, IDLE_OUTBOX, Session, Written};
use crate::codec::{Packet, Protocol, Publish};

impl Session {
    /// Puts a packet at the front of the outbox (CONNACK goes before any resend).
    pub fn send_first(&mut self, packet: Packet) {
        self.outbox.push_front(packet);
        if let Some(link) = &self.link {
            link.wake.notify_one();
        }
    }

    /// Encodes every waiting packet into `buf`.
    pub fn write_outbox(&mut self, buf: &mut BytesMut) -> Written {
        let mut written = Written::default();
        let mut dropped = Vec::new();
        let max = self.client_max_packet_size();
        for mut packet in self.outbox.drain(..) {
            if let Packet::Publish(p) = &mut packet {
                // Queued for an earlier connection that took larger packets, or for a 3.1.1
                // one: discarded as if sent [MQTT-3.1.2-25].
                if let Some(max) = max
                    && packet_len(p, self.protocol) > max
                {
                    dropped.extend(p.qos_pid.pid());
                    continue;
                }
                written.publishes += 1;
                written.publish_bytes += p.payload.len() as u64;
                if let Some(mount) = &self.mount {
                    mount.unmount(p);
                }
                if let Some(aliases) = self.out_aliases.as_mut() {
                    aliases.apply(p);
                }
            }
            written.packets += 1;
            // Packets built by the broker from validated parts always encode.
            let _ = packet.encode(self.protocol, buf);
        }
        for pid in dropped {
            let _ = self.settle(pid, Await::PubAck) || self.settle(pid, Await::PubRec);
        }
        if self.outbox.capacity() <= IDLE_OUTBOX {
            // An idle client should not keep the room its CONNACK took.
            self.outbox = VecDeque::new();
        }
        self.relieve();
        written
    }

    pub fn has_output(&self) -> bool {
        !self.outbox.is_empty()
    }
}

fn packet_len(p: &Publish, protocol: Protocol) -> usize {
    // Only a PUBLISH whose properties cannot be encoded fails here: it is too large anyway.
    p.encoded_len(protocol).unwrap_or(usize::MAX)
}
