//! Topic, QoS, retain and payload; Ctrl+Enter publishes.

use mqtt_lab_broker::codec::TopicName;

use super::{Intent, labelled_field, qos_picker};
use crate::connection::Qos;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishForm {
    pub topic: String,
    pub payload: String,
    pub qos: Qos,
    pub retain: bool,
}

pub fn publish_panel(ui: &mut egui::Ui, form: &mut PublishForm, connected: bool) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.heading("Publish");
    ui.horizontal(|ui| {
        labelled_field(ui, "Topic", &mut form.topic, 200.0);
        qos_picker(ui, "publish-qos", &mut form.qos);
        ui.checkbox(&mut form.retain, "Retain");
    });
    let label = ui.label("Payload");
    let payload = ui
        .add(egui::TextEdit::multiline(&mut form.payload).desired_rows(3).desired_width(f32::INFINITY))
        .labelled_by(label.id);
    let check = TopicName::new(form.topic.clone()).map(drop).map_err(|e| e.to_string());
    if let (Err(e), false) = (&check, form.topic.is_empty()) {
        ui.colored_label(egui::Color32::from_rgb(0xd6, 0x27, 0x28), e);
    }
    let shortcut = payload.has_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter) && i.modifiers.command);
    let clicked = ui.add_enabled(connected && check.is_ok(), egui::Button::new("Publish")).clicked();
    if (clicked || shortcut) && connected && check.is_ok() {
        let payload = form.payload.trim_end_matches('\n').as_bytes().to_vec();
        intents.push(Intent::Publish { topic: form.topic.clone(), payload, qos: form.qos, retain: form.retain });
    }
    intents
}
