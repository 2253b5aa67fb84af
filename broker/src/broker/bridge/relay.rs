//! The bridge's protocol state between its two sides, with no I/O (as `session` and `router`):
//! a packet from one side in, the packets for either side out. It maps topics by the `topic`
//! lines' prefixes and passes each QoS 1/2 flow through, step by step, under the same packet id
//! on both sides:
//!
//! - out (the local broker sends, the remote receives): local PUBLISH n → remote PUBLISH n;
//!   remote PUBACK / PUBREC n → local; local PUBREL n → remote; remote PUBCOMP n → local.
//! - in: the same the other way round.
//!
//! One id for a message on both sides is what makes a reconnect safe: the relay starts empty
//! at each connection, while both sessions keep their QoS state. A side resends what it holds
//! (PUBLISH with DUP, or PUBREL) under the id the other side already knows, so a QoS 2 message
//! is neither lost nor delivered twice, and a side is acknowledged only when the other side has
//! acknowledged. The bridge's own packets on the remote (SUBSCRIBE, UNSUBSCRIBE, its state
//! message) take ids from the top of the range, where sessions counting up from 1 rarely are.

use std::collections::HashSet;

use crate::codec::v5::{Properties, PropertyId};
use crate::codec::{Ack, Packet, PacketId, Protocol, Publish, QosPid, TopicName, matches};
use crate::config::bridge::BridgeTopic;

/// Where a packet goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Local(Packet),
    Remote(Packet),
}

/// Counts for the log and the status panel.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub out: u64,
    pub came_in: u64,
    /// Messages for the remote over `bridge_max_packet_size`, dropped.
    pub too_large: u64,
}

/// The highest packet id, where the bridge's own ids start.
const LAST: PacketId = match PacketId::new(u16::MAX) {
    Some(pid) => pid,
    None => unreachable!(),
};

pub struct Relay {
    topics: Vec<BridgeTopic>,
    /// `bridge_outgoing_retain false` clears the RETAIN flag of what goes out.
    outgoing_retain: bool,
    remote_protocol: Protocol,
    /// `bridge_max_packet_size`: the largest PUBLISH sent to the remote, in bytes; 0: no limit.
    max_out: usize,
    /// Ids of local messages passed to the remote and not yet acknowledged by it (for the log).
    outgoing: HashSet<PacketId>,
    /// Ids of remote messages passed to the local broker and not yet acknowledged.
    incoming: HashSet<PacketId>,
    /// Remote ids of the bridge's own QoS 1 messages (its state notification).
    own: HashSet<PacketId>,
    /// QoS 2 ids of messages no `topic` line maps, answered by the relay itself: their PUBREL
    /// is answered here too, on each side.
    unmapped_local: HashSet<PacketId>,
    unmapped_remote: HashSet<PacketId>,
    /// The next id of the bridge's own packets, counting down from 65535.
    next_own: u16,
    pub moved: Moved,
}

impl Relay {
    pub fn new(topics: Vec<BridgeTopic>, outgoing_retain: bool, remote_protocol: Protocol) -> Self {
        Self {
            topics,
            outgoing_retain,
            remote_protocol,
            max_out: 0,
            outgoing: HashSet::new(),
            incoming: HashSet::new(),
            own: HashSet::new(),
            unmapped_local: HashSet::new(),
            unmapped_remote: HashSet::new(),
            next_own: u16::MAX,
            moved: Moved::default(),
        }
    }

    /// `bridge_max_packet_size`: larger messages for the remote are dropped (and acknowledged
    /// to the local broker), as Mosquitto does.
    #[must_use]
    pub fn with_max_out(mut self, bytes: u32) -> Self {
        self.max_out = bytes as usize;
        self
    }

    /// An id for a packet of the bridge's own (SUBSCRIBE, UNSUBSCRIBE, its state message), on
    /// either side: from 65535 down, skipping ids in flight.
    pub fn own_pid(&mut self) -> PacketId {
        let mut pid = LAST;
        // At most one turn of the range: with every id in flight (65535 of them), the next one.
        for _ in 0..u16::MAX {
            pid = PacketId::new(self.next_own).unwrap_or(LAST);
            self.next_own = if self.next_own <= 1 { u16::MAX } else { self.next_own - 1 };
            if !self.outgoing.contains(&pid) && !self.incoming.contains(&pid) && !self.own.contains(&pid) {
                break;
            }
        }
        pid
    }

    /// Messages taken from one side and not yet acknowledged by the other.
    pub fn in_flight(&self) -> usize {
        self.outgoing.len() + self.incoming.len()
    }

    /// A message of the bridge's own for the remote (its state), at QoS 1 as Mosquitto sends it.
    pub fn own_publish(&mut self, topic: TopicName, payload: bytes::Bytes, retain: bool) -> Packet {
        let pid = self.own_pid();
        self.own.insert(pid);
        Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::AtLeastOnce(pid),
            retain,
            topic,
            payload,
            properties: Properties::default(),
        })
    }

    /// A packet from the local broker (the bridge's own session there).
    pub fn on_local(&mut self, packet: Packet, out: &mut Vec<Out>) {
        match packet {
            Packet::Publish(p) => self.local_publish(p, out),
            // Acknowledgements of what came in: passed to the remote.
            Packet::PubAck(a) => {
                self.incoming.remove(&a.pid);
                out.push(Out::Remote(Packet::PubAck(self.for_remote(&a))));
            }
            Packet::PubRec(a) => {
                if a.reason.is_error() {
                    self.incoming.remove(&a.pid);
                }
                out.push(Out::Remote(Packet::PubRec(self.for_remote(&a))));
            }
            Packet::PubComp(a) => {
                self.incoming.remove(&a.pid);
                out.push(Out::Remote(Packet::PubComp(Ack::new(a.pid))));
            }
            // The release of what goes out: passed on, unless the relay answered the message.
            Packet::PubRel(a) => {
                if self.unmapped_local.remove(&a.pid) {
                    out.push(Out::Local(Packet::PubComp(Ack::new(a.pid))));
                } else {
                    out.push(Out::Remote(Packet::PubRel(Ack::new(a.pid))));
                }
            }
            _ => {}
        }
    }

    /// A packet from the remote broker.
    pub fn on_remote(&mut self, packet: Packet, out: &mut Vec<Out>) {
        match packet {
            Packet::Publish(p) => self.remote_publish(p, out),
            // The bridge's own message: done here.
            Packet::PubAck(a) if self.own.remove(&a.pid) => {}
            Packet::PubAck(a) => {
                self.outgoing.remove(&a.pid);
                out.push(Out::Local(Packet::PubAck(a)));
            }
            Packet::PubRec(a) => {
                if a.reason.is_error() {
                    self.outgoing.remove(&a.pid);
                }
                out.push(Out::Local(Packet::PubRec(a)));
            }
            Packet::PubComp(a) => {
                self.outgoing.remove(&a.pid);
                out.push(Out::Local(Packet::PubComp(Ack::new(a.pid))));
            }
            Packet::PubRel(a) => {
                if self.unmapped_remote.remove(&a.pid) {
                    out.push(Out::Remote(Packet::PubComp(Ack::new(a.pid))));
                } else {
                    out.push(Out::Local(Packet::PubRel(Ack::new(a.pid))));
                }
            }
            _ => {}
        }
    }

    /// An acknowledgement for the remote: its reason code only where the remote speaks MQTT 5
    /// (the local side always does).
    fn for_remote(&self, a: &Ack) -> Ack {
        if self.remote_protocol.is_v5() && a.reason.is_error() {
            Ack::with_reason(a.pid, a.reason)
        } else {
            Ack::new(a.pid)
        }
    }

    fn local_publish(&mut self, p: Publish, out: &mut Vec<Out>) {
        let Some(topic) = self.map_out(&p.topic) else {
            // Not a bridged topic (a subscription left from an older config): taken and dropped.
            answer(p.qos_pid, &mut self.unmapped_local, out, Out::Local);
            return;
        };
        let properties = if self.remote_protocol.is_v5() { forwardable(&p.properties) } else { Properties::default() };
        let publish = Packet::Publish(Publish {
            dup: p.dup,
            qos_pid: p.qos_pid,
            retain: p.retain && self.outgoing_retain,
            topic,
            payload: p.payload,
            properties,
        });
        let size = publish.encoded_len(self.remote_protocol).unwrap_or(usize::MAX);
        if self.max_out != 0 && size > self.max_out {
            self.moved.too_large += 1;
            answer(p.qos_pid, &mut self.unmapped_local, out, Out::Local);
            return;
        }
        self.moved.out += 1;
        if let QosPid::AtLeastOnce(pid) | QosPid::ExactlyOnce(pid) = p.qos_pid {
            self.outgoing.insert(pid);
        }
        out.push(Out::Remote(publish));
    }

    fn remote_publish(&mut self, p: Publish, out: &mut Vec<Out>) {
        let Some(topic) = self.map_in(&p.topic) else {
            answer(p.qos_pid, &mut self.unmapped_remote, out, Out::Remote);
            return;
        };
        self.moved.came_in += 1;
        if let QosPid::AtLeastOnce(pid) | QosPid::ExactlyOnce(pid) = p.qos_pid {
            self.incoming.insert(pid);
        }
        out.push(Out::Local(Packet::Publish(Publish {
            dup: p.dup,
            qos_pid: p.qos_pid,
            retain: p.retain,
            topic,
            payload: p.payload,
            properties: forwardable(&p.properties),
        })));
    }

    /// The remote topic of a local message, by the first `out`/`both` line whose local filter
    /// matches it: its local prefix swapped for the remote one.
    fn map_out(&self, name: &TopicName) -> Option<TopicName> {
        let t = self.topics.iter().find(|t| t.direction.goes_out() && matches(&t.local_filter(), name.as_str()))?;
        swap(name.as_str(), &t.local_prefix, &t.remote_prefix)
    }

    /// The local topic of a remote message, by the first `in`/`both` line.
    fn map_in(&self, name: &TopicName) -> Option<TopicName> {
        let t = self.topics.iter().find(|t| t.direction.comes_in() && matches(&t.remote_filter(), name.as_str()))?;
        swap(name.as_str(), &t.remote_prefix, &t.local_prefix)
    }
}

/// The answer that ends a flow at the relay, for a message that goes nowhere (a QoS 2 one's
/// PUBREL is then answered here too).
fn answer(qos_pid: QosPid, unmapped: &mut HashSet<PacketId>, out: &mut Vec<Out>, side: fn(Packet) -> Out) {
    match qos_pid {
        QosPid::AtMostOnce => {}
        QosPid::AtLeastOnce(pid) => out.push(side(Packet::PubAck(Ack::new(pid)))),
        QosPid::ExactlyOnce(pid) => {
            unmapped.insert(pid);
            out.push(side(Packet::PubRec(Ack::new(pid))));
        }
    }
}

fn swap(name: &str, from: &str, to: &str) -> Option<TopicName> {
    let rest = name.strip_prefix(from)?;
    TopicName::new(format!("{to}{rest}")).ok()
}

/// What of a message's MQTT 5 properties crosses: not the ids that belong to one connection
/// (Topic Alias, Subscription Identifier).
fn forwardable(properties: &Properties) -> Properties {
    if properties.is_empty() {
        return Properties::default();
    }
    let kept =
        properties.iter().filter(|p| !matches!(p.id(), PropertyId::TopicAlias | PropertyId::SubscriptionIdentifier));
    Properties::from_vec(kept.cloned().collect())
}

#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
