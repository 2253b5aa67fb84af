//! One client's session: subscriptions, outbound QoS 1/2 flows, the queue, and the packets
//! waiting to be written. Pure state: it never touches the network, so it is tested without
//! sockets. The connection task drains [`Session::write_outbox`] when it is woken.
//!
//! A persistent session with persistence on also reports each change of its stored messages to
//! the store's [`Journal`], so that they can be restored after a restart.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Arc;

use bytes::Bytes;
use tokio::time::Instant;

use super::FastMap;
use super::mount::MountPoint;
use super::subscriptions::Sub;
use super::wake::Wake;
use crate::auth::Acl;
use crate::codec::v5::{Properties, Property};
use crate::codec::{Ack, LastWill, Packet, PacketId, Protocol, Publish, QoS, QosPid, TopicFilter, TopicName};
use crate::store::{Change, Journal};

mod access;
mod alias;
mod budget;
mod client;
mod deliver;
mod encoded;
pub mod expiry;
mod flows;
mod outbox;
mod pressure;
mod restore;
mod shared;

/// An outbox this small is freed once written; a busy client's larger one is kept.
const IDLE_OUTBOX: usize = 4;
pub use budget::{Charge, Memory};
pub use encoded::EncodedOnce;
use flows::Flows;
pub use outbox::{ENCODE_APART, Outbound};
use pressure::Pressure;
pub use pressure::STALL;

/// An application message as the broker routes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: TopicName,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    /// The PUBLISH's MQTT 5.0 properties, forwarded unchanged and in order (dropped toward
    /// 3.1.1 subscribers by the encoder); shared, so a fan-out copies a pointer.
    pub properties: Properties,
    /// When the Message Expiry Interval (MQTT 5.0) runs out, counted from its arrival;
    /// `None`: never (expiry.rs).
    pub expires_at: Option<Instant>,
}

impl Message {
    /// A message without properties, as a 3.1.1 client publishes.
    pub fn new(topic: TopicName, payload: Bytes, qos: QoS, retain: bool) -> Self {
        Self { topic, payload, qos, retain, properties: Properties::default(), expires_at: None }
    }

    /// This message as it goes to a subscriber: its properties, then a Subscription
    /// Identifier for each subscription it matched (3.3.2.3.8).
    #[must_use]
    pub fn with_subscription_ids(&self, ids: &[NonZeroU32]) -> Self {
        let mut properties = self.properties.as_slice().to_vec();
        properties.extend(ids.iter().map(|id| Property::SubscriptionIdentifier(*id)));
        Self { properties: Properties::from_vec(properties), ..self.clone() }
    }
}

/// The live connection a session is attached to.
#[derive(Debug, Clone)]
pub struct Link {
    /// Unique per connection, so that a connection taken over can tell it is no longer current.
    pub id: u64,
    /// Woken whenever the outbox gains a packet.
    pub wake: Arc<Wake>,
}

/// Limits from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// 0: unlimited.
    pub max_inflight: usize,
    /// 0: unlimited.
    pub max_queued: usize,
    pub queue_qos0: bool,
    /// Payload bytes in flight (`max_inflight_bytes`) and queued (`max_queued_bytes`) per
    /// client; 0: unlimited (budget.rs).
    pub max_inflight_bytes: usize,
    pub max_queued_bytes: usize,
    /// `check_retain_source`: a retained message goes out only while its publisher may still
    /// publish to its topic (router/retained.rs).
    pub check_retain_source: bool,
    /// `memory_limit`'s count, shared by every session and the retained messages.
    pub memory: Option<&'static Memory>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Await {
    PubAck,
    PubRec,
    PubComp,
}

/// A message held for the client; `seq` names it in the store.
#[derive(Debug)]
struct Held {
    seq: u64,
    message: Message,
    /// The `$share/` filter it was delivered through, if any: a shared subscription's message
    /// may go to another member of the group when this one leaves (shared.rs).
    share: Option<Arc<str>>,
    /// Its payload, counted toward `memory_limit` while it is held.
    _charge: Charge,
}

#[derive(Debug)]
struct Inflight {
    pid: PacketId,
    held: Held,
    state: Await,
}

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// In the outbox, to be written now.
    Sent,
    /// Waiting for room in the in-flight window, or for the client to come back.
    Queued,
    /// Taken over the queue limit: the publisher should wait for room (back-pressure).
    Backlogged,
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
    /// The Session Expiry Interval is 0: the session ends with its connection. Kept equal to
    /// `expiry == 0` by [`Session::set_expiry`].
    pub clean: bool,
    /// Session Expiry Interval in seconds ([`expiry::NEVER`]: never); 3.1.1 maps its clean
    /// session flag onto it.
    pub expiry: u32,
    /// While offline: when the session ends and when its delayed will goes out (expiry.rs).
    deadlines: Option<Box<expiry::Deadlines>>,
    /// The protocol of the current (or last) connection: how its outbox is encoded.
    pub protocol: Protocol,
    /// What the client's CONNECT said it can take.
    client: client::ClientLimits,
    /// Topic aliases assigned toward the current connection, if the client allows them.
    out_aliases: Option<Box<alias::OutAliases>>,
    /// foldhash, as the router's maps: its state is 8 bytes smaller than std's.
    pub subscriptions: FastMap<TopicFilter, Sub>,
    pub link: Option<Link>,
    /// The broker's, shared (every byte here is in every idle client).
    limits: Arc<Limits>,
    /// Held messages and QoS 2 ids: allocated while there are any, so that an idle client
    /// (or one that only gets QoS 0) carries a pointer instead of four empty collections.
    flows: Option<Box<Flows>>,
    /// Packets to write, in order: acks, SUBACKs, publishes.
    outbox: VecDeque<Outbound>,
    /// The packets in `outbox`, for its bounds: an entry may hold several shared PUBLISHes.
    outbox_packets: u32,
    /// The last packet id used for an outbound QoS 1/2 message.
    last_pid: PacketId,
    /// The `seq` of the last message held.
    last_seq: u64,
    /// Set for a persistent session when persistence is on.
    journal: Option<Journal>,
    pressure: Pressure,
    /// Read rules, checked whenever a message leaves (access.rs); the router's, shared.
    acl: Option<Arc<Acl>>,
    /// The current connection's will (boxed: most clients have none).
    pub will: Option<Box<LastWill>>,
    /// The current connection's listener `mount_point`, taken off what it is sent.
    pub(crate) mount: Option<MountPoint>,
    /// An MQTT 3.1/3.1.1 bridge (CONNECT level | 0x80): its subscriptions get No Local and
    /// Retain As Published, as Mosquitto gives them, so nothing it publishes comes back to it.
    pub(crate) bridge: bool,
}

impl Session {
    pub fn new(client_id: Arc<str>, clean: bool, limits: impl Into<Arc<Limits>>) -> Self {
        Self {
            client_id,
            username: None,
            clean,
            expiry: if clean { 0 } else { expiry::NEVER },
            deadlines: None,
            protocol: Protocol::V311,
            client: client::ClientLimits::default(),
            out_aliases: None,
            subscriptions: FastMap::default(),
            link: None,
            limits: limits.into(),
            flows: None,
            outbox: VecDeque::new(),
            outbox_packets: 0,
            last_pid: PacketId::new(u16::MAX).unwrap_or_else(|| unreachable!()),
            last_seq: 0,
            journal: None,
            pressure: Pressure::default(),
            acl: None,
            will: None,
            mount: None,
            bridge: false,
        }
    }

    /// Persistence on for this session: report its changes from now on.
    pub fn set_journal(&mut self, journal: Option<Journal>) {
        self.journal = journal;
    }

    fn record(&self, change: impl FnOnce(Arc<str>) -> Change) {
        if let Some(j) = &self.journal {
            j.record(change(self.client_id.clone()));
        }
    }

    pub fn is_online(&self) -> bool {
        self.link.is_some()
    }

    /// Messages held for this client: in flight and queued.
    pub fn stored_messages(&self) -> impl Iterator<Item = &Message> {
        self.flows
            .iter()
            .flat_map(|f| f.inflight.iter().map(|i| &i.held.message).chain(f.queue.iter().map(|h| &h.message)))
    }

    fn window_full(&self) -> bool {
        self.flows.as_ref().map_or(0, |f| f.inflight.len()) >= self.inflight_limit() || self.inflight_bytes_full()
    }

    /// `max_queued_messages` or `max_queued_bytes` is reached, whichever first.
    fn queue_full(&self) -> bool {
        (self.limits.max_queued != 0 && self.queued() >= self.limits.max_queued) || self.queued_bytes_full()
    }

    /// Queues a packet for writing and wakes the connection. A persistent session with
    /// persistence on hands it to the journal instead: it is written only once the changes it
    /// follows are on disk, so that no PUBLISH leaves with a packet id the store has not saved
    /// (after a crash the message would go out again under another id: a QoS 2 duplicate).
    pub fn send(&mut self, packet: Packet) {
        match (&self.journal, &self.link) {
            (Some(journal), Some(link)) => journal.release(self.client_id.clone(), link.id, packet),
            _ => self.push_ready(packet),
        }
    }

    /// Queues a packet that may be written now and wakes the connection.
    pub fn push_ready(&mut self, packet: Packet) {
        self.push_out(Outbound::Packet(packet));
    }

    fn push_out(&mut self, out: Outbound) {
        self.outbox.push_back(out);
        self.outbox_packets = self.outbox_packets.saturating_add(1);
        if let Some(link) = &self.link {
            link.wake.notify_one();
        }
    }

    fn next_pid(&mut self) -> PacketId {
        loop {
            self.last_pid = self.last_pid.next();
            let pid = self.last_pid;
            if !self.flows.as_ref().is_some_and(|f| f.inflight_ids.contains(&pid)) {
                return pid;
            }
        }
    }

    fn send_inflight(&mut self, held: Held) {
        let pid = self.next_pid();
        // Recorded before it is sent: the PUBLISH is written only once its id is saved.
        self.record(|client| Change::Sent { client, seq: held.seq, pid });
        self.send(publish_packet(&held.message, QosPid::with(held.message.qos, pid), false));
        let state = if held.message.qos == QoS::AtLeastOnce { Await::PubAck } else { Await::PubRec };
        self.flows_mut().push_inflight(Inflight { pid, held, state });
    }

    /// Moves queued messages into the in-flight window while there is room.
    fn fill(&mut self) {
        while self.is_online() && !self.window_full() {
            let Some(held) = self.flows.as_mut().and_then(|f| f.pop_queued()) else { return };
            // Expired while it waited: deleted, not delivered [MQTT-3.3.2-5].
            if held.message.expired_now() || !self.may_read(&held.message.topic) {
                // Or queued while readable; the ACL (or the user) has changed since.
                self.record(|client| Change::Done { client, seq: held.seq });
                continue;
            }
            if held.message.qos == QoS::AtMostOnce {
                self.send(publish_packet(&held.message, QosPid::AtMostOnce, false));
                self.record(|client| Change::Done { client, seq: held.seq });
            } else {
                self.send_inflight(held);
            }
        }
    }

    fn settle(&mut self, pid: PacketId, expected: Await) -> bool {
        let Some(flows) = self.flows.as_mut() else { return false };
        match flows.inflight.iter().position(|i| i.pid == pid && i.state == expected) {
            Some(at) => {
                if let Some(done) = flows.remove_inflight(at) {
                    self.record(|client| Change::Done { client, seq: done.held.seq });
                }
                self.fill();
                self.relieve();
                self.release_empty_flows();
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
        let found =
            self.flows.as_mut().and_then(|f| f.inflight.iter_mut().find(|i| i.pid == pid && i.state != Await::PubAck));
        let Some(entry) = found else {
            return false;
        };
        let first = entry.state == Await::PubRec;
        entry.state = Await::PubComp;
        let seq = entry.held.seq;
        if first {
            self.record(|client| Change::Received { client, seq });
        }
        self.send(Packet::PubRel(Ack::new(pid)));
        true
    }

    pub fn on_pubcomp(&mut self, pid: PacketId) -> bool {
        self.settle(pid, Await::PubComp)
    }

    /// An MQTT 5.0 PUBREC with an error reason code: the client refused the message and the
    /// exchange ends there, no PUBREL follows (4.3.3).
    pub fn on_pubrec_error(&mut self, pid: PacketId) -> bool {
        self.settle(pid, Await::PubRec) || self.settle(pid, Await::PubComp)
    }

    /// QoS 2 messages received whose PUBREL has not come, and whether `pid` is one of them.
    pub fn incoming_qos2(&self, pid: PacketId) -> (usize, bool) {
        self.flows.as_ref().map_or((0, false), |f| (f.incoming_qos2.len(), f.incoming_qos2.contains(&pid)))
    }

    /// A QoS 2 PUBLISH arrived: true the first time this id is seen (route it), false for a
    /// resend before PUBREL (do not route it twice). The caller answers PUBREC either way.
    pub fn on_incoming_qos2(&mut self, pid: PacketId) -> bool {
        let first = self.flows_mut().incoming_qos2.insert(pid);
        if first {
            self.record(|client| Change::IncomingQos2 { client, pid, present: true });
        }
        first
    }

    /// PUBREL from the client: the QoS 2 flow is complete; the caller answers PUBCOMP. False if
    /// `pid` was not a QoS 2 message received.
    pub fn on_pubrel(&mut self, pid: PacketId) -> bool {
        if self.flows.as_mut().is_some_and(|f| f.incoming_qos2.remove(&pid)) {
            self.release_empty_flows();
            self.record(|client| Change::IncomingQos2 { client, pid, present: false });
            return true;
        }
        false
    }

    /// Attaches a new connection: what was in flight is sent again, PUBLISH with DUP=1 and
    /// PUBREL for messages already received [MQTT-4.4.0-1], then the queue flows.
    pub fn attach(&mut self, link: Link) {
        self.link = Some(link);
        // A new connection starts without aliases [MQTT-3.3.2-7].
        let max = self.client.topic_alias_maximum;
        self.out_aliases = (max > 0 && self.protocol.is_v5()).then(|| Box::new(alias::OutAliases::new(max)));
        self.outbox.clear();
        self.outbox_packets = 0;
        self.forget_unreadable_inflight();
        let resend: Vec<Packet> = self
            .flows
            .iter()
            .flat_map(|f| f.inflight.iter())
            .map(|i| match i.state {
                Await::PubComp => Packet::PubRel(Ack::new(i.pid)),
                _ => publish_packet(&i.held.message, QosPid::with(i.held.message.qos, i.pid), true),
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
        self.outbox_packets = 0;
        self.out_aliases = None;
        self.release_waiters();
    }
}

/// A held message as a PUBLISH; its Message Expiry Interval says the time left [MQTT-3.3.2-6].
fn publish_packet(m: &Message, qos_pid: QosPid, dup: bool) -> Packet {
    Packet::Publish(Publish {
        dup,
        qos_pid,
        retain: m.retain,
        topic: m.topic.clone(),
        payload: m.payload.clone(),
        properties: m.properties_now(),
    })
}

#[cfg(test)]
mod budget_tests;
#[cfg(test)]
mod encoded_tests;
#[cfg(test)]
mod tests;
