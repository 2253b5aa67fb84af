//! The bridge's protocol state between its two sides, with no I/O (as `session` and `router`):
//! a packet from one side in, the packets for either side out. It maps topics by the `topic`
//! lines' prefixes and carries each QoS 1/2 flow across, so that a side is acknowledged only
//! when the other side has taken the message:
//!
//! - out, QoS 1: local PUBLISH → remote PUBLISH; remote PUBACK → local PUBACK.
//! - out, QoS 2: local PUBLISH → remote PUBLISH; remote PUBREC → remote PUBREL; remote PUBCOMP
//!   → local PUBREC; local PUBREL → local PUBCOMP.
//! - in, QoS 1: remote PUBLISH → local PUBLISH; local PUBACK → remote PUBACK.
//! - in, QoS 2: remote PUBLISH → local PUBLISH; local PUBREC → local PUBREL; local PUBCOMP →
//!   remote PUBREC; remote PUBREL → remote PUBCOMP.
//!
//! A relay lives as long as both connections: when either ends, both are closed and what was
//! not acknowledged is sent again by the side that holds it (the local broker's session, the
//! remote's session).

use std::collections::{HashMap, HashSet};

use crate::codec::v5::{Properties, PropertyId};
use crate::codec::{Ack, Packet, PacketId, Protocol, Publish, QoS, QosPid, TopicName, matches};
use crate::config::bridge::BridgeTopic;

/// Where a packet goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Local(Packet),
    Remote(Packet),
}

/// A message on its way across, by the packet id it has on the receiving side.
#[derive(Debug, Clone, Copy)]
struct Flight {
    /// Its id on the side it came from, acknowledged when this flight ends.
    from: PacketId,
}

/// Counts for the log and the status panel.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub out: u64,
    pub came_in: u64,
}

pub struct Relay {
    topics: Vec<BridgeTopic>,
    /// `bridge_outgoing_retain false` clears the RETAIN flag of what goes out.
    outgoing_retain: bool,
    remote_protocol: Protocol,
    /// Local messages in flight to the remote, by remote packet id.
    outgoing: HashMap<PacketId, Flight>,
    /// Remote messages in flight to the local broker, by local packet id.
    incoming: HashMap<PacketId, Flight>,
    /// Remote ids of the bridge's own QoS 1 messages (its state notification).
    own: HashSet<PacketId>,
    /// Remote QoS 2 ids answered with PUBREC, waiting for PUBREL (a resent PUBLISH with one of
    /// these ids is answered, not delivered again).
    released_remote: HashSet<PacketId>,
    /// Remote QoS 2 ids being delivered locally (a resent PUBLISH is ignored until it is done).
    pending_remote: HashSet<PacketId>,
    next_local: PacketId,
    next_remote: PacketId,
    pub moved: Moved,
}

const FIRST: PacketId = match PacketId::new(1) {
    Some(p) => p,
    None => unreachable!(),
};

impl Relay {
    pub fn new(topics: Vec<BridgeTopic>, outgoing_retain: bool, remote_protocol: Protocol) -> Self {
        Self {
            topics,
            outgoing_retain,
            remote_protocol,
            outgoing: HashMap::new(),
            incoming: HashMap::new(),
            own: HashSet::new(),
            released_remote: HashSet::new(),
            pending_remote: HashSet::new(),
            next_local: FIRST,
            next_remote: FIRST,
            moved: Moved::default(),
        }
    }

    /// A packet id free on the local side, for a PUBLISH or a SUBSCRIBE.
    pub fn local_pid(&mut self) -> PacketId {
        free_pid(&mut self.next_local, |p| self.incoming.contains_key(&p))
    }

    /// A packet id free on the remote side.
    pub fn remote_pid(&mut self) -> PacketId {
        free_pid(&mut self.next_remote, |p| self.outgoing.contains_key(&p) || self.own.contains(&p))
    }

    /// A message of the bridge's own for the remote (its state), at QoS 1 as Mosquitto sends it.
    pub fn own_publish(&mut self, topic: TopicName, payload: bytes::Bytes, retain: bool) -> Packet {
        let pid = self.remote_pid();
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

    /// Messages taken from one side and not yet acknowledged by the other.
    pub fn in_flight(&self) -> usize {
        self.outgoing.len() + self.incoming.len()
    }

    /// A packet from the local broker (the bridge's own session there).
    pub fn on_local(&mut self, packet: Packet, out: &mut Vec<Out>) {
        match packet {
            Packet::Publish(p) => self.local_publish(p, out),
            Packet::PubAck(a) => {
                if let Some(f) = self.incoming.remove(&a.pid) {
                    out.push(Out::Remote(Packet::PubAck(Ack::new(f.from))));
                }
            }
            Packet::PubRec(a) => {
                if a.reason.is_error() {
                    // The local broker refused it; the remote's flow still ends.
                    if let Some(f) = self.incoming.remove(&a.pid) {
                        self.pending_remote.remove(&f.from);
                        self.released_remote.insert(f.from);
                        out.push(Out::Remote(Packet::PubRec(Ack::new(f.from))));
                    }
                } else {
                    out.push(Out::Local(Packet::PubRel(Ack::new(a.pid))));
                }
            }
            Packet::PubComp(a) => {
                if let Some(f) = self.incoming.remove(&a.pid) {
                    self.pending_remote.remove(&f.from);
                    self.released_remote.insert(f.from);
                    out.push(Out::Remote(Packet::PubRec(Ack::new(f.from))));
                }
            }
            Packet::PubRel(a) => out.push(Out::Local(Packet::PubComp(Ack::new(a.pid)))),
            _ => {}
        }
    }

    /// A packet from the remote broker.
    pub fn on_remote(&mut self, packet: Packet, out: &mut Vec<Out>) {
        match packet {
            Packet::Publish(p) => self.remote_publish(p, out),
            Packet::PubAck(a) => {
                if let Some(f) = self.outgoing.remove(&a.pid) {
                    out.push(Out::Local(Packet::PubAck(Ack::new(f.from))));
                }
                self.own.remove(&a.pid);
            }
            Packet::PubRec(a) => {
                if a.reason.is_error() {
                    // Refused by the remote (MQTT 5): nothing more will come of it.
                    if let Some(f) = self.outgoing.remove(&a.pid) {
                        out.push(Out::Local(Packet::PubRec(Ack::new(f.from))));
                    }
                } else {
                    out.push(Out::Remote(Packet::PubRel(Ack::new(a.pid))));
                }
            }
            Packet::PubComp(a) => {
                if let Some(f) = self.outgoing.remove(&a.pid) {
                    out.push(Out::Local(Packet::PubRec(Ack::new(f.from))));
                }
            }
            Packet::PubRel(a) => {
                self.released_remote.remove(&a.pid);
                out.push(Out::Remote(Packet::PubComp(Ack::new(a.pid))));
            }
            _ => {}
        }
    }

    fn local_publish(&mut self, p: Publish, out: &mut Vec<Out>) {
        let Some(topic) = self.map_out(&p.topic) else {
            // Not a bridged topic (a subscription left from an older config): taken and dropped.
            acknowledge(p.qos_pid, out, Out::Local);
            return;
        };
        self.moved.out += 1;
        let qos_pid = match p.qos_pid {
            QosPid::AtMostOnce => QosPid::AtMostOnce,
            QosPid::AtLeastOnce(from) | QosPid::ExactlyOnce(from) => {
                let pid = self.remote_pid();
                self.outgoing.insert(pid, Flight { from });
                if p.qos_pid.qos() == QoS::AtLeastOnce { QosPid::AtLeastOnce(pid) } else { QosPid::ExactlyOnce(pid) }
            }
        };
        let properties = if self.remote_protocol.is_v5() { forwardable(&p.properties) } else { Properties::default() };
        out.push(Out::Remote(Packet::Publish(Publish {
            dup: false,
            qos_pid,
            retain: p.retain && self.outgoing_retain,
            topic,
            payload: p.payload,
            properties,
        })));
    }

    fn remote_publish(&mut self, p: Publish, out: &mut Vec<Out>) {
        if let QosPid::ExactlyOnce(pid) = p.qos_pid {
            if self.released_remote.contains(&pid) {
                out.push(Out::Remote(Packet::PubRec(Ack::new(pid))));
                return;
            }
            if !self.pending_remote.insert(pid) {
                return;
            }
        }
        let Some(topic) = self.map_in(&p.topic) else {
            acknowledge(p.qos_pid, out, Out::Remote);
            if let QosPid::ExactlyOnce(pid) = p.qos_pid {
                self.pending_remote.remove(&pid);
                self.released_remote.insert(pid);
            }
            return;
        };
        self.moved.came_in += 1;
        let qos_pid = match p.qos_pid {
            QosPid::AtMostOnce => QosPid::AtMostOnce,
            QosPid::AtLeastOnce(from) | QosPid::ExactlyOnce(from) => {
                let pid = self.local_pid();
                self.incoming.insert(pid, Flight { from });
                if p.qos_pid.qos() == QoS::AtLeastOnce { QosPid::AtLeastOnce(pid) } else { QosPid::ExactlyOnce(pid) }
            }
        };
        out.push(Out::Local(Packet::Publish(Publish {
            dup: false,
            qos_pid,
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

/// The answer that ends a flow at once, for a message that goes nowhere.
fn acknowledge(qos_pid: QosPid, out: &mut Vec<Out>, side: fn(Packet) -> Out) {
    match qos_pid {
        QosPid::AtMostOnce => {}
        QosPid::AtLeastOnce(pid) => out.push(side(Packet::PubAck(Ack::new(pid)))),
        QosPid::ExactlyOnce(pid) => out.push(side(Packet::PubRec(Ack::new(pid)))),
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

fn free_pid(next: &mut PacketId, used: impl Fn(PacketId) -> bool) -> PacketId {
    loop {
        let pid = *next;
        *next = next.next();
        if !used(pid) {
            return pid;
        }
    }
}

#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
