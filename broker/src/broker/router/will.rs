//! Wills. The session holds its connection's will, and the router publishes it when that
//! connection ends without DISCONNECT [MQTT-3.1.2-8]. A takeover [MQTT-3.1.4-2] ends the old
//! connection too, so its will is published there and then, under the router's lock and before
//! the new connection's CONNACK: a device that reconnects and publishes "online" is never
//! followed by its old connection's "offline". Mosquitto 2.0 keeps the will when a persistent
//! session is taken over by a persistent reconnect; README lists the difference.

use super::{Routed, Router};
use crate::broker::session::Message;
use crate::codec::{LastWill, TopicName};

/// What became of a will.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WillOutcome {
    /// There was none (or it was discarded by DISCONNECT).
    #[default]
    None,
    Published(Routed),
    /// The ACL gives the client no write access to the will's topic.
    Denied(TopicName),
}

impl Router {
    /// The connection `link_id` ended without DISCONNECT: publishes its will, unless the
    /// connection was taken over (its will went out then) or the broker is shutting down.
    pub fn publish_will(&mut self, client_id: &str, link_id: u64) -> WillOutcome {
        if self.stopping || !self.is_current(client_id, link_id) {
            return WillOutcome::None;
        }
        self.release_will(client_id)
    }

    /// Takes the session's will and publishes it if the client may write to its topic.
    pub(super) fn release_will(&mut self, client_id: &str) -> WillOutcome {
        let Some(session) = self.sessions.get_mut(client_id) else { return WillOutcome::None };
        let Some(will) = session.will.take() else { return WillOutcome::None };
        if !session.may_write(&will.topic) {
            return WillOutcome::Denied(will.topic);
        }
        let LastWill { topic, payload, qos, retain, properties } = *will;
        WillOutcome::Published(self.publish(&Message { topic, payload, qos, retain, properties }))
    }
}
