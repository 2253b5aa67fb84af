//! MQTT 5 publish properties as the publish form (and the last will) edit them: text fields as
//! typed, read into [`PublishProperties`] when sending, with the problem named when they do
//! not read.

use bytes::Bytes;

use super::labelled_field;
use crate::mqtt::{PayloadFormat, PublishProperties, UserProperty, parse_hex, to_hex};

/// The fields as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertiesForm {
    /// `None`: no Payload Format Indicator is sent.
    pub payload_format: Option<PayloadFormat>,
    /// Seconds, or empty for none.
    pub message_expiry: String,
    pub content_type: String,
    pub response_topic: String,
    pub correlation: String,
    /// The correlation data is typed as hex digits, not text.
    pub correlation_hex: bool,
    pub user_properties: Vec<UserProperty>,
    /// A topic alias to send under, or empty.
    pub topic_alias: String,
}

impl PropertiesForm {
    /// The form showing `p` (a favourite being loaded back into the publish form).
    pub fn of(p: &PublishProperties) -> Self {
        let (correlation, correlation_hex) = match &p.correlation_data {
            Some(data) => match std::str::from_utf8(data) {
                Ok(text) if !text.chars().any(char::is_control) => (text.to_owned(), false),
                _ => (to_hex(data), true),
            },
            None => (String::new(), false),
        };
        Self {
            payload_format: p.payload_format,
            message_expiry: p.message_expiry.map(|s| s.to_string()).unwrap_or_default(),
            content_type: p.content_type.clone().unwrap_or_default(),
            response_topic: p.response_topic.clone().unwrap_or_default(),
            correlation,
            correlation_hex,
            user_properties: p.user_properties.clone(),
            topic_alias: p.topic_alias.map(|a| a.to_string()).unwrap_or_default(),
        }
    }

    /// The properties typed, or the first field that does not read (named).
    pub fn properties(&self) -> Result<PublishProperties, String> {
        let number = |name: &str, text: &str| -> Result<Option<u32>, String> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<u32>()
                .map(Some)
                .map_err(|_| format!("{name}: {text:?} is not a whole number of 0 to 4294967295"))
        };
        let topic_alias = match number("Topic alias", &self.topic_alias)? {
            None => None,
            Some(n) => Some(u16::try_from(n).map_err(|_| format!("Topic alias: {n} is over 65535"))?),
        };
        let correlation_data = if self.correlation.is_empty() {
            None
        } else if self.correlation_hex {
            Some(Bytes::from(parse_hex(&self.correlation).map_err(|e| format!("Correlation data: {e}"))?))
        } else {
            Some(Bytes::from(self.correlation.clone()))
        };
        let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Ok(PublishProperties {
            payload_format: self.payload_format,
            message_expiry: number("Message expiry", &self.message_expiry)?,
            content_type: text(&self.content_type),
            response_topic: text(&self.response_topic),
            correlation_data,
            user_properties: self
                .user_properties
                .iter()
                .filter(|u| !(u.name.is_empty() && u.value.is_empty()))
                .cloned()
                .collect(),
            topic_alias,
            subscription_ids: Vec::new(),
        })
    }
}

/// The MQTT 5 fields of a message, in a collapsible section `id`.
pub fn properties_form(ui: &mut egui::Ui, id: &str, form: &mut PropertiesForm) {
    egui::CollapsingHeader::new("MQTT 5 properties").id_salt(id).default_open(false).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Payload format");
            egui::ComboBox::new((id, "format"), "")
                .selected_text(match form.payload_format {
                    None => "not sent",
                    Some(PayloadFormat::Bytes) => "0: bytes",
                    Some(PayloadFormat::Utf8) => "1: UTF-8 text",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut form.payload_format, None, "not sent");
                    ui.selectable_value(&mut form.payload_format, Some(PayloadFormat::Bytes), "0: bytes");
                    ui.selectable_value(&mut form.payload_format, Some(PayloadFormat::Utf8), "1: UTF-8 text");
                })
                .response
                .labelled_by(label.id);
            labelled_field(ui, "Message expiry (s)", &mut form.message_expiry, 60.0)
                .on_hover_text("The broker drops the message if it has waited this long (queued or retained)");
            labelled_field(ui, "Content type", &mut form.content_type, 120.0);
        });
        ui.horizontal_wrapped(|ui| {
            labelled_field(ui, "Response topic", &mut form.response_topic, 160.0)
                .on_hover_text("Where the receiver should publish its answer");
            labelled_field(ui, "Correlation data", &mut form.correlation, 120.0)
                .on_hover_text("Sent back with the answer, so the asker can match it to this request");
            ui.checkbox(&mut form.correlation_hex, "hex");
            labelled_field(ui, "Topic alias", &mut form.topic_alias, 40.0).on_hover_text(
                "A number that stands for the topic on this connection (at most the broker's Topic Alias Maximum)",
            );
        });
        user_property_rows(ui, "Message ", &mut form.user_properties);
    });
}

/// Name / value rows with add and remove, labelled "Property 1" / "Value 1" (or with `prefix`:
/// "Will property 1" / "Will value 1") so that each field has a name of its own.
pub fn user_property_rows(ui: &mut egui::Ui, prefix: &str, rows: &mut Vec<UserProperty>) {
    let mut remove = None;
    for (i, row) in rows.iter_mut().enumerate() {
        ui.horizontal_wrapped(|ui| {
            let n = i + 1;
            let (name, value) = if prefix.is_empty() {
                (format!("Property {n}"), format!("Value {n}"))
            } else {
                (format!("{prefix}property {n}"), format!("{prefix}value {n}"))
            };
            labelled_field(ui, &name, &mut row.name, 90.0);
            labelled_field(ui, &value, &mut row.value, 90.0);
            if ui.small_button("Remove").on_hover_text("Remove this user property").clicked() {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        rows.remove(i);
    }
    let add = format!("Add {}user property", prefix.to_lowercase());
    if ui.small_button(add).clicked() {
        rows.push(UserProperty::new("", ""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_fields_read_into_properties_and_back() {
        let form = PropertiesForm {
            message_expiry: "60".into(),
            content_type: "application/json".into(),
            response_topic: "lamp/reply".into(),
            correlation: "00ff".into(),
            correlation_hex: true,
            user_properties: vec![UserProperty::new("room", "B12"), UserProperty::new("", "")],
            ..PropertiesForm::default()
        };
        let p = form.properties().unwrap();
        assert_eq!(p.message_expiry, Some(60));
        assert_eq!(p.correlation_data.as_deref(), Some(&[0x00, 0xff][..]));
        assert_eq!(p.user_properties, vec![UserProperty::new("room", "B12")]);
        assert_eq!(PropertiesForm::of(&p).properties().unwrap(), p);
        let text = PropertiesForm { correlation: "req-1".into(), ..PropertiesForm::default() };
        assert_eq!(PropertiesForm::of(&text.properties().unwrap()), text);
    }

    #[test]
    fn bad_fields_are_named() {
        let bad = PropertiesForm { message_expiry: "soon".into(), ..PropertiesForm::default() };
        assert!(bad.properties().unwrap_err().starts_with("Message expiry"));
        let hex = PropertiesForm { correlation: "xyz".into(), correlation_hex: true, ..PropertiesForm::default() };
        assert!(hex.properties().unwrap_err().starts_with("Correlation data"));
        let alias = PropertiesForm { topic_alias: "70000".into(), ..PropertiesForm::default() };
        assert!(alias.properties().unwrap_err().contains("65535"));
        assert!(PropertiesForm::default().properties().unwrap().is_empty());
    }
}
