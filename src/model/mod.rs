//! The app's state, free of egui: what the panels show and what events change.
//!
//! - `messages`: the received messages, bounded, newest first, searchable.
//! - `export`: the message list as CSV or JSON.
//! - `packets`: the relay's bytes cut into control packets, summarised, linked into flows.
//! - `sys`: the broker's `$SYS` figures.
//! - `stored`: the list's older rows, paged from the history database.
//! - `subscriptions`: filters with colour, mute and counter.
//! - `payload`: payloads typed as text, JSON or hex, and decoders for received ones.
//! - `self_test`: the connection self-test's steps as the profile editor shows them.

pub mod export;
mod messages;
mod packets;
pub mod payload;
mod self_test;
mod stored;
mod subscriptions;
mod sys;

use std::time::SystemTime;

pub use messages::{DEFAULT_CAPACITY, MessageStore};
pub use packets::{CapturedPacket, PacketLog};
pub use self_test::{Failure, SelfTest};
pub use stored::{PAGE, StoredKey, StoredRows};
pub use subscriptions::{PALETTE, Subscription, SubscriptionState, Subscriptions, validate_filter};
pub use sys::{FIGURES, SysStatus, WATCH_FILTER};

use crate::connection::{ConnectionStatus, Event, Tap};

/// Log lines kept for the log tab.
const LOG_KEEP: usize = 5_000;
/// Tapped chunks kept for the packet inspector.
const TAP_KEEP: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub at: SystemTime,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub status: ConnectionStatus,
    pub subscriptions: Subscriptions,
    pub messages: MessageStore,
    /// Rows older than `messages`, from history.
    pub stored: StoredRows,
    pub log: Vec<LogLine>,
    pub taps: Vec<Tap>,
    /// The packet inspector's list, cut from the taps.
    pub packets: PacketLog,
    /// The broker's `$SYS` figures received.
    pub sys: SysStatus,
    /// Messages published from this app.
    pub published: u64,
    /// The last PUBACK/PUBREC refusal (MQTT 5), in words, until the form publishes again.
    pub publish_refusal: Option<String>,
}

impl Default for Model {
    fn default() -> Self {
        Self {
            status: ConnectionStatus::Disconnected,
            subscriptions: Subscriptions::default(),
            messages: MessageStore::default(),
            stored: StoredRows::default(),
            log: Vec::new(),
            taps: Vec::new(),
            packets: PacketLog::default(),
            sys: SysStatus::default(),
            published: 0,
            publish_refusal: None,
        }
    }
}

impl Model {
    pub fn note(&mut self, text: impl Into<String>) {
        if self.log.len() == LOG_KEEP {
            self.log.remove(0);
        }
        self.log.push(LogLine { at: SystemTime::now(), text: text.into() });
    }

    /// Applies one event from the connection.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Status(status) => {
                match &status {
                    ConnectionStatus::Connecting => {
                        self.packets.new_connection();
                        self.note("Connecting…");
                    }
                    ConnectionStatus::Connected { session_present, .. } => {
                        self.note(format!("Connected (session present: {session_present})."));
                    }
                    ConnectionStatus::Disconnected => self.note("Disconnected."),
                    // The next bytes belong to a new TCP connection.
                    ConnectionStatus::Failed(_) | ConnectionStatus::Reconnecting { .. } => {
                        self.packets.new_connection();
                    }
                }
                if !matches!(status, ConnectionStatus::Connected { .. }) {
                    for s in &mut self.subscriptions.list {
                        s.state = SubscriptionState::Pending;
                    }
                }
                self.status = status;
            }
            Event::Message(m) => {
                self.sys.offer(&m.topic, &m.payload);
                self.subscriptions.count(&m.topic);
                if self.subscriptions.listed(&m.topic) {
                    self.messages.push(m);
                }
            }
            Event::Subscribed { filter, granted } => {
                match &granted {
                    Ok(q) => self.note(format!("Subscribed to {filter} (granted QoS {}).", q.level())),
                    Err(r) => self.note(format!("The broker refused the subscription to {filter}: {}", r.text)),
                }
                self.subscriptions.acknowledged(&filter, granted.map_err(|r| r.text));
            }
            // The worker logs every answer; a refusal also shows under the publish form.
            Event::PublishAcked { topic, code, text, .. } => {
                if code >= 0x80 {
                    self.publish_refusal = Some(format!("The broker refused the message to {topic}: {text}"));
                }
            }
            Event::Unsubscribed { filter } => self.note(format!("Unsubscribed from {filter}.")),
            Event::Published { topic, qos } => {
                self.published += 1;
                self.note(format!("Published to {topic} (QoS {}).", qos.level()));
            }
            Event::Tap(tap) => {
                self.packets.tap(&tap);
                if self.taps.len() == TAP_KEEP {
                    self.taps.remove(0);
                }
                self.taps.push(tap);
            }
            Event::Log(text) => self.note(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::connection::{Qos, ReceivedMessage};

    fn message(topic: &str, payload: &str) -> Event {
        Event::Message(ReceivedMessage {
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload.as_bytes()),
            qos: Qos::AtMostOnce,
            retain: false,
            dup: false,
            at: SystemTime::now(),
            properties: crate::mqtt::PublishProperties::default(),
        })
    }

    #[test]
    fn the_message_store_keeps_the_newest_within_its_bound() {
        let mut store = MessageStore::with_capacity(3);
        for i in 0..5 {
            let Event::Message(m) = message("t", &i.to_string()) else { unreachable!() };
            store.push(m);
        }
        assert_eq!(store.len(), 3);
        assert_eq!(store.total(), 5);
        assert_eq!(&store.get(0).unwrap().payload[..], b"4", "newest first");
        assert_eq!(&store.get(2).unwrap().payload[..], b"2");
    }

    #[test]
    fn counters_follow_matching_subscriptions_and_mute_hides_messages() {
        let mut model = Model::default();
        model.subscriptions.add("PV/#", Qos::AtLeastOnce);
        model.subscriptions.add("PV/sunshine", Qos::AtMostOnce);
        model.apply(message("PV/sunshine", "yes"));
        model.apply(message("PV/data", "3.2"));
        let counts: Vec<u64> = model.subscriptions.list.iter().map(|s| s.count).collect();
        assert_eq!(counts, [2, 1]);
        model.subscriptions.list[1].muted = true;
        assert!(!model.subscriptions.is_hidden("PV/sunshine"), "PV/# still shows it");
        model.subscriptions.list[0].muted = true;
        assert!(model.subscriptions.is_hidden("PV/sunshine"));
        let subs = model.subscriptions.clone();
        assert_eq!(model.messages.search("", |m| subs.is_hidden(&m.topic)).len(), 0);
    }

    #[test]
    fn search_matches_topic_and_payload_and_binary_payloads_do_not_panic() {
        let mut model = Model::default();
        model.apply(message("PV/sunshine", "yes"));
        model.apply(message("lamp/lum", "{\"value\":42}"));
        model.apply(Event::Message(ReceivedMessage {
            topic: "bin".into(),
            payload: Bytes::from_static(&[0xff, 0x00, 0xc3]),
            qos: Qos::AtMostOnce,
            retain: false,
            dup: false,
            at: SystemTime::now(),
            properties: crate::mqtt::PublishProperties::default(),
        }));
        assert_eq!(model.messages.search("sun", |_| false), &[2]);
        assert_eq!(model.messages.search("42", |_| false), &[1]);
        assert_eq!(model.messages.search("", |_| false).len(), 3);
    }

    #[test]
    fn filters_are_validated_with_the_spec_rule() {
        assert!(validate_filter("PV/#").is_ok());
        assert!(validate_filter("PV/#/x").unwrap_err().contains("[MQTT-4.7.1-2]"));
        assert!(validate_filter("").unwrap_err().contains("[MQTT-4.7.3-1]"));
    }
}
