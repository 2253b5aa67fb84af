//! A profile's MQTT 5 settings: what its CONNECT asks of the broker, and the checks the spec
//! puts on them. Kept apart from the 3.1.1 fields so that old profile files (which have none of
//! them) load unchanged and a 3.1.1 connection never sends them.

use serde::{Deserialize, Serialize};

use crate::connection::ConnectV5;
use crate::mqtt::{MqttVersion, Outgoing, UserProperty};

use super::LastWillSettings;

/// Session Expiry Interval 0xFFFFFFFF: the session never expires [MQTT 5.0 section 3.1.2.11.2].
pub const SESSION_NEVER_EXPIRES: u32 = u32::MAX;

/// The CONNECT properties a profile sets for MQTT 5 (section 3.1.2.11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mqtt5Settings {
    /// Seconds the broker keeps the session after the connection ends; 0: it ends with the
    /// connection; [`SESSION_NEVER_EXPIRES`]: never.
    pub session_expiry_secs: u32,
    /// QoS 1/2 messages the broker may have unacknowledged toward us; `None`: 65,535.
    /// Kept as typed (0 included) so that the editor can say why 0 is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receive_maximum: Option<u16>,
    /// The largest packet we accept, in bytes; `None`: no limit of our own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_packet_size: Option<u32>,
    /// Topic aliases the broker may use toward us; 0: none.
    pub topic_alias_maximum: u16,
    /// Ask for Response Information (a topic prefix for request/response) in the CONNACK.
    pub request_response_information: bool,
    /// `false`: the broker leaves reason strings and user properties out of everything but
    /// PUBLISH, CONNACK and DISCONNECT.
    pub request_problem_information: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_properties: Vec<UserProperty>,
}

impl Default for Mqtt5Settings {
    fn default() -> Self {
        Self {
            session_expiry_secs: 0,
            receive_maximum: None,
            maximum_packet_size: None,
            topic_alias_maximum: 0,
            request_response_information: false,
            // The spec's default when the property is absent [MQTT 5.0 section 3.1.2.11.7].
            request_problem_information: true,
            user_properties: Vec::new(),
        }
    }
}

impl Mqtt5Settings {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// What the connection worker sends in an MQTT 5 CONNECT.
    pub fn to_connect(&self) -> ConnectV5 {
        ConnectV5 {
            session_expiry: self.session_expiry_secs,
            receive_maximum: self.receive_maximum,
            maximum_packet_size: self.maximum_packet_size,
            topic_alias_maximum: self.topic_alias_maximum,
            request_response_information: self.request_response_information,
            request_problem_information: self.request_problem_information,
            user_properties: self.user_properties.clone(),
        }
    }

    /// Every problem of the CONNECT properties, by field, naming the spec's section.
    pub fn validate(&self, err: &mut impl FnMut(&'static str, String)) {
        if self.receive_maximum == Some(0) {
            err(
                "receive_maximum",
                "Receive Maximum 0 is a Protocol Error [MQTT 5.0 section 3.1.2.11.3]: enter 1 to 65535, or leave it empty for the default (65535)".into(),
            );
        }
        if self.maximum_packet_size == Some(0) {
            err(
                "maximum_packet_size",
                "Maximum Packet Size 0 is a Protocol Error [MQTT 5.0 section 3.1.2.11.4]: enter a size in bytes, or leave it empty for no limit".into(),
            );
        }
        if let Some(u) = self.user_properties.iter().find(|u| u.name.is_empty()) {
            err(
                "user_properties",
                format!(
                    "a user property needs a name [MQTT 5.0 section 3.1.2.11.8]; the one with value {:?} has none",
                    u.value
                ),
            );
        }
    }

    /// The session expiry in words, for the editor.
    pub fn session_expiry_text(&self) -> String {
        match self.session_expiry_secs {
            0 => "the session ends with the connection".into(),
            SESSION_NEVER_EXPIRES => "the broker keeps the session forever".into(),
            s => format!("the broker keeps the session {s} s after the connection ends"),
        }
    }
}

/// The will's MQTT 5 checks: its message as a PUBLISH would be checked (response topic,
/// payload format, user property names), and no PUBLISH-only property.
pub(super) fn validate_will(will: &LastWillSettings, err: &mut impl FnMut(&'static str, String)) {
    let p = &will.properties;
    if p.topic_alias.is_some() {
        err(
            "will_properties",
            "a will has no Topic Alias: it is not a will property [MQTT 5.0 section 3.1.3.2]".into(),
        );
    }
    let message = Outgoing {
        topic: will.topic.clone(),
        payload: will.message.clone().into(),
        qos: will.qos,
        retain: will.retain,
        properties: p.clone(),
    };
    // A bad topic has its own message ("last_will"); only the properties are judged here.
    if mqtt_lab_broker::codec::TopicName::new(will.topic.as_str()).is_ok()
        && let Err(e) = message.check(MqttVersion::V5)
    {
        err("will_properties", e);
    }
}

/// Notes that do not stop a connection but change what happens, in words.
pub(super) fn will_delay_note(will: &LastWillSettings, session_expiry_secs: u32) -> Option<String> {
    (will.delay_secs > session_expiry_secs).then(|| {
        format!(
            "The will is published when the session ends ({session_expiry_secs} s after the connection ends), before its delay of {} s has passed [MQTT 5.0 section 3.1.3.2.2].",
            will.delay_secs
        )
    })
}
