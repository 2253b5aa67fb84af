//! What an MQTT 5 CONNACK told the client: the broker's limits and what it assigned. `None`
//! fields were not sent, which means the specification's default.

use crate::mqtt::{Qos, UserProperty};

/// The properties of an MQTT 5 CONNACK, as the UI shows them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Granted {
    /// Seconds the broker keeps the session; `None`: as asked in CONNECT.
    pub session_expiry: Option<u32>,
    /// QoS 1/2 messages the broker takes in flight from us; `None`: 65,535.
    pub receive_maximum: Option<u16>,
    /// The highest QoS the broker supports; `None`: 2.
    pub maximum_qos: Option<Qos>,
    /// `None`: retained messages are supported.
    pub retain_available: Option<bool>,
    /// The largest packet the broker accepts; `None`: no limit but the protocol's.
    pub maximum_packet_size: Option<u32>,
    /// The client id the broker chose, when CONNECT sent an empty one.
    pub assigned_client_id: Option<String>,
    /// Topic aliases we may use toward the broker; `None`: 0, none.
    pub topic_alias_maximum: Option<u16>,
    pub reason: Option<String>,
    pub user_properties: Vec<UserProperty>,
    /// `None`: available.
    pub wildcard_subscriptions: Option<bool>,
    pub subscription_identifiers: Option<bool>,
    pub shared_subscriptions: Option<bool>,
    /// The keepalive the broker imposes in place of ours, in seconds.
    pub server_keep_alive: Option<u16>,
    /// The base for response topics, when CONNECT asked for it.
    pub response_information: Option<String>,
    /// Another server to use (with 0x9C / 0x9D).
    pub server_reference: Option<String>,
}

impl Granted {
    /// Log lines for what matters to a student: an assigned client id, a keepalive the broker
    /// changed, limits below the defaults.
    pub fn notes(&self, asked_keep_alive: u64) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(id) = &self.assigned_client_id {
            notes.push(format!(
                "The broker assigned the client id {id:?} (CONNECT sent an empty one); a persistent session needs it next time."
            ));
        }
        if let Some(secs) = self.server_keep_alive {
            notes.push(format!(
                "The broker set the keepalive to {secs} s (asked: {asked_keep_alive} s): the client pings at the broker's pace [MQTT-3.2.2-21]."
            ));
        }
        if let Some(q) = self.maximum_qos {
            notes.push(format!("The broker supports QoS {} at most.", q.level()));
        }
        if self.retain_available == Some(false) {
            notes.push("The broker does not keep retained messages.".to_owned());
        }
        if let Some(reason) = &self.reason {
            notes.push(format!("The broker says: \"{reason}\"."));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_name_the_assigned_id_and_the_keepalive() {
        let g =
            Granted { assigned_client_id: Some("auto-1".into()), server_keep_alive: Some(20), ..Granted::default() };
        let notes = g.notes(60);
        assert!(notes[0].contains("\"auto-1\""), "{notes:?}");
        assert!(notes[1].contains("20 s (asked: 60 s)"), "{notes:?}");
        assert!(Granted::default().notes(60).is_empty());
    }
}
