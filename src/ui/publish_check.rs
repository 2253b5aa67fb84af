//! What the publish form would send: the typed topic, payload and (MQTT 5) properties read into
//! an [`Outgoing`], its variables previewed, and the message checked against the rules of the
//! connection's MQTT version, so the form names the problem (and the spec's rule) before
//! anything is sent.

use super::PublishForm;
use crate::automation::has_variables;
use crate::model::payload::{PayloadMode, encode};
use crate::mqtt::{MqttVersion, Outgoing, PublishProperties};

/// Expands a topic and a payload as the next send would: `(topic, payload)` or the mistake.
pub type Preview<'a> = &'a dyn Fn(&str, &str) -> Result<(String, String), String>;

/// The form read into a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Built {
    /// What the app is handed: topic and payload as typed (with their variables, expanded at
    /// each send), or why it may not be sent.
    pub message: Result<Outgoing, String>,
    /// Whether the payload is a template (text or JSON with `{{`): hex bytes never are.
    pub payload_template: bool,
    /// "Will send: …" when the topic or payload has variables, however the check went.
    pub preview: Option<String>,
}

/// Reads `form` for a connection of `version` (properties only for MQTT 5).
pub(super) fn build(form: &PublishForm, version: MqttVersion, preview: Preview) -> Built {
    let text = form.payload.trim_end_matches('\n');
    let payload_template = form.mode != PayloadMode::Hex && has_variables(text);
    let templated = payload_template || has_variables(&form.topic);
    let mut shown = None;
    let message = (|| {
        let properties = if version.is_v5() { form.properties.properties()? } else { PublishProperties::default() };
        let as_typed = |payload: Vec<u8>| Outgoing {
            topic: form.topic.clone(),
            payload: payload.into(),
            qos: form.qos,
            retain: form.retain,
            properties: properties.clone(),
        };
        if !templated {
            let message = as_typed(encode(form.mode, text).map_err(|e| format!("Payload {e}"))?);
            message.check(version)?;
            return Ok(message);
        }
        let (topic, payload) =
            preview(&form.topic, if payload_template { text } else { "" }).map_err(|e| format!("Variables: {e}"))?;
        shown = Some(if has_variables(&form.topic) {
            format!("Will send: {} to {topic}", if payload_template { payload.as_str() } else { text })
        } else {
            format!("Will send: {payload}")
        });
        let bytes = if payload_template { encode(form.mode, &payload) } else { encode(form.mode, text) }
            .map_err(|e| format!("Payload {e}"))?;
        // The rules apply to what goes out: the expanded topic and payload.
        Outgoing { topic, payload: bytes.into(), qos: form.qos, retain: form.retain, properties: properties.clone() }
            .check(version)?;
        let raw = if payload_template { text.as_bytes().to_vec() } else { encode(form.mode, text).unwrap_or_default() };
        Ok(as_typed(raw))
    })();
    Built { message, payload_template, preview: shown }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automation::{Context, Template};

    fn fresh(topic: &str, payload: &str) -> Result<(String, String), String> {
        let ctx = Context::live();
        Ok((Template::parse(topic)?.preview(&ctx), Template::parse(payload)?.preview(&ctx)))
    }

    fn form(topic: &str, payload: &str) -> PublishForm {
        PublishForm { topic: topic.into(), payload: payload.into(), ..PublishForm::default() }
    }

    #[test]
    fn variables_are_previewed_and_sent_unexpanded() {
        let built = build(&form("lab/n", "n={{counter}}"), MqttVersion::V311, &fresh);
        assert_eq!(built.preview.as_deref(), Some("Will send: n=1"));
        assert!(built.payload_template);
        assert_eq!(&built.message.unwrap().payload[..], b"n={{counter}}");
        let topic = build(&form("lab/{{counter}}", "x"), MqttVersion::V311, &fresh);
        assert_eq!(topic.preview.as_deref(), Some("Will send: x to lab/1"));
        let bad = build(&form("lab/n", "{{nope}}"), MqttVersion::V311, &fresh);
        assert!(bad.message.unwrap_err().starts_with("Variables: unknown variable {{nope}}"));
    }

    #[test]
    fn json_with_variables_is_checked_after_expansion() {
        let json = PublishForm { mode: PayloadMode::Json, ..form("lab/n", r#"{"n":{{counter}}}"#) };
        assert!(build(&json, MqttVersion::V311, &fresh).message.is_ok());
        let broken = PublishForm { mode: PayloadMode::Json, ..form("lab/n", r#"{"n":{{counter}}"#) };
        assert!(build(&broken, MqttVersion::V311, &fresh).message.unwrap_err().starts_with("Payload not valid JSON"));
    }

    #[test]
    fn properties_go_out_for_mqtt_5_only_and_are_checked() {
        let mut f = form("lab/req", "?");
        f.properties.content_type = "text/plain".into();
        let v5 = build(&f, MqttVersion::V5, &fresh).message.unwrap();
        assert_eq!(v5.properties.content_type.as_deref(), Some("text/plain"));
        assert!(build(&f, MqttVersion::V311, &fresh).message.unwrap().properties.is_empty());
        f.properties.response_topic = "lab/+".into();
        assert_eq!(
            build(&f, MqttVersion::V5, &fresh).message.unwrap_err(),
            "The response topic \"lab/+\" must be a topic name, without wildcards [MQTT-3.3.2-14]."
        );
    }
}
