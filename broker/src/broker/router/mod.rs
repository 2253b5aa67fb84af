//! The broker's shared state: sessions, the subscription tree and retained messages.
//! Like [`Session`], it never touches the network; connection tasks call it under one lock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::FastMap as HashMap;
use super::session::expiry as session_expiry;
use super::session::{EncodedOnce, Limits, Link, Session};
use super::subscriptions::{Matched, SubscriptionTree};
use crate::auth::{Acl, AclScope, AclSet};
use crate::codec::v5::{Properties, ReasonCode};
use crate::codec::{ConnAck, LastWill, Packet, Protocol, QoS, TopicName};
use crate::store::{Change, Journal};

/// A connection asking for its session.
#[derive(Debug, Clone)]
pub struct Login<'a> {
    pub client_id: &'a str,
    pub username: Option<&'a str>,
    pub clean_session: bool,
    pub protocol: Protocol,
    /// Published if this connection ends without DISCONNECT.
    pub will: Option<&'a LastWill>,
    /// MQTT 5.0: what the client asked for (Receive Maximum, Maximum Packet Size, ...).
    pub connect_properties: &'a Properties,
    /// MQTT 5.0: what its CONNACK tells it.
    pub connack_properties: Properties,
}

/// The ACLs other than the global one, and the sessions under them.
#[derive(Debug, Default)]
struct Scoped {
    acls: AclSet,
    sessions: HashMap<Arc<str>, AclScope>,
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
    /// Sessions ended by their expiry since startup.
    pub clients_expired: usize,
}

#[derive(Debug)]
pub struct Router {
    /// By client id, and by slot for routing (sessions.rs).
    sessions: Sessions,
    subscriptions: SubscriptionTree,
    /// Ordered so that a new subscriber receives retained messages in topic order, and a
    /// filter's messages are found under its literal prefix (retained.rs).
    retained: BTreeMap<TopicName, Retained>,
    /// Shared by every session (an `Arc` there: 8 bytes instead of the whole set in each).
    limits: Arc<Limits>,
    clients_maximum: usize,
    /// Sessions with a connection now, kept as they attach and detach: counting them at every
    /// CONNECT was a scan of every session under the lock, O(n^2) for a connect storm (40 % of
    /// the broker's CPU at 19,000 clients).
    online: usize,
    /// Reused for every PUBLISH to avoid an allocation per message.
    scratch: HashMap<Arc<str>, Matched>,
    /// The QoS 0 PUBLISHes routed under this lock, encoded once for their subscribers
    /// (session/encoded.rs); sealed when the lock is released.
    encoded: EncodedOnce,
    /// A batch holds the lock (`held.rs`): sealing waits for its release; otherwise each
    /// routed message is sealed at once.
    seal_later: bool,
    /// With persistence on: where durable changes and held acknowledgements go.
    journal: Option<Journal>,
    /// Subscribers the last PUBLISH from a client left over their limits: that client's
    /// connection waits for them (back-pressure).
    congested: Vec<Arc<str>>,
    /// The broker is shutting down: every connection attached from now on is told at once.
    stopping: bool,
    /// The global ACL in force; every session holds a copy of its scope's ACL and checks it
    /// whenever it sends a message.
    acl: Option<Arc<Acl>>,
    /// The other ACLs in force (each listener's with `per_listener_settings`) and the sessions
    /// under a scope other than the global one (a listener's, a bridge's): a reload gives each
    /// session its own scope's new ACL. Empty when every session is under the global ACL.
    scoped: Scoped,
    /// `persistent_client_expiration`: the longest a session outlives its connection.
    persistent_expiry: Option<Duration>,
    /// Sessions ended by their expiry, for `$SYS`.
    clients_expired: usize,
    /// Woken when a new deadline is set, so the expiry task sleeps until the next one only.
    deadline_set: Arc<Notify>,
    /// `upgrade_outgoing_qos`: deliveries go at the subscription's QoS, not the lower of the two.
    upgrade_outgoing_qos: bool,
}

impl Router {
    pub fn new(limits: Limits, journal: Option<Journal>) -> Self {
        Self {
            sessions: Sessions::default(),
            subscriptions: SubscriptionTree::default(),
            retained: BTreeMap::new(),
            limits: Arc::new(limits),
            clients_maximum: 0,
            online: 0,
            scratch: HashMap::default(),
            encoded: EncodedOnce::default(),
            seal_later: false,
            journal,
            congested: Vec::new(),
            stopping: false,
            acl: None,
            scoped: Scoped::default(),
            persistent_expiry: None,
            clients_expired: 0,
            deadline_set: Arc::new(Notify::new()),
            upgrade_outgoing_qos: false,
        }
    }

    /// Turns Mosquitto's `upgrade_outgoing_qos` on or off.
    pub fn set_upgrade_outgoing_qos(&mut self, on: bool) {
        self.upgrade_outgoing_qos = on;
    }

    /// The QoS a message published at `published` goes out at to a subscription of
    /// `subscribed`: the lower of the two [MQTT-3.8.4-8], or the subscription's with
    /// `upgrade_outgoing_qos`.
    fn outgoing_qos(upgrade: bool, published: QoS, subscribed: QoS) -> QoS {
        if upgrade { subscribed } else { published.min(subscribed) }
    }

    /// Puts an ACL in force (at startup and on reload). Sessions check it at every delivery,
    /// queued and in-flight messages included, so a revoked read right reaches messages queued
    /// before the reload.
    pub fn set_acl(&mut self, acls: impl Into<AclSet>) {
        let acls = acls.into();
        for session in self.sessions.values_mut() {
            let scope = self.scoped.sessions.get(&session.client_id).copied().unwrap_or(AclScope::Global);
            session.set_acl(acls.get(scope));
        }
        self.acl.clone_from(&acls.global);
        self.scoped.acls = acls;
    }

    /// [`Self::connect`] for a session under `scope`'s ACL (a listener's own, or none for a
    /// bridge), kept across reloads and until the session ends.
    ///
    /// The ACL is in force before the session resumes: in-flight messages it may no longer
    /// read are forgotten, not sent again.
    pub fn connect_scoped(&mut self, login: Login<'_>, link: Link, scope: AclScope) -> Attached {
        self.attach_session(login, link, scope)
    }

    fn drop_session(&mut self, client_id: &str) {
        self.scoped.sessions.remove(client_id);
        if let Some(mut session) = self.sessions.remove(client_id) {
            if session.is_online() {
                self.online -= 1;
            }
            session.release_waiters();
            for filter in session.subscriptions.keys() {
                self.subscriptions.remove(filter.as_str(), client_id);
            }
            if session.is_journaled() {
                self.record(Change::DropSession { client: session.client_id.clone() });
            }
        }
    }

    /// Attaches a new connection to the client's session, creating or resuming it, and puts
    /// CONNACK first in its outbox followed by any unacknowledged messages.
    pub fn connect(&mut self, login: Login<'_>, link: Link) -> Attached {
        self.attach_session(login, link, AclScope::Global)
    }

    fn attach_session(&mut self, login: Login<'_>, link: Link, scope: AclScope) -> Attached {
        let Login { client_id, username, clean_session, protocol, will, connect_properties, connack_properties } =
            login;
        let expiry = session_expiry::requested(protocol, clean_session, connect_properties);
        let mut took_over = false;
        let mut resumable = false;
        if let Some(old) = self.sessions.get_mut(client_id) {
            // Past its end but not yet swept: gone all the same (3.1.2.11.2).
            let ended = old.expires_at().is_some_and(|at| at <= Instant::now());
            resumable = !clean_session && !old.clean && !ended;
            if let Some(old_link) = old.link.take() {
                self.online -= 1;
                // The old connection closes at once, even while a write to its client is pending.
                took_over = true;
                old_link.wake.take_over();
            }
        }
        let old_will = self.old_will(client_id, resumable);
        if !resumable {
            self.drop_session(client_id);
        }
        let id: Arc<str> = client_id.into();
        if scope == AclScope::Global {
            self.scoped.sessions.remove(client_id);
        } else {
            self.scoped.sessions.insert(id.clone(), scope);
        }
        let limits = &self.limits;
        let session =
            self.sessions.get_or_insert_with(id.clone(), || Box::new(Session::new(id, expiry == 0, limits.clone())));
        session.set_acl(self.scoped.acls.get(scope));
        session.set_expiry(expiry);
        session.set_expires_at(None);
        session.set_will_at(None);
        session.set_client(protocol, connect_properties);
        session.username = username.map(Into::into);
        session.will = will.cloned().map(Box::new);
        if expiry != 0
            && let Some(journal) = &self.journal
        {
            session.set_journal(Some(journal.clone()));
            let client = session.client_id.clone();
            journal.record(Change::Session { client: client.clone(), username: session.username.clone() });
            journal.record(Change::Expiry { client, interval: expiry, disconnected: None });
        } else if session.is_journaled()
            && let Some(journal) = &self.journal
        {
            // Resumed with expiry 0: it ends with this connection, so the store forgets it now.
            journal.record(Change::DropSession { client: session.client_id.clone() });
            session.set_journal(None);
        }
        if self.stopping {
            link.wake.shut_down();
        }
        session.attach(link);
        self.online += 1;
        // MQTT 3.1 has no session present flag: the byte is reserved there.
        let session_present = resumable && protocol != Protocol::V31;
        session.send_first(Packet::ConnAck(ConnAck {
            session_present,
            reason: ReasonCode::Success,
            properties: connack_properties,
        }));
        self.clients_maximum = self.clients_maximum.max(self.online);
        Attached { session_present, took_over, old_will }
    }

    /// Whether `link_id` is still the connection of `client_id` (false after a takeover).
    pub fn is_current(&self, client_id: &str, link_id: u64) -> bool {
        self.sessions.get(client_id).and_then(|s| s.link.as_ref()).is_some_and(|l| l.id == link_id)
    }

    /// Tells every attached connection, and every one attached later, to close (shutdown).
    pub fn shut_down(&mut self) {
        self.stopping = true;
        for link in self.sessions.values().filter_map(|s| s.link.as_ref()) {
            link.wake.shut_down();
        }
    }

    /// The connection `link_id` ended. A session of expiry 0 ends with it; any other expires
    /// that long after now (3.1.2.11.2), unless a connection resumes it first. The will is
    /// discarded [MQTT-3.1.2-10] unless [`Self::publish_will`] delayed it.
    pub fn disconnect(&mut self, client_id: &str, link_id: u64) {
        if !self.is_current(client_id, link_id) {
            return;
        }
        let cap = self.persistent_expiry;
        let Some(s) = self.sessions.get_mut(client_id) else { return };
        s.detach();
        self.online -= 1;
        let orphans = s.take_shared();
        if s.will_at().is_none() {
            s.will = None;
        }
        match session_expiry::lifetime(s.expiry, cap) {
            Some(lifetime) if lifetime.is_zero() => {
                if s.will_at().is_some() {
                    // The session ends before the will's delay [MQTT-3.1.3-9].
                    self.release_will(client_id);
                }
                self.drop_session(client_id);
            }
            lifetime => {
                s.set_expires_at(lifetime.map(|d| Instant::now() + d));
                if s.expires_at().is_some() {
                    self.deadline_set.notify_one();
                }
                if s.is_journaled() {
                    let (client, interval) = (s.client_id.clone(), s.expiry);
                    self.record(Change::Expiry { client, interval, disconnected: Some(SystemTime::now()) });
                }
            }
        }
        self.hand_over(client_id, orphans);
    }

    /// The session of `client_id` if the connection `link_id` is still its own: one lookup
    /// for a connection's every write.
    pub fn current_session_mut(&mut self, client_id: &str, link_id: u64) -> Option<&mut Session> {
        self.sessions.get_mut(client_id).filter(|s| s.link.as_ref().is_some_and(|l| l.id == link_id))
    }

    /// Seals the shared encodings of the messages routed since the last seal
    /// (session/encoded.rs): before the lock is released, and after each message routed
    /// outside a batch.
    pub(crate) fn seal_encoded(&mut self) {
        let sessions = &mut self.sessions;
        self.encoded.seal(|client, from, bytes| {
            if let Some(session) = sessions.get_mut(client) {
                session.seal_pending(from, bytes);
            }
        });
        self.seal_later = false;
    }

    /// A batch holds the lock: what it routes is sealed when it releases it.
    pub(crate) fn seal_at_release(&mut self) {
        self.seal_later = true;
    }

    pub fn session_mut(&mut self, client_id: &str) -> Option<&mut Session> {
        self.sessions.get_mut(client_id)
    }

    pub fn figures(&self) -> RouterFigures {
        let stored =
            self.sessions.values().flat_map(Session::stored_messages).chain(self.retained.values().map(|r| &r.message));
        let (stored_messages, stored_bytes) = stored.fold((0, 0), |(n, b), m| (n + 1, b + m.payload.len()));
        RouterFigures {
            clients_connected: self.online,
            clients_total: self.sessions.len(),
            clients_maximum: self.clients_maximum,
            subscriptions: self.subscriptions.len(),
            retained: self.retained.len(),
            stored_messages,
            stored_bytes,
            clients_expired: self.clients_expired,
        }
    }
}

mod durable;
mod expiry;
#[cfg(test)]
mod expiry_tests;
mod publish;
mod readers;
mod retained;
#[cfg(test)]
mod retained_tests;
#[cfg(test)]
mod scope_tests;
mod sessions;
mod subscribe;
mod will;
pub use readers::Reader;
pub use retained::{Origin, Retained};
use sessions::Sessions;
pub use sessions::Slot;
pub use will::WillOutcome;
#[cfg(test)]
mod tests;
