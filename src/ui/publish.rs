//! Topic, QoS, retain and payload; Ctrl+Enter publishes.

use mqtt_lab_broker::codec::TopicName;

use super::{ConnIntent, Intent, ProfileIntent, labelled_field, qos_picker};
use crate::connection::Qos;
use crate::model::payload::{PayloadMode, encode, pretty_json};
use crate::mqtt::Outgoing;
use crate::profile::Favourite;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishForm {
    pub topic: String,
    pub payload: String,
    pub mode: PayloadMode,
    pub qos: Qos,
    pub retain: bool,
    /// The topic whose course form was drawn last: a form that appears over a payload it cannot
    /// read writes its own value (see `schema_form`).
    pub form_topic: Option<String>,
}

pub fn publish_panel(
    ui: &mut egui::Ui,
    form: &mut PublishForm,
    favourites: &[Favourite],
    recent_topics: &[String],
    connected: bool,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.heading("Publish");
    if !favourites.is_empty() {
        ui.horizontal_wrapped(|ui| {
            ui.label("Favourites:");
            for f in favourites {
                let button = ui.add_enabled(connected, egui::Button::new(&f.name));
                if button
                    .on_hover_text(format!("{} → {}", String::from_utf8_lossy(&f.message.payload), f.message.topic))
                    .clicked()
                {
                    intents.push(Intent::Connection(ConnIntent::Publish(f.message.clone())));
                }
            }
        });
    }
    ui.horizontal(|ui| {
        labelled_field(ui, "Topic", &mut form.topic, 200.0);
        if !recent_topics.is_empty() {
            let label = ui.label("Recent");
            egui::ComboBox::new("recent-topics", "")
                .selected_text("…")
                .width(30.0)
                .show_ui(ui, |ui| {
                    for topic in recent_topics {
                        if ui.selectable_label(*topic == form.topic, topic).clicked() {
                            form.topic.clone_from(topic);
                        }
                    }
                })
                .response
                .labelled_by(label.id);
        }
        qos_picker(ui, "publish-qos", &mut form.qos);
        ui.checkbox(&mut form.retain, "Retain");
    });
    ui.horizontal(|ui| {
        ui.label("Payload as");
        for (mode, name) in [(PayloadMode::Text, "Text"), (PayloadMode::Json, "JSON"), (PayloadMode::Hex, "Hex")] {
            ui.radio_value(&mut form.mode, mode, name);
        }
        if form.mode == PayloadMode::Json && ui.small_button("Pretty").clicked() {
            // An error is shown below the payload.
            if let Ok(pretty) = pretty_json(&form.payload) {
                form.payload = pretty;
            }
        }
    });
    super::schema_form(ui, form);
    let label = ui.label("Payload");
    let payload = ui
        .add(egui::TextEdit::multiline(&mut form.payload).desired_rows(3).desired_width(f32::INFINITY))
        .labelled_by(label.id);
    let topic_check = TopicName::new(form.topic.clone()).map(drop).map_err(|e| e.to_string());
    if let (Err(e), false) = (&topic_check, form.topic.is_empty()) {
        ui.colored_label(egui::Color32::from_rgb(0xd6, 0x27, 0x28), e);
    }
    let bytes = encode(form.mode, form.payload.trim_end_matches('\n'));
    if let Err(e) = &bytes {
        ui.colored_label(egui::Color32::from_rgb(0xd6, 0x27, 0x28), format!("Payload {e}"));
    }
    let check = topic_check.and(bytes.clone().map(drop));
    let shortcut = payload.has_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter) && i.modifiers.command);
    let (clicked, save) = ui
        .horizontal(|ui| {
            let clicked = ui.add_enabled(connected && check.is_ok(), egui::Button::new("Publish")).clicked();
            let save = ui.add_enabled(check.is_ok(), egui::Button::new("Save as favourite")).clicked();
            (clicked, save)
        })
        .inner;
    if save {
        intents.push(Intent::Profile(ProfileIntent::AddFavourite));
    }
    if (clicked || shortcut)
        && connected
        && let Ok(payload) = bytes.and_then(|b| check.map(|()| b))
    {
        intents.push(Intent::Connection(ConnIntent::Publish(Outgoing::new(
            form.topic.clone(),
            payload,
            form.qos,
            form.retain,
        ))));
    }
    intents
}
