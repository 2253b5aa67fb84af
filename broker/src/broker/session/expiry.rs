//! Time in a session (MQTT 5.0, issue 20): how long the session outlives its connection
//! (Session Expiry Interval, 3.1.2.11.2), when a delayed will goes out (Will Delay Interval,
//! 3.1.3.2.2), and how long a message may wait (Message Expiry Interval, 3.3.2.3.3).
//!
//! Deadlines are `tokio::time::Instant`s, so tests run on paused time; what the store keeps
//! is wall-clock time (the router's `durable.rs`).

use std::time::Duration;

use tokio::time::Instant;

use super::{Message, Session};
use crate::codec::v5::{Properties, Property, PropertyId};
use crate::codec::{LastWill, Protocol};

/// A Session Expiry Interval of 0xFFFFFFFF: the session does not expire (3.1.2.11.2).
pub const NEVER: u32 = u32::MAX;

/// The Session Expiry Interval a CONNECT asks for, in seconds. MQTT 5.0: the property, 0 when
/// absent. MQTT 3.1/3.1.1: a clean session ends with its connection, a persistent one never
/// expires (MQTT 5.0 3.1.2.11.2 maps them so too).
pub fn requested(protocol: Protocol, clean_session: bool, connect: &Properties) -> u32 {
    if protocol.is_v5() {
        match connect.get(PropertyId::SessionExpiryInterval) {
            Some(Property::SessionExpiryInterval(secs)) => *secs,
            _ => 0,
        }
    } else if clean_session {
        0
    } else {
        NEVER
    }
}

/// How long a session of interval `secs` outlives its connection; `None`: for ever.
/// `cap` is `persistent_client_expiration`: like Mosquitto 2.0, it bounds every session that
/// would otherwise live longer, 3.1.1 persistent sessions and MQTT 5.0 ones alike.
pub fn lifetime(secs: u32, cap: Option<Duration>) -> Option<Duration> {
    let asked = (secs != NEVER).then(|| Duration::from_secs(secs.into()));
    match (asked, cap) {
        (Some(asked), Some(cap)) => Some(asked.min(cap)),
        (asked, cap) => asked.or(cap),
    }
}

/// The will's Will Delay Interval (MQTT 5.0; none before).
pub fn will_delay(will: &LastWill) -> Duration {
    match will.properties.get(PropertyId::WillDelayInterval) {
        Some(Property::WillDelayInterval(secs)) => Duration::from_secs((*secs).into()),
        _ => Duration::ZERO,
    }
}

/// When a message published now with these properties expires; `None`: never. Reads the
/// clock only for a message that has a Message Expiry Interval (3.1.1 traffic never does).
#[inline]
pub fn deadline_now(properties: &Properties) -> Option<Instant> {
    if properties.is_empty() {
        return None;
    }
    deadline(properties, Instant::now())
}

/// When a message published at `now` with these properties expires; `None`: never.
pub fn deadline(properties: &Properties, now: Instant) -> Option<Instant> {
    match properties.get(PropertyId::MessageExpiryInterval) {
        Some(Property::MessageExpiryInterval(secs)) => Some(now + Duration::from_secs((*secs).into())),
        _ => None,
    }
}

impl Message {
    /// The Message Expiry Interval has passed: the message is no longer delivered
    /// [MQTT-3.3.2-5].
    pub fn expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Stamps the arrival of a message whose deadline was not set where it arrived.
    #[must_use]
    #[inline]
    pub fn arrived(mut self) -> Self {
        if self.expires_at.is_none() {
            self.expires_at = deadline_now(&self.properties);
        }
        self
    }

    /// [`Self::expired`] now, reading the clock only for a message that can expire.
    #[inline]
    pub fn expired_now(&self) -> bool {
        self.expires_at.is_some_and(|at| at <= Instant::now())
    }

    /// [`Self::properties_at`] now, reading the clock only for a message that can expire.
    #[inline]
    pub fn properties_now(&self) -> Properties {
        if self.expires_at.is_none() {
            return self.properties.clone();
        }
        self.properties_at(Instant::now())
    }

    /// The properties a PUBLISH of this message carries at `now`: the Message Expiry Interval
    /// is what is left of it, in whole seconds rounded up [MQTT-3.3.2-6]. A message already in
    /// flight when it expired is sent again with 1 s left: its delivery has started, so it is
    /// completed rather than deleted.
    pub fn properties_at(&self, now: Instant) -> Properties {
        let Some(at) = self.expires_at else { return self.properties.clone() };
        let left = at.saturating_duration_since(now);
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        let secs = u32::try_from(secs.max(1)).unwrap_or(u32::MAX);
        let rewritten = self
            .properties
            .iter()
            .map(|p| match p {
                Property::MessageExpiryInterval(_) => Property::MessageExpiryInterval(secs),
                other => other.clone(),
            })
            .collect();
        Properties::from_vec(rewritten)
    }
}

impl Session {
    /// Sets the Session Expiry Interval in force (from CONNECT, or from DISCONNECT). A session
    /// of interval 0 is "clean": it ends with its connection and nothing of it is stored.
    pub fn set_expiry(&mut self, secs: u32) {
        self.expiry = secs;
        self.clean = secs == 0;
    }

    /// Whether the store keeps this session (persistence on, and it outlives its connection).
    pub fn is_journaled(&self) -> bool {
        self.journal.is_some()
    }

    /// The earliest moment something is due in this offline session: its delayed will or its
    /// end.
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.will_at(), self.expires_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// When an offline session ends and when its delayed will goes out. Boxed in the session, and
/// only while one is set: an online client (every idle one) has neither, and two `Instant`s are
/// 32 bytes of each.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Deadlines {
    expires_at: Option<Instant>,
    /// The Will Delay Interval's end.
    will_at: Option<Instant>,
}

impl Session {
    /// While offline: when the session ends.
    pub fn expires_at(&self) -> Option<Instant> {
        self.deadlines.as_ref().and_then(|d| d.expires_at)
    }

    /// While offline: when its delayed will goes out.
    pub fn will_at(&self) -> Option<Instant> {
        self.deadlines.as_ref().and_then(|d| d.will_at)
    }

    pub fn set_expires_at(&mut self, at: Option<Instant>) {
        self.change_deadlines(|d| d.expires_at = at);
    }

    pub fn set_will_at(&mut self, at: Option<Instant>) {
        self.change_deadlines(|d| d.will_at = at);
    }

    fn change_deadlines(&mut self, change: impl FnOnce(&mut Deadlines)) {
        let mut d = self.deadlines.as_deref().copied().unwrap_or_default();
        change(&mut d);
        self.deadlines = (d != Deadlines::default()).then(|| Box::new(d));
    }
}
