//! A profile's MQTT 5 settings: what its CONNECT asks of the broker, and the checks the spec
//! puts on them. Kept apart from the 3.1.1 fields so that old profile files (which have none of
//! them) load unchanged and a 3.1.1 connection never sends them.

use crate::mqtt::{MqttVersion, Outgoing};

use super::LastWillSettings;

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
