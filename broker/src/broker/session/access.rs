//! Read access, checked whenever a message leaves the session and not only when it was
//! queued: an ACL reloaded (SIGHUP) while a persistent client is away, or a client that comes
//! back under another user name, reaches the messages already held for it, as in Mosquitto 2.0.

use std::sync::Arc;

use super::{Await, Session};
use crate::auth::{Acl, Client};
use crate::codec::{TopicFilter, TopicName};
use crate::store::Change;

impl Session {
    /// The ACL in force from now on (startup, reload, a new connection).
    pub fn set_acl(&mut self, acl: Option<Arc<Acl>>) {
        self.acl = acl;
    }

    fn client(&self) -> Client<'_> {
        Client { id: &self.client_id, username: self.username.as_deref() }
    }

    /// Whether this client may receive a message on `topic`.
    pub fn may_read(&self, topic: &TopicName) -> bool {
        self.acl.as_ref().is_none_or(|acl| acl.can_read(self.client(), topic.as_str()))
    }

    /// Whether this client may publish to `topic` (its will, when the router publishes it).
    pub fn may_write(&self, topic: &TopicName) -> bool {
        self.acl.as_ref().is_none_or(|acl| acl.can_write(self.client(), topic.as_str()))
    }

    /// Whether any read rule could let this client receive messages matching `filter` (for a
    /// shared subscription, the filter after `$share/{group}/`).
    pub fn may_subscribe(&self, filter: &TopicFilter) -> bool {
        self.acl.as_ref().is_none_or(|acl| acl.can_subscribe(self.client(), filter.matching_part()))
    }

    /// Before in-flight messages are sent again to a returning client: forgets those it may no
    /// longer read. A PUBREL still goes out (the client has that message already).
    pub(super) fn forget_unreadable_inflight(&mut self) {
        let Some(flows) = &self.flows else { return };
        let gone: Vec<_> = flows
            .inflight
            .iter()
            .filter(|i| i.state != Await::PubComp && !self.may_read(&i.held.message.topic))
            .map(|i| (i.pid, i.held.seq))
            .collect();
        for (pid, seq) in gone {
            let flows = self.flows_mut();
            if let Some(at) = flows.inflight.iter().position(|i| i.pid == pid) {
                flows.remove_inflight(at);
            }
            self.record(|client| Change::Done { client, seq });
        }
    }
}
