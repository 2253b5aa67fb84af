//! The protocol version a connection speaks.

use mqtt_lab_broker::codec::Protocol;
use serde::{Deserialize, Serialize};

/// The MQTT version a profile speaks; in profile files `"3.1"`, `"3.1.1"` or `"5"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum MqttVersion {
    /// Protocol "MQIsdp", level 3.
    #[serde(rename = "3.1")]
    V31,
    #[default]
    #[serde(rename = "3.1.1")]
    V311,
    /// MQTT 5.0 (level 5); `"5.0"` is read too.
    #[serde(rename = "5", alias = "5.0")]
    V5,
}

impl MqttVersion {
    pub const ALL: [Self; 3] = [Self::V311, Self::V5, Self::V31];

    pub const fn label(self) -> &'static str {
        match self {
            Self::V31 => "3.1",
            Self::V311 => "3.1.1",
            Self::V5 => "5",
        }
    }

    /// The codec's name for it, to decode what this connection sends and receives.
    pub const fn protocol(self) -> Protocol {
        match self {
            Self::V31 => Protocol::V31,
            Self::V311 => Protocol::V311,
            Self::V5 => Protocol::V5,
        }
    }

    pub const fn is_v5(self) -> bool {
        matches!(self, Self::V5)
    }
}

#[cfg(test)]
mod tests {
    use super::MqttVersion;

    #[test]
    fn profile_files_spell_versions_as_users_do() {
        for (text, version) in
            [("\"3.1\"", MqttVersion::V31), ("\"3.1.1\"", MqttVersion::V311), ("\"5\"", MqttVersion::V5)]
        {
            assert_eq!(serde_json::from_str::<MqttVersion>(text).unwrap(), version);
            assert_eq!(serde_json::to_string(&version).unwrap(), text);
        }
        assert_eq!(serde_json::from_str::<MqttVersion>("\"5.0\"").unwrap(), MqttVersion::V5);
        assert!(serde_json::from_str::<MqttVersion>("\"4\"").is_err());
    }
}
