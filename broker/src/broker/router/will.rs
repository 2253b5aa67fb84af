//! Wills. The session holds its connection's will, and the router publishes it when that
//! connection ends without DISCONNECT [MQTT-3.1.2-8] (or with MQTT 5.0's 0x04 Disconnect with
//! Will Message).
//!
//! MQTT 5.0's Will Delay Interval (3.1.3.2.2): the will goes out once the delay or the session
//! has ended, whichever comes first, and not at all if a new connection to the session comes
//! before [MQTT-3.1.3-9]. So an offline session keeps its will with a deadline (`will_at`),
//! the router's expiry sweep (`expiry.rs`) publishes it, and a reconnect that resumes the
//! session discards it.
//!
//! A takeover [MQTT-3.1.4-2] ends the old connection too. A will without delay (every 3.1.1
//! will) is published there and then, under the router's lock and before the new connection's
//! CONNACK: a device that reconnects and publishes "online" is never followed by its old
//! connection's "offline". Mosquitto 2.0 keeps the will when a persistent session is taken over
//! by a persistent reconnect; README lists the difference. A will with a delay is discarded when
//! the new connection resumes the session (a new connection came before the delay elapsed,
//! [MQTT-3.1.3-9]) and published at once when the session ends there (Clean Start, or an old
//! session of expiry 0: "or the Session ends, whichever happens first"), as Mosquitto 2.0 does.

use std::time::Duration;

use tokio::time::Instant;

use super::{Routed, Router};
use crate::broker::session::{Message, expiry};
use crate::codec::v5::{Properties, PropertyId};
use crate::codec::{LastWill, TopicName};

/// What became of a will.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WillOutcome {
    /// There was none (or it was discarded by DISCONNECT or a reconnect).
    #[default]
    None,
    Published(Routed),
    /// The ACL gives the client no write access to the will's topic.
    Denied(TopicName),
    /// MQTT 5.0: held for its Will Delay Interval (or until the session ends, if sooner).
    Delayed(Duration),
}

impl Router {
    /// The connection `link_id` ended without DISCONNECT: publishes its will, unless the
    /// connection was taken over (its will went out then) or the broker is shutting down. A
    /// will with a Will Delay Interval waits for it, or for the end of the session if sooner.
    pub fn publish_will(&mut self, client_id: &str, link_id: u64) -> WillOutcome {
        if self.stopping || !self.is_current(client_id, link_id) {
            return WillOutcome::None;
        }
        let cap = self.persistent_expiry;
        let Some(session) = self.sessions.get_mut(client_id) else { return WillOutcome::None };
        let Some(will) = &session.will else { return WillOutcome::None };
        let wait = match expiry::lifetime(session.expiry, cap) {
            Some(lifetime) => expiry::will_delay(will).min(lifetime),
            None => expiry::will_delay(will),
        };
        if wait.is_zero() {
            return self.release_will(client_id);
        }
        session.set_will_at(Some(Instant::now() + wait));
        self.deadline_set.notify_one();
        WillOutcome::Delayed(wait)
    }

    /// Takes the session's will and publishes it if the client may write to its topic.
    pub(super) fn release_will(&mut self, client_id: &str) -> WillOutcome {
        let Some(session) = self.sessions.get_mut(client_id) else { return WillOutcome::None };
        session.set_will_at(None);
        let Some(will) = session.will.take() else { return WillOutcome::None };
        if !session.may_write(&will.topic) {
            return WillOutcome::Denied(will.topic);
        }
        let LastWill { topic, payload, qos, retain, properties } = *will;
        // The will's other properties are those of a PUBLISH (3.1.3.2); its delay is not.
        let properties = if properties.get(PropertyId::WillDelayInterval).is_some() {
            let kept = properties.iter().filter(|p| p.id() != PropertyId::WillDelayInterval).cloned().collect();
            Properties::from_vec(kept)
        } else {
            properties
        };
        let expires_at = expiry::deadline(&properties, Instant::now());
        let message = Message { topic, payload, qos, retain, properties, expires_at };
        WillOutcome::Published(self.route(&message, None, Some(client_id)))
    }

    /// The will of a session that a new connection finds: published unless the session goes
    /// on and the will had a delay [MQTT-3.1.3-9] (see the module's doc).
    pub(super) fn old_will(&mut self, client_id: &str, session_continues: bool) -> WillOutcome {
        let Some(session) = self.sessions.get_mut(client_id) else { return WillOutcome::None };
        let Some(will) = &session.will else { return WillOutcome::None };
        if session_continues && (session.will_at().is_some() || !expiry::will_delay(will).is_zero()) {
            session.will = None;
            session.set_will_at(None);
            return WillOutcome::None;
        }
        self.release_will(client_id)
    }
}
