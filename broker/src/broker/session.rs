//! One client's session: subscriptions, outbound QoS 1/2 flows, the queue, and the packets
//! waiting to be written. Pure state: it never touches the network, so it is tested without
//! sockets. The connection task drains [`Session::write_outbox`] when it is woken.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::sync::Notify;

use crate::codec::{Packet, PacketId, Publish, QoS, QosPid, TopicFilter, TopicName};

/// An application message as the broker routes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: TopicName,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
}

/// The live connection a session is attached to.
#[derive(Debug, Clone)]
pub struct Link {
    /// Unique per connection, so that a connection taken over can tell it is no longer current.
    pub id: u64,
    /// Woken whenever the outbox gains a packet.
    pub wake: Arc<Notify>,
}

/// Limits from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// 0: unlimited.
    pub max_inflight: usize,
    /// 0: unlimited.
    pub max_queued: usize,
    pub queue_qos0: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Await {
    PubAck,
    PubRec,
    PubComp,
}

#[derive(Debug)]
struct Inflight {
    pid: PacketId,
    message: Message,
    state: Await,
}

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// In the outbox, to be written now.
    Sent,
    /// Waiting for room in the in-flight window, or for the client to come back.
    Queued,
    /// Dropped: the queue is full, or the client is offline and the message is QoS 0.
    Dropped,
}

/// Counts of what [`Session::write_outbox`] encoded, for `$SYS`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub packets: u64,
    pub publishes: u64,
    pub publish_bytes: u64,
}

#[derive(Debug)]
pub struct Session {
    pub client_id: Arc<str>,
    /// The user name of the current (or last) connection, for ACL checks on delivery.
    pub username: Option<Arc<str>>,
    pub clean: bool,
    pub subscriptions: HashMap<TopicFilter, QoS>,
    pub link: Option<Link>,
    limits: Limits,
    /// QoS 1/2 messages sent and not yet fully acknowledged, in the order they were sent.
    inflight: VecDeque<Inflight>,
    /// Messages waiting for room in the in-flight window (or for the client to reconnect).
    queue: VecDeque<Message>,
    /// Packets to write, in order: acks, SUBACKs, publishes.
    outbox: VecDeque<Packet>,
    /// The last packet id used for an outbound QoS 1/2 message.
    last_pid: PacketId,
    /// QoS 2 messages received whose PUBREL has not come yet: a resent PUBLISH with one of
    /// these ids is a duplicate and is not routed again (exactly once).
    incoming_qos2: HashSet<PacketId>,
}

impl Session {
    pub fn new(client_id: Arc<str>, clean: bool, limits: Limits) -> Self {
        Self {
            client_id,
            username: None,
            clean,
            subscriptions: HashMap::new(),
            link: None,
            limits,
            inflight: VecDeque::new(),
            queue: VecDeque::new(),
            outbox: VecDeque::new(),
            last_pid: PacketId::new(u16::MAX).unwrap_or_else(|| unreachable!()),
            incoming_qos2: HashSet::new(),
        }
    }

    pub fn is_online(&self) -> bool {
        self.link.is_some()
    }

    /// Messages held for this client: in flight and queued.
    pub fn stored_messages(&self) -> impl Iterator<Item = &Message> {
        self.inflight.iter().map(|i| &i.message).chain(self.queue.iter())
    }

    fn window_full(&self) -> bool {
        self.limits.max_inflight != 0 && self.inflight.len() >= self.limits.max_inflight
    }

    fn queue_full(&self) -> bool {
        self.limits.max_queued != 0 && self.queue.len() >= self.limits.max_queued
    }

    /// Queues a packet for writing and wakes the connection.
    pub fn send(&mut self, packet: Packet) {
        self.outbox.push_back(packet);
        if let Some(link) = &self.link {
            link.wake.notify_one();
        }
    }

    /// Delivers a message at `qos` (already the minimum of the publish and subscription QoS).
    pub fn deliver(&mut self, message: &Message, qos: QoS, retain: bool) -> Delivery {
        let message = Message { qos, retain, ..message.clone() };
        if qos == QoS::AtMostOnce {
            if self.is_online() {
                // QoS 0 to a client that does not read is bounded by the queue limit too.
                let cap = self.limits.max_queued + self.limits.max_inflight;
                if self.limits.max_queued != 0 && self.outbox.len() >= cap {
                    return Delivery::Dropped;
                }
                self.send(publish_packet(&message, QosPid::AtMostOnce, false));
                return Delivery::Sent;
            }
            if !self.queue_qos0_offline() || self.queue_full() {
                return Delivery::Dropped;
            }
            self.queue.push_back(message);
            return Delivery::Queued;
        }
        // Messages keep their order: nothing overtakes what is already queued.
        if self.is_online() && !self.window_full() && self.queue.is_empty() {
            self.send_inflight(message);
            return Delivery::Sent;
        }
        if self.queue_full() {
            return Delivery::Dropped;
        }
        self.queue.push_back(message);
        Delivery::Queued
    }

    fn queue_qos0_offline(&self) -> bool {
        self.limits.queue_qos0 && !self.clean
    }

    fn next_pid(&mut self) -> PacketId {
        loop {
            self.last_pid = self.last_pid.next();
            let pid = self.last_pid;
            if !self.inflight.iter().any(|i| i.pid == pid) {
                return pid;
            }
        }
    }

    fn send_inflight(&mut self, message: Message) {
        let pid = self.next_pid();
        self.send(publish_packet(&message, QosPid::with(message.qos, pid), false));
        let state = if message.qos == QoS::AtLeastOnce { Await::PubAck } else { Await::PubRec };
        self.inflight.push_back(Inflight { pid, message, state });
    }

    /// Moves queued messages into the in-flight window while there is room.
    fn fill(&mut self) {
        while self.is_online() && !self.window_full() {
            let Some(message) = self.queue.pop_front() else { return };
            if message.qos == QoS::AtMostOnce {
                self.send(publish_packet(&message, QosPid::AtMostOnce, false));
            } else {
                self.send_inflight(message);
            }
        }
    }

    fn settle(&mut self, pid: PacketId, expected: Await) -> bool {
        match self.inflight.iter().position(|i| i.pid == pid && i.state == expected) {
            Some(at) => {
                self.inflight.remove(at);
                self.fill();
                true
            }
            None => false,
        }
    }

    /// PUBACK from the client. Returns false for an id that was not awaiting one.
    pub fn on_puback(&mut self, pid: PacketId) -> bool {
        self.settle(pid, Await::PubAck)
    }

    /// PUBREC from the client: answer PUBREL (again, for a repeated PUBREC).
    pub fn on_pubrec(&mut self, pid: PacketId) -> bool {
        let Some(entry) = self.inflight.iter_mut().find(|i| i.pid == pid && i.state != Await::PubAck) else {
            return false;
        };
        entry.state = Await::PubComp;
        self.send(Packet::PubRel(pid));
        true
    }

    pub fn on_pubcomp(&mut self, pid: PacketId) -> bool {
        self.settle(pid, Await::PubComp)
    }

    /// A QoS 2 PUBLISH arrived: true the first time this id is seen (route it), false for a
    /// resend before PUBREL (do not route it twice). Either way the answer is PUBREC.
    pub fn on_incoming_qos2(&mut self, pid: PacketId) -> bool {
        let first = self.incoming_qos2.insert(pid);
        self.send(Packet::PubRec(pid));
        first
    }

    /// PUBREL from the client: the QoS 2 flow is complete.
    pub fn on_pubrel(&mut self, pid: PacketId) {
        self.incoming_qos2.remove(&pid);
        self.send(Packet::PubComp(pid));
    }

    /// Attaches a new connection: what was in flight is sent again, PUBLISH with DUP=1 and
    /// PUBREL for messages already received [MQTT-4.4.0-1], then the queue flows.
    pub fn attach(&mut self, link: Link) {
        self.link = Some(link);
        self.outbox.clear();
        let resend: Vec<Packet> = self
            .inflight
            .iter()
            .map(|i| match i.state {
                Await::PubComp => Packet::PubRel(i.pid),
                _ => publish_packet(&i.message, QosPid::with(i.message.qos, i.pid), true),
            })
            .collect();
        for packet in resend {
            self.send(packet);
        }
        self.fill();
    }

    /// The connection ended: packets not yet written are dropped (QoS 1/2 stay in flight).
    pub fn detach(&mut self) {
        self.link = None;
        self.outbox.clear();
    }

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
        for packet in self.outbox.drain(..) {
            if let Packet::Publish(p) = &packet {
                written.publishes += 1;
                written.publish_bytes += p.payload.len() as u64;
            }
            written.packets += 1;
            // Packets built by the broker from validated parts always encode.
            let _ = packet.encode(buf);
        }
        written
    }

    pub fn has_output(&self) -> bool {
        !self.outbox.is_empty()
    }
}

fn publish_packet(m: &Message, qos_pid: QosPid, dup: bool) -> Packet {
    Packet::Publish(Publish { dup, qos_pid, retain: m.retain, topic: m.topic.clone(), payload: m.payload.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Decoded, decode};

    const LIMITS: Limits = Limits { max_inflight: 2, max_queued: 3, queue_qos0: false };

    fn msg(n: u8, qos: QoS) -> Message {
        Message { topic: TopicName::new("PV/data").unwrap(), payload: Bytes::from(vec![n]), qos, retain: false }
    }

    fn online(limits: Limits) -> Session {
        let mut s = Session::new("c".into(), false, limits);
        s.attach(Link { id: 1, wake: Arc::new(Notify::new()) });
        s
    }

    fn drain(s: &mut Session) -> Vec<Packet> {
        let mut buf = BytesMut::new();
        s.write_outbox(&mut buf);
        let mut out = Vec::new();
        while let Ok(Decoded::Packet(p, n)) = decode(&buf, usize::MAX) {
            out.push(p);
            let _ = buf.split_to(n);
        }
        out
    }

    fn pid(p: &Packet) -> u16 {
        match p {
            Packet::Publish(p) => p.qos_pid.pid().map_or(0, PacketId::get),
            Packet::PubRel(id) => id.get(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_inflight_window_holds_back_messages_until_acknowledged() {
        let mut s = online(LIMITS);
        let outcomes: Vec<_> = (0..4).map(|n| s.deliver(&msg(n, QoS::AtLeastOnce), QoS::AtLeastOnce, false)).collect();
        assert_eq!(outcomes, [Delivery::Sent, Delivery::Sent, Delivery::Queued, Delivery::Queued]);
        let sent = drain(&mut s);
        assert_eq!(sent.iter().map(pid).collect::<Vec<_>>(), [1, 2]);
        assert!(s.on_puback(PacketId::new(1).unwrap()));
        assert_eq!(drain(&mut s).iter().map(pid).collect::<Vec<_>>(), [3]);
        assert!(!s.on_puback(PacketId::new(1).unwrap()), "a second PUBACK for the same id is not expected");
    }

    #[test]
    fn the_queue_is_bounded_and_drops_beyond_max_queued() {
        let mut s = online(LIMITS);
        let dropped = (0..10)
            .map(|n| s.deliver(&msg(n, QoS::ExactlyOnce), QoS::ExactlyOnce, false))
            .filter(|d| *d == Delivery::Dropped)
            .count();
        assert_eq!(dropped, 10 - 2 - 3);
        assert_eq!(s.stored_messages().count(), 5);
    }

    #[test]
    fn qos2_outbound_flow_sends_pubrel_then_frees_the_slot_on_pubcomp() {
        let mut s = online(LIMITS);
        s.deliver(&msg(0, QoS::ExactlyOnce), QoS::ExactlyOnce, false);
        drain(&mut s);
        let one = PacketId::new(1).unwrap();
        assert!(!s.on_pubcomp(one), "PUBCOMP before PUBREC is not accepted");
        assert!(s.on_pubrec(one));
        assert_eq!(drain(&mut s), [Packet::PubRel(one)]);
        assert!(s.on_pubcomp(one));
        assert_eq!(s.stored_messages().count(), 0);
    }

    #[test]
    fn reconnect_resends_unacknowledged_messages_with_dup_and_pubrel_for_received_ones() {
        let mut s = online(LIMITS);
        s.deliver(&msg(0, QoS::AtLeastOnce), QoS::AtLeastOnce, false);
        s.deliver(&msg(1, QoS::ExactlyOnce), QoS::ExactlyOnce, false);
        drain(&mut s);
        s.on_pubrec(PacketId::new(2).unwrap());
        s.detach();
        s.deliver(&msg(2, QoS::AtLeastOnce), QoS::AtLeastOnce, false);
        s.attach(Link { id: 2, wake: Arc::new(Notify::new()) });
        let resent = drain(&mut s);
        let Packet::Publish(first) = &resent[0] else { panic!("{resent:?}") };
        assert!(first.dup);
        assert_eq!(first.qos_pid.pid().unwrap().get(), 1);
        assert_eq!(resent[1], Packet::PubRel(PacketId::new(2).unwrap()));
        assert_eq!(resent.len(), 2, "the window of 2 is full: message 2 stays queued");
    }

    #[test]
    fn outbound_packet_ids_wrap_from_65535_to_1_skipping_ids_in_use() {
        let mut s = online(Limits { max_inflight: 0, max_queued: 0, queue_qos0: false });
        s.deliver(&msg(0, QoS::AtLeastOnce), QoS::AtLeastOnce, false); // takes id 1, never acked
        let mut last = 0;
        for n in 0..65535u32 {
            s.deliver(&msg(0, QoS::AtLeastOnce), QoS::AtLeastOnce, false);
            let sent = drain(&mut s);
            last = pid(sent.last().unwrap());
            if n < 65534 {
                s.on_puback(PacketId::new(last).unwrap());
            }
        }
        assert_eq!(last, 2, "after 65535 comes 1, which is still in flight, so 2");
    }

    #[test]
    fn a_repeated_qos2_publish_is_routed_once() {
        let mut s = online(LIMITS);
        let id = PacketId::new(9).unwrap();
        assert!(s.on_incoming_qos2(id));
        assert!(!s.on_incoming_qos2(id));
        s.on_pubrel(id);
        assert!(s.on_incoming_qos2(id), "after PUBREL the id is free again");
        assert_eq!(drain(&mut s), [Packet::PubRec(id), Packet::PubRec(id), Packet::PubComp(id), Packet::PubRec(id)]);
    }

    #[test]
    fn offline_sessions_queue_qos1_and_drop_qos0() {
        let mut s = Session::new("c".into(), false, LIMITS);
        assert_eq!(s.deliver(&msg(0, QoS::AtMostOnce), QoS::AtMostOnce, false), Delivery::Dropped);
        assert_eq!(s.deliver(&msg(1, QoS::AtLeastOnce), QoS::AtLeastOnce, false), Delivery::Queued);
    }
}
