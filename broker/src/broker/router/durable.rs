//! The router's side of persistence: restoring saved state at startup, recording retained
//! messages, and acknowledgements that wait for the store.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use super::{Retained, Router};
use crate::broker::session::{Session, expiry as session_expiry};
use crate::codec::{Packet, TopicName};
use crate::store::{Change, Restored};

impl Router {
    pub(super) fn record(&self, change: Change) {
        if let Some(journal) = &self.journal {
            journal.record(change);
        }
    }

    /// `$SYS` messages are the broker's own and are made anew after a restart.
    pub(super) fn record_retained(&self, topic: &TopicName, message: Option<&Retained>) {
        if message.is_some_and(|r| r.message.expires_at.is_some()) {
            self.deadline_set.notify_one();
        }
        if !topic.is_system() {
            self.record(Change::Retain { topic: topic.clone(), message: message.cloned() });
        }
    }

    /// Loads what the store saved: retained messages and offline persistent sessions, each
    /// expiring as long after its disconnect as its Session Expiry Interval says.
    /// Call [`Self::set_persistent_expiry`] first: it bounds what is restored too.
    pub fn restore(&mut self, restored: Restored) {
        // Restored payloads count toward `memory_limit` as stored ones do.
        for retained in restored.retained {
            self.retained.insert(retained.message.topic.clone(), retained.charged(self.limits.memory));
        }
        let Some(journal) = self.journal.clone() else { return };
        let (now, wall) = (Instant::now(), SystemTime::now());
        for (client, saved) in restored.sessions {
            let (interval, disconnected) = (saved.expiry, saved.disconnected);
            let mut session = Session::restore(client.clone(), saved, self.limits.clone(), journal.clone());
            session.set_acl(self.acl.clone());
            session.set_expiry(interval);
            // The time since the disconnect counts, the broker's downtime included; a session
            // whose disconnect time is unknown counts from now.
            let gone = disconnected.and_then(|t| wall.duration_since(t).ok()).unwrap_or_default();
            session.set_expires_at(
                session_expiry::lifetime(interval, self.persistent_expiry).map(|d| now + d.saturating_sub(gone)),
            );
            let filters: Vec<_> = session.subscriptions.iter().map(|(f, s)| (f.clone(), *s)).collect();
            self.sessions.insert(client.clone(), Box::new(session));
            let slot = self.sessions.slot_of(&client);
            for (filter, sub) in filters {
                self.subscriptions.insert_at(filter.as_str(), &client, sub, slot);
            }
        }
    }

    /// Whether acknowledgements wait for the store ([`Self::acknowledge`]); without
    /// persistence a connection writes its own at once, without the router.
    pub fn holds_acknowledgements(&self) -> bool {
        self.journal.is_some()
    }

    /// Answers a publisher (PUBACK, PUBREC, PUBCOMP). With persistence on, the answer waits
    /// until the changes recorded before it are on disk: what is acknowledged is never lost.
    pub fn acknowledge(&mut self, client_id: &Arc<str>, link: u64, packet: Packet) {
        match &self.journal {
            Some(journal) => journal.release(client_id.clone(), link, packet),
            None => {
                if let Some(session) = self.sessions.get_mut(client_id) {
                    session.push_ready(packet);
                }
            }
        }
    }

    /// Sends acknowledgements whose changes are committed, to connections still current.
    pub fn release(&mut self, releases: Vec<(Arc<str>, u64, Packet)>) {
        for (client, link, packet) in releases {
            if self.is_current(&client, link)
                && let Some(session) = self.sessions.get_mut(&client)
            {
                session.push_ready(packet);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::message;
    use super::*;
    use crate::broker::Origin;
    use crate::broker::session::{Limits, Memory};
    use crate::codec::{QoS, TopicFilter};
    use crate::store::Restored;

    /// Retained messages read from the store count toward `memory_limit` as stored ones do, keep
    /// their publisher's user name, and give their bytes back when cleared.
    #[test]
    fn restored_retained_messages_are_charged_to_memory_limit() {
        let memory = Memory::leaked(10_000).unwrap();
        let mut r = Router::new(Limits { memory: Some(memory), ..Limits::NONE }, None);
        let origin = Origin::now(Some("pv-logger".into())).with_username(Some("btsiot1".into()));
        let retained = [("PV/a", &b"12345"[..]), ("PV/b", &b"1234567"[..])].map(|(topic, payload)| Retained {
            message: message(topic, payload, QoS::AtLeastOnce, true),
            origin: origin.clone(),
        });
        r.restore(Restored { retained: retained.into(), ..Restored::default() });
        assert_eq!(memory.held(), 12, "both payloads are held");
        assert_eq!(r.retained_at("PV/a").and_then(|m| m.origin.username()), Some("btsiot1"));
        assert_eq!(r.clear_retained(&TopicFilter::new("PV/#").unwrap()), 2);
        assert_eq!(memory.held(), 0, "and given back when cleared");
    }
}
