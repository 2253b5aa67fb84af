//! A received message's MQTT 5 properties in the detail pane: every property on its own line,
//! user properties as a table.

use crate::mqtt::{PayloadFormat, PublishProperties, correlation_text};

/// Draws `p` as a two-column grid; nothing for a message without properties.
pub fn properties_view(ui: &mut egui::Ui, id: &str, p: &PublishProperties) {
    if p.is_empty() {
        return;
    }
    egui::Grid::new((id, "properties")).num_columns(2).striped(true).show(ui, |ui| {
        for (name, value) in rows(p) {
            ui.weak(name);
            ui.label(value);
            ui.end_row();
        }
    });
    if !p.user_properties.is_empty() {
        ui.label(format!("User properties ({})", p.user_properties.len()));
        egui::Grid::new((id, "user-properties")).num_columns(2).striped(true).show(ui, |ui| {
            for u in &p.user_properties {
                ui.monospace(&u.name);
                ui.monospace(&u.value);
                ui.end_row();
            }
        });
    }
}

/// Each property but the user properties, named as the spec names it, with its value in words.
pub fn rows(p: &PublishProperties) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(format) = p.payload_format {
        out.push((
            "Payload Format Indicator",
            match format {
                PayloadFormat::Bytes => "0 (unspecified bytes)".to_owned(),
                PayloadFormat::Utf8 => "1 (UTF-8 text)".to_owned(),
            },
        ));
    }
    if let Some(secs) = p.message_expiry {
        out.push(("Message Expiry Interval", format!("{secs} s left when it was sent on")));
    }
    if let Some(kind) = &p.content_type {
        out.push(("Content Type", kind.clone()));
    }
    if let Some(topic) = &p.response_topic {
        out.push(("Response Topic", topic.clone()));
    }
    if let Some(data) = &p.correlation_data {
        out.push(("Correlation Data", format!("{} ({} bytes)", correlation_text(data), data.len())));
    }
    if let Some(alias) = p.topic_alias {
        out.push(("Topic Alias", alias.to_string()));
    }
    if !p.subscription_ids.is_empty() {
        let ids: Vec<String> = p.subscription_ids.iter().map(u32::to_string).collect();
        out.push(("Subscription Identifier", ids.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn each_property_gets_its_spec_name() {
        let p = PublishProperties {
            message_expiry: Some(30),
            correlation_data: Some(Bytes::from_static(&[1, 2])),
            subscription_ids: vec![4, 9],
            ..PublishProperties::default()
        };
        let rows = rows(&p);
        assert_eq!(rows[0], ("Message Expiry Interval", "30 s left when it was sent on".to_owned()));
        assert_eq!(rows[1], ("Correlation Data", "0x0102 (2 bytes)".to_owned()));
        assert_eq!(rows[2], ("Subscription Identifier", "4, 9".to_owned()));
    }
}
