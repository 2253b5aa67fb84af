//! The one outgoing message: what the publish form sends, a favourite keeps, the offline queue
//! holds, a simulator publishes and the worker hands to rumqttc; and its MQTT 5 properties,
//! which received messages carry too.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::hex::{parse_hex, to_hex};
use super::{MqttVersion, Qos};

/// MQTT 5 Payload Format Indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadFormat {
    /// 0: unspecified bytes.
    Bytes,
    /// 1: UTF-8 text; the receiver may check it [MQTT-3.3.2-4].
    Utf8,
}

/// One MQTT 5 User Property: a name and a value, both UTF-8; names may repeat.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserProperty {
    pub name: String,
    pub value: String,
}

impl UserProperty {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self { name: name.into(), value: value.into() }
    }
}

/// A PUBLISH's MQTT 5 properties (also a will's, apart from its delay). Empty for 3.1.1.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PublishProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_format: Option<PayloadFormat>,
    /// Seconds the message lives; the broker counts it down while it waits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_expiry: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Where the receiver should send its answer (request / response).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_topic: Option<String>,
    /// Binary; kept in files as hex.
    #[serde(skip_serializing_if = "Option::is_none", with = "hex_bytes")]
    pub correlation_data: Option<Bytes>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_properties: Vec<UserProperty>,
    /// Outgoing: send under this topic alias. Received: the alias the broker used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_alias: Option<u16>,
    /// Received only: the Subscription Identifiers of the subscriptions that matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscription_ids: Vec<u32>,
}

impl PublishProperties {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// A one-line summary for the message list ("expiry 60 s · JSON · 2 user properties").
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(format) = self.payload_format {
            parts.push(match format {
                PayloadFormat::Utf8 => "UTF-8".to_owned(),
                PayloadFormat::Bytes => "bytes".to_owned(),
            });
        }
        if let Some(secs) = self.message_expiry {
            parts.push(format!("expiry {secs} s"));
        }
        if let Some(kind) = &self.content_type {
            parts.push(kind.clone());
        }
        if let Some(topic) = &self.response_topic {
            parts.push(format!("reply to {topic}"));
        }
        if let Some(data) = &self.correlation_data {
            parts.push(format!("correlation {}", correlation_text(data)));
        }
        match self.user_properties.len() {
            0 => {}
            1 => parts.push(format!("{}={}", self.user_properties[0].name, self.user_properties[0].value)),
            n => parts.push(format!("{n} user properties")),
        }
        if let Some(alias) = self.topic_alias {
            parts.push(format!("alias {alias}"));
        }
        if !self.subscription_ids.is_empty() {
            let ids: Vec<String> = self.subscription_ids.iter().map(u32::to_string).collect();
            parts.push(format!("sub id {}", ids.join(",")));
        }
        parts.join(" · ")
    }
}

/// Correlation data as text when it is printable UTF-8, else as hex (`0x...`).
pub fn correlation_text(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) if !text.chars().any(char::is_control) => text.to_owned(),
        _ => format!("0x{}", to_hex(data)),
    }
}

/// A message to publish. In files (favourites) the payload is text, or `payload_hex` when it
/// is not UTF-8; files written before MQTT 5 (topic, payload, qos, retain) still load.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "OutgoingFile", into = "OutgoingFile")]
pub struct Outgoing {
    pub topic: String,
    pub payload: Bytes,
    pub qos: Qos,
    pub retain: bool,
    pub properties: PublishProperties,
}

impl Outgoing {
    pub fn new(topic: impl Into<String>, payload: impl Into<Bytes>, qos: Qos, retain: bool) -> Self {
        Self { topic: topic.into(), payload: payload.into(), qos, retain, properties: PublishProperties::default() }
    }

    /// Why this message may not be sent on a connection of `version`, naming the spec's rule;
    /// the form shows it instead of sending a packet the broker would refuse.
    pub fn check(&self, version: MqttVersion) -> Result<(), String> {
        let p = &self.properties;
        if !version.is_v5() && !p.is_empty() {
            return Err(format!(
                "MQTT {} has no properties: switch the profile to MQTT 5 or clear them.",
                version.label()
            ));
        }
        if self.topic.is_empty() && p.topic_alias.is_none() {
            return Err("A topic is needed: a PUBLISH's topic must have at least one character [MQTT-4.7.3-1].".into());
        }
        if !self.topic.is_empty() {
            mqtt_lab_broker::codec::TopicName::new(self.topic.as_str()).map_err(|e| e.to_string())?;
        }
        if !p.subscription_ids.is_empty() {
            return Err(
                "A Subscription Identifier may not be sent in a PUBLISH from a client [MQTT-3.3.4-6]; it belongs on SUBSCRIBE."
                    .into(),
            );
        }
        if p.topic_alias == Some(0) {
            return Err("Topic Alias 0 is not allowed [MQTT-3.3.2-8]: aliases start at 1.".into());
        }
        if let Some(topic) = &p.response_topic
            && (topic.is_empty() || topic.contains(['+', '#']))
        {
            return Err(format!(
                "The response topic {topic:?} must be a topic name, without wildcards [MQTT-3.3.2-14]."
            ));
        }
        if let (Some(PayloadFormat::Utf8), Err(e)) = (p.payload_format, std::str::from_utf8(&self.payload)) {
            return Err(format!(
                "The payload is marked UTF-8 but byte {} is not valid UTF-8 [MQTT-3.3.2-4]: mark it as bytes.",
                e.valid_up_to()
            ));
        }
        for u in &p.user_properties {
            if u.name.is_empty() {
                return Err(format!("A user property needs a name (its value is {:?}).", u.value));
            }
        }
        Ok(())
    }
}

/// How an [`Outgoing`] is written in profile files.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct OutgoingFile {
    topic: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_hex: Option<String>,
    qos: Qos,
    retain: bool,
    #[serde(skip_serializing_if = "PublishProperties::is_empty")]
    properties: PublishProperties,
}

impl From<OutgoingFile> for Outgoing {
    fn from(f: OutgoingFile) -> Self {
        let payload = match (f.payload, f.payload_hex) {
            (Some(text), _) => Bytes::from(text),
            (None, Some(hex)) => Bytes::from(parse_hex(&hex).unwrap_or_default()),
            (None, None) => Bytes::new(),
        };
        Self { topic: f.topic, payload, qos: f.qos, retain: f.retain, properties: f.properties }
    }
}

impl From<Outgoing> for OutgoingFile {
    fn from(m: Outgoing) -> Self {
        let (payload, payload_hex) = match std::str::from_utf8(&m.payload) {
            Ok(text) => (Some(text.to_owned()), None),
            Err(_) => (None, Some(to_hex(&m.payload))),
        };
        Self { topic: m.topic, payload, payload_hex, qos: m.qos, retain: m.retain, properties: m.properties }
    }
}

/// Correlation data in files: hex text.
mod hex_bytes {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)]
    pub fn serialize<S: Serializer>(value: &Option<Bytes>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(b) => s.serialize_str(&super::to_hex(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Bytes>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| super::parse_hex(&t).map(Bytes::from).map_err(serde::de::Error::custom)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn favourites_written_before_mqtt5_still_load() {
        let old = r#"{"topic":"lamp/cmd","payload":"{\"control\":\"PWM\",\"value\":50,\"unit\":\"%\"}","qos":"AtLeastOnce","retain":false}"#;
        let m: Outgoing = serde_json::from_str(old).unwrap();
        assert_eq!(m.topic, "lamp/cmd");
        assert_eq!(m.qos, Qos::AtLeastOnce);
        assert!(m.properties.is_empty());
        assert_eq!(serde_json::to_string(&m).unwrap(), old);
    }

    #[test]
    fn binary_payloads_and_correlation_data_round_trip_as_hex() {
        let mut m = Outgoing::new("a", vec![0xff, 0x00], Qos::AtMostOnce, false);
        m.properties.correlation_data = Some(Bytes::from_static(&[1, 2, 0xfe]));
        m.properties.user_properties.push(UserProperty::new("k", "v"));
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains(r#""payload_hex":"ff00""#), "{text}");
        assert!(text.contains(r#""correlation_data":"0102fe""#), "{text}");
        assert_eq!(serde_json::from_str::<Outgoing>(&text).unwrap(), m);
    }

    #[test]
    fn checks_name_the_rule_they_apply() {
        let mut m = Outgoing::new("lamp/cmd", "x", Qos::AtMostOnce, false);
        assert!(m.check(MqttVersion::V311).is_ok());
        m.properties.subscription_ids.push(3);
        assert!(m.check(MqttVersion::V5).unwrap_err().contains("MQTT-3.3.4-6"));
        assert!(m.check(MqttVersion::V311).unwrap_err().contains("no properties"));
        m.properties.subscription_ids.clear();
        m.properties.response_topic = Some("lamp/+/reply".into());
        assert!(m.check(MqttVersion::V5).unwrap_err().contains("MQTT-3.3.2-14"));
        m.properties.response_topic = None;
        m.properties.topic_alias = Some(0);
        assert!(m.check(MqttVersion::V5).unwrap_err().contains("MQTT-3.3.2-8"));
        m.properties.topic_alias = None;
        m.payload = Bytes::from_static(&[0xc3]);
        m.properties.payload_format = Some(PayloadFormat::Utf8);
        assert!(m.check(MqttVersion::V5).unwrap_err().contains("MQTT-3.3.2-4"));
        let wild = Outgoing::new("PV/#", "x", Qos::AtMostOnce, false);
        assert!(wild.check(MqttVersion::V5).is_err());
    }

    #[test]
    fn correlation_data_reads_as_text_or_hex() {
        assert_eq!(correlation_text(b"req-1"), "req-1");
        assert_eq!(correlation_text(&[0, 1]), "0x0001");
    }
}
