//! The filters subscribed on a connection, each with a colour, a mute switch and a counter.

use mqtt_lab_broker::codec::{TopicFilter, matches};

use crate::connection::Qos;

/// Colours given to new subscriptions in turn (RGB), readable on light and dark themes.
pub const PALETTE: [[u8; 3]; 8] = [
    [0x1f, 0x77, 0xb4],
    [0xff, 0x7f, 0x0e],
    [0x2c, 0xa0, 0x2c],
    [0xd6, 0x27, 0x28],
    [0x94, 0x67, 0xbd],
    [0x8c, 0x56, 0x4b],
    [0xe3, 0x77, 0xc2],
    [0x17, 0xbe, 0xcf],
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionState {
    /// SUBSCRIBE sent, no SUBACK yet.
    Pending,
    Active(Qos),
    /// SUBACK 0x80.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub filter: String,
    pub qos: Qos,
    pub state: SubscriptionState,
    pub color: [u8; 3],
    pub muted: bool,
    pub count: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    pub list: Vec<Subscription>,
}

/// Checks a filter as the user types it; the error names the MQTT rule.
pub fn validate_filter(filter: &str) -> Result<(), String> {
    TopicFilter::new(filter).map(drop).map_err(|e| e.to_string())
}

impl Subscriptions {
    /// Adds a subscription (or replaces the one with the same filter, as the broker does).
    pub fn add(&mut self, filter: &str, qos: Qos) {
        if let Some(existing) = self.list.iter_mut().find(|s| s.filter == filter) {
            existing.qos = qos;
            existing.state = SubscriptionState::Pending;
            return;
        }
        let color = PALETTE[self.list.len() % PALETTE.len()];
        self.list.push(Subscription {
            filter: filter.to_owned(),
            qos,
            state: SubscriptionState::Pending,
            color,
            muted: false,
            count: 0,
        });
    }

    pub fn remove(&mut self, filter: &str) {
        self.list.retain(|s| s.filter != filter);
    }

    pub fn acknowledged(&mut self, filter: &str, granted: Option<Qos>) {
        if let Some(s) = self.list.iter_mut().find(|s| s.filter == filter) {
            s.state = granted.map_or(SubscriptionState::Refused, SubscriptionState::Active);
        }
    }

    /// Counts a message for every subscription it matches.
    pub fn count(&mut self, topic: &str) {
        for s in self.list.iter_mut().filter(|s| matches(&s.filter, topic)) {
            s.count += 1;
        }
    }

    /// The first subscription matching `topic`: its colour marks the message.
    pub fn first_match(&self, topic: &str) -> Option<&Subscription> {
        self.list.iter().find(|s| matches(&s.filter, topic))
    }

    /// A message is hidden when every subscription it matches is muted.
    pub fn is_hidden(&self, topic: &str) -> bool {
        let mut matching = self.list.iter().filter(|s| matches(&s.filter, topic)).peekable();
        matching.peek().is_some() && matching.all(|s| s.muted)
    }
}
