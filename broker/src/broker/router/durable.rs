//! The router's side of persistence: restoring saved state at startup, recording retained
//! messages, and acknowledgements that wait for the store.

use std::sync::Arc;

use super::Router;
use crate::broker::session::{Message, Session};
use crate::codec::{Packet, TopicName};
use crate::store::{Change, Restored};

impl Router {
    pub(super) fn record(&self, change: Change) {
        if let Some(journal) = &self.journal {
            journal.record(change);
        }
    }

    /// `$SYS` messages are the broker's own and are made anew after a restart.
    pub(super) fn record_retained(&self, topic: &TopicName, message: Option<&Message>) {
        if !topic.is_system() {
            self.record(Change::Retain { topic: topic.clone(), message: message.cloned() });
        }
    }

    /// Loads what the store saved: retained messages and offline persistent sessions.
    pub fn restore(&mut self, restored: Restored) {
        for message in restored.retained {
            self.retained.insert(message.topic.clone(), message);
        }
        let Some(journal) = self.journal.clone() else { return };
        for (client, saved) in restored.sessions {
            let mut session = Session::restore(client.clone(), saved, self.limits, journal.clone());
            session.set_acl(self.acl.clone());
            for (filter, sub) in &session.subscriptions {
                self.subscriptions.insert(filter.as_str(), &client, *sub);
            }
            self.sessions.insert(client, Box::new(session));
        }
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
