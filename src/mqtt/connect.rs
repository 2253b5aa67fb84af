//! An MQTT 5 CONNECT's properties as a profile sets them and the worker sends them (one type
//! for both), with the checks the specification puts on them.

use serde::{Deserialize, Serialize};

use super::UserProperty;

/// Session Expiry Interval 0xFFFFFFFF: the session never expires [MQTT 5.0 section 3.1.2.11.2].
pub const SESSION_NEVER_EXPIRES: u32 = u32::MAX;

/// The CONNECT properties a profile sets for MQTT 5 (section 3.1.2.11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectV5 {
    /// Seconds the broker keeps the session after the connection ends; 0: it ends with the
    /// connection; [`SESSION_NEVER_EXPIRES`]: never.
    #[serde(rename = "session_expiry_secs")]
    pub session_expiry: u32,
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

impl Default for ConnectV5 {
    fn default() -> Self {
        Self {
            session_expiry: 0,
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

impl ConnectV5 {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
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
        match self.session_expiry {
            0 => "the session ends with the connection".into(),
            SESSION_NEVER_EXPIRES => "the broker keeps the session forever".into(),
            s => format!("the broker keeps the session {s} s after the connection ends"),
        }
    }
}
