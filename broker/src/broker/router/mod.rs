//! The broker's shared state: sessions, the subscription tree and retained messages.
//! Like [`Session`], it never touches the network; connection tasks call it under one lock.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::FastMap as HashMap;
use super::session::{Delivery, Limits, Link, Message, Session};
use super::subscriptions::SubscriptionTree;
use crate::auth::Acl;
use crate::codec::{
    ConnAck, ConnectReturnCode, LastWill, Packet, PacketId, QoS, SubAck, SubAckCode, TopicFilter, TopicName,
};
use crate::store::{Change, Journal};

/// A connection asking for its session.
#[derive(Debug, Clone, Copy)]
pub struct Login<'a> {
    pub client_id: &'a str,
    pub username: Option<&'a str>,
    pub clean_session: bool,
    /// MQTT 3.1.1 (3.1 has no session present flag).
    pub v311: bool,
    /// Published if this connection ends without DISCONNECT.
    pub will: Option<&'a LastWill>,
}

/// The outcome of attaching a connection to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub session_present: bool,
    /// Another connection had this client id and was closed [MQTT-3.1.4-2].
    pub took_over: bool,
    /// What became of the will of the connection taken over.
    pub old_will: WillOutcome,
}

/// How many subscribers a PUBLISH reached.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    pub delivered: u64,
    pub dropped: u64,
}

/// Figures for `$SYS`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RouterFigures {
    pub clients_connected: usize,
    pub clients_total: usize,
    pub clients_maximum: usize,
    pub subscriptions: usize,
    pub retained: usize,
    pub stored_messages: usize,
    pub stored_bytes: usize,
}

#[derive(Debug)]
pub struct Router {
    /// Boxed: the map's table then holds a pointer per client, not a whole session, which
    /// matters with thousands of idle clients (the table is sized in powers of two).
    sessions: HashMap<Arc<str>, Box<Session>>,
    subscriptions: SubscriptionTree,
    /// Ordered so that a new subscriber receives retained messages in topic order.
    retained: BTreeMap<TopicName, Message>,
    limits: Limits,
    clients_maximum: usize,
    /// Reused for every PUBLISH to avoid an allocation per message.
    scratch: HashMap<Arc<str>, QoS>,
    /// With persistence on: where durable changes and held acknowledgements go.
    journal: Option<Journal>,
    /// Subscribers the last PUBLISH from a client left over their limits: that client's
    /// connection waits for them (back-pressure).
    congested: Vec<Arc<str>>,
    /// The broker is shutting down: every connection attached from now on is told at once.
    stopping: bool,
    /// The ACL in force; every session holds a copy and checks it whenever it sends a message.
    acl: Option<Arc<Acl>>,
}

impl Router {
    pub fn new(limits: Limits, journal: Option<Journal>) -> Self {
        Self {
            sessions: HashMap::default(),
            subscriptions: SubscriptionTree::default(),
            retained: BTreeMap::new(),
            limits,
            clients_maximum: 0,
            scratch: HashMap::default(),
            journal,
            congested: Vec::new(),
            stopping: false,
            acl: None,
        }
    }

    /// Puts an ACL in force (at startup and on reload). Sessions check it at every delivery,
    /// queued and in-flight messages included, so a revoked read right reaches messages queued
    /// before the reload.
    pub fn set_acl(&mut self, acl: Option<Arc<Acl>>) {
        for session in self.sessions.values_mut() {
            session.set_acl(acl.clone());
        }
        self.acl = acl;
    }

    fn drop_session(&mut self, client_id: &str) {
        if let Some(mut session) = self.sessions.remove(client_id) {
            session.release_waiters();
            for filter in session.subscriptions.keys() {
                self.subscriptions.remove(filter.as_str(), client_id);
            }
            if !session.clean {
                self.record(Change::DropSession { client: session.client_id.clone() });
            }
        }
    }

    /// Attaches a new connection to the client's session, creating or resuming it, and puts
    /// CONNACK first in its outbox followed by any unacknowledged messages.
    pub fn connect(&mut self, login: Login<'_>, link: Link) -> Attached {
        let Login { client_id, username, clean_session, v311, will } = login;
        let mut took_over = false;
        let mut resumable = false;
        if let Some(old) = self.sessions.get_mut(client_id) {
            resumable = !clean_session && !old.clean;
            if let Some(old_link) = old.link.take() {
                // The old connection closes at once, even while a write to its client is pending.
                took_over = true;
                old_link.wake.take_over();
            }
        }
        let old_will = if took_over { self.release_will(client_id) } else { WillOutcome::None };
        if !resumable {
            self.drop_session(client_id);
        }
        let id: Arc<str> = client_id.into();
        let session =
            self.sessions.entry(id.clone()).or_insert_with(|| Box::new(Session::new(id, clean_session, self.limits)));
        session.set_acl(self.acl.clone());
        session.clean = clean_session;
        session.username = username.map(Into::into);
        session.will = will.cloned().map(Box::new);
        if !clean_session && let Some(journal) = &self.journal {
            session.set_journal(Some(journal.clone()));
            journal.record(Change::Session { client: session.client_id.clone(), username: session.username.clone() });
        }
        if self.stopping {
            link.wake.shut_down();
        }
        session.attach(link);
        // MQTT 3.1 has no session present flag: the byte is reserved there.
        let session_present = resumable && v311;
        session.send_first(Packet::ConnAck(ConnAck { session_present, code: ConnectReturnCode::Accepted }));
        let connected = self.sessions.values().filter(|s| s.is_online()).count();
        self.clients_maximum = self.clients_maximum.max(connected);
        Attached { session_present, took_over, old_will }
    }

    /// Whether `link_id` is still the connection of `client_id` (false after a takeover).
    pub fn is_current(&self, client_id: &str, link_id: u64) -> bool {
        self.sessions.get(client_id).and_then(|s| s.link.as_ref()).is_some_and(|l| l.id == link_id)
    }

    /// The connection `link_id` ended. A clean session ends with it.
    /// Tells every attached connection, and every one attached later, to close (shutdown).
    pub fn shut_down(&mut self) {
        self.stopping = true;
        for link in self.sessions.values().filter_map(|s| s.link.as_ref()) {
            link.wake.shut_down();
        }
    }

    pub fn disconnect(&mut self, client_id: &str, link_id: u64) {
        if !self.is_current(client_id, link_id) {
            return;
        }
        let clean = self.sessions.get_mut(client_id).is_some_and(|s| {
            s.detach();
            s.will = None;
            s.clean
        });
        if clean {
            self.drop_session(client_id);
        }
    }

    pub fn session_mut(&mut self, client_id: &str) -> Option<&mut Session> {
        self.sessions.get_mut(client_id).map(|s| &mut **s)
    }

    /// Routes an application message: retained store, then every matching subscriber once, at
    /// the lower of the message's QoS and its highest matching subscription QoS.
    /// With an ACL, only subscribers allowed to read the topic receive it.
    pub fn publish(&mut self, message: &Message) -> Routed {
        self.publish_from(message, None)
    }

    /// [`Self::publish`] for a client's PUBLISH: subscribers it leaves over their limits take
    /// the message and note `from` as waiting for room; [`Self::take_congested`] names them.
    pub fn publish_from(&mut self, message: &Message, from: Option<&Link>) -> Routed {
        self.congested.clear();
        if message.retain {
            if message.payload.is_empty() {
                // A zero-byte retained message clears the topic [MQTT-3.3.1-10].
                self.retained.remove(&message.topic);
                self.record_retained(&message.topic, None);
            } else {
                self.retained.insert(message.topic.clone(), message.clone());
                self.record_retained(&message.topic, Some(message));
            }
        }
        let mut targets = std::mem::take(&mut self.scratch);
        self.subscriptions.matches(message.topic.as_str(), &mut targets);
        let mut routed = Routed::default();
        for (client, sub_qos) in targets.drain() {
            let Some(session) = self.sessions.get_mut(&client) else { continue };
            if !session.may_read(&message.topic) {
                continue;
            }
            // Live subscribers get RETAIN=0 [MQTT-3.3.1-9].
            match session.deliver(message, message.qos.min(sub_qos), false) {
                Delivery::Dropped => routed.dropped += 1,
                Delivery::Backlogged => {
                    routed.delivered += 1;
                    if let Some(link) = from {
                        session.wait_for_room(&link.wake);
                        self.congested.push(client);
                    }
                }
                Delivery::Sent | Delivery::Queued => routed.delivered += 1,
            }
        }
        self.scratch = targets;
        routed
    }

    /// The subscribers the last [`Self::publish_from`] left congested.
    pub fn take_congested(&mut self) -> Vec<Arc<str>> {
        std::mem::take(&mut self.congested)
    }

    /// Subscribes, answers SUBACK, then sends the retained messages of each filter with
    /// RETAIN=1, also when a subscription is replaced [MQTT-3.8.4-3]. A filter the ACL gives
    /// no read access to gets 0x80 and is not stored. Returns what was routed and the codes.
    pub fn subscribe(
        &mut self,
        client_id: &str,
        pid: PacketId,
        filters: &[(TopicFilter, QoS)],
    ) -> (Routed, Vec<SubAckCode>) {
        let mut routed = Routed::default();
        let Some(session) = self.sessions.get_mut(client_id) else { return (routed, Vec::new()) };
        let id = session.client_id.clone();
        let mut codes = Vec::with_capacity(filters.len());
        let mut granted = Vec::with_capacity(filters.len());
        for (filter, qos) in filters {
            if !session.may_subscribe(filter) {
                codes.push(SubAckCode::Failure);
                continue;
            }
            session.subscriptions.insert(filter.clone(), *qos);
            self.subscriptions.insert(filter.as_str(), &id, *qos);
            if !session.clean
                && let Some(journal) = &self.journal
            {
                journal.record(Change::Subscribe { client: id.clone(), filter: filter.clone(), qos: *qos });
            }
            codes.push(SubAckCode::Granted(*qos));
            granted.push((filter, *qos));
        }
        session.send(Packet::SubAck(SubAck { pid, codes: codes.clone() }));
        for (filter, qos) in granted {
            let matching: Box<dyn Iterator<Item = &Message>> = if filter.has_wildcards() {
                Box::new(self.retained.values().filter(|m| filter.matches(&m.topic)))
            } else {
                Box::new(TopicName::new(filter.as_str()).ok().and_then(|t| self.retained.get(&t)).into_iter())
            };
            let readable: Vec<Message> = matching.filter(|m| session.may_read(&m.topic)).cloned().collect();
            for message in &readable {
                match session.deliver(message, message.qos.min(qos), true) {
                    Delivery::Dropped => routed.dropped += 1,
                    _ => routed.delivered += 1,
                }
            }
        }
        (routed, codes)
    }

    /// Unsubscribes and answers UNSUBACK (also for filters that were not subscribed).
    pub fn unsubscribe(&mut self, client_id: &str, pid: PacketId, filters: &[TopicFilter]) {
        let Some(session) = self.sessions.get_mut(client_id) else { return };
        for filter in filters {
            if session.subscriptions.remove(filter).is_some() {
                self.subscriptions.remove(filter.as_str(), client_id);
                if !session.clean
                    && let Some(journal) = &self.journal
                {
                    journal.record(Change::Unsubscribe { client: session.client_id.clone(), filter: filter.clone() });
                }
            }
        }
        session.send(Packet::UnsubAck(pid));
    }

    pub fn figures(&self) -> RouterFigures {
        let stored = self.sessions.values().flat_map(|s| s.stored_messages()).chain(self.retained.values());
        let (stored_messages, stored_bytes) = stored.fold((0, 0), |(n, b), m| (n + 1, b + m.payload.len()));
        RouterFigures {
            clients_connected: self.sessions.values().filter(|s| s.is_online()).count(),
            clients_total: self.sessions.len(),
            clients_maximum: self.clients_maximum,
            subscriptions: self.subscriptions.len(),
            retained: self.retained.len(),
            stored_messages,
            stored_bytes,
        }
    }
}

mod durable;
mod will;
pub use will::WillOutcome;
#[cfg(test)]
mod tests;
