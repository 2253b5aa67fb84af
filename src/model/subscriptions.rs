//! The filters subscribed on a connection, each with a colour, a mute switch and a counter.

use crate::mqtt::filter_matches as matches;

use crate::connection::Qos;
use crate::mqtt::SubOptions;

pub use crate::mqtt::validate_filter;
pub use crate::palette::PALETTE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionState {
    /// SUBSCRIBE sent, no SUBACK yet.
    Pending,
    Active(Qos),
    /// SUBACK 0x80 (3.1.1) or an MQTT 5 reason code >= 0x80: why, in words.
    Refused(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub filter: String,
    /// The QoS asked for (the broker may grant less: `state`).
    pub qos: Qos,
    /// MQTT 5 options sent with it.
    pub options: SubOptions,
    pub state: SubscriptionState,
    pub color: [u8; 3],
    pub muted: bool,
    pub count: u64,
    /// Made by the broker status panel ("Watch $SYS/#"), not typed by the user: what only it
    /// matches feeds the panel, not the message list or the history.
    pub for_status: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    pub list: Vec<Subscription>,
}

impl Subscriptions {
    /// Adds a subscription (or replaces the one with the same filter, as the broker does).
    pub fn add(&mut self, filter: &str, qos: Qos) {
        self.insert(filter, qos, false);
    }

    /// Adds a subscription with MQTT 5 options.
    pub fn add_with(&mut self, filter: &str, qos: Qos, options: SubOptions) {
        self.insert(filter, qos, false);
        if let Some(s) = self.list.iter_mut().find(|s| s.filter == filter) {
            s.options = options;
        }
    }

    /// Adds the broker status panel's subscription; one the user made with the same filter
    /// stays the user's.
    pub fn add_for_status(&mut self, filter: &str, qos: Qos) {
        self.insert(filter, qos, true);
    }

    fn insert(&mut self, filter: &str, qos: Qos, for_status: bool) {
        if let Some(existing) = self.list.iter_mut().find(|s| s.filter == filter) {
            existing.qos = qos;
            existing.state = SubscriptionState::Pending;
            // The user's subscribing to the panel's filter makes it theirs.
            existing.for_status &= for_status;
            return;
        }
        let color = PALETTE[self.list.len() % PALETTE.len()];
        self.list.push(Subscription {
            filter: filter.to_owned(),
            qos,
            options: SubOptions::default(),
            state: SubscriptionState::Pending,
            color,
            muted: false,
            count: 0,
            for_status,
        });
    }

    pub fn remove(&mut self, filter: &str) {
        self.list.retain(|s| s.filter != filter);
    }

    /// The SUBACK's answer for `filter`: the QoS granted, or why it was refused.
    pub fn acknowledged(&mut self, filter: &str, granted: Result<Qos, String>) {
        if let Some(s) = self.list.iter_mut().find(|s| s.filter == filter) {
            s.state = match granted {
                Ok(q) => SubscriptionState::Active(q),
                Err(why) => SubscriptionState::Refused(why),
            };
        }
    }

    /// Counts a message for every subscription it matches.
    pub fn count(&mut self, topic: &str) {
        for s in self.list.iter_mut().filter(|s| matches(&s.filter, topic)) {
            s.count += 1;
        }
    }

    /// Whether a message on `topic` goes into the message list and the history. A `$SYS`
    /// message does only when a subscription of the user's matches it: the status panel's
    /// `$SYS/#` would otherwise flood the list with the broker's figures every few seconds.
    pub fn listed(&self, topic: &str) -> bool {
        let sys = topic == "$SYS" || topic.starts_with("$SYS/");
        !sys || self.list.iter().any(|s| !s.for_status && matches(&s.filter, topic))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_messages_are_listed_only_under_a_filter_of_the_users() {
        let mut subs = Subscriptions::default();
        subs.add("PV/#", Qos::AtMostOnce);
        subs.add_for_status("$SYS/#", Qos::AtMostOnce);
        assert!(subs.listed("PV/data"));
        assert!(!subs.listed("$SYS/broker/uptime"), "the panel's own subscription feeds only the panel");
        assert!(subs.listed("lamp/cmd"), "a message no filter matches (a resumed session) is still listed");
        subs.add("$SYS/broker/uptime", Qos::AtMostOnce);
        assert!(subs.listed("$SYS/broker/uptime"));
        assert!(!subs.listed("$SYS/broker/version"));
        // The user subscribing to the panel's filter makes it theirs; the panel cannot take it back.
        subs.add("$SYS/#", Qos::AtLeastOnce);
        assert!(subs.listed("$SYS/broker/version"));
        subs.add_for_status("$SYS/#", Qos::AtMostOnce);
        assert!(subs.listed("$SYS/broker/version"));
    }
}
