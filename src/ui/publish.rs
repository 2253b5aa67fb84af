//! Topic, QoS, retain and payload; for MQTT 5 the message's properties and "Send request";
//! Ctrl+Enter publishes. Variables (`{{now}}`, `{{counter}}`…) are previewed here and expanded by
//! the app at each send; what the message breaks (a wildcard response topic, properties on
//! MQTT 3.1.1) is named in red instead of sending it.

use super::publish_check::{Preview, build};
use super::{AutoIntent, Intent, ProfileIntent, PropertiesForm, labelled_field, properties_form, qos_picker};
use crate::connection::Qos;
use crate::model::payload::{PayloadMode, pretty_json};
use crate::mqtt::MqttVersion;
use crate::profile::Favourite;

/// The `{{counter}}` key of the form (favourites count under `favourite:NAME`).
pub const FORM_KEY: &str = "form";

use super::RED;

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
    /// MQTT 5 properties as typed (sent only on an MQTT 5 connection).
    pub properties: PropertiesForm,
    /// Put the cursor in the payload at the next frame (after "Reply" filled the form).
    pub focus_payload: bool,
}

/// What the publish panel shows besides its form.
pub struct PublishInput<'a> {
    pub favourites: &'a [Favourite],
    pub recent_topics: &'a [String],
    pub connected: bool,
    /// The version of the connection's profile: MQTT 5 shows the properties and requests.
    pub version: MqttVersion,
    /// The form's variables as the next send expands them (its `{{counter}}` included).
    pub preview: Preview<'a>,
    /// The last request's outcome in one line ("answered in 12 ms").
    pub last_request: Option<String>,
}

pub fn publish_panel(ui: &mut egui::Ui, form: &mut PublishForm, input: &PublishInput) -> Vec<Intent> {
    let mut intents = Vec::new();
    let connected = input.connected;
    ui.heading("Publish");
    favourites(ui, input, &mut intents);
    ui.horizontal(|ui| {
        labelled_field(ui, "Topic", &mut form.topic, 200.0);
        if !input.recent_topics.is_empty() {
            let label = ui.label("Recent");
            egui::ComboBox::new("recent-topics", "")
                .selected_text("…")
                .width(30.0)
                .show_ui(ui, |ui| {
                    for topic in input.recent_topics {
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
        .labelled_by(label.id)
        .on_hover_text("Variables: {{now}} {{now_ms}} {{uuid}} {{counter}} {{random 1 10}}, expanded at each send");
    if std::mem::take(&mut form.focus_payload) {
        payload.request_focus();
    }
    if input.version.is_v5() {
        properties_form(ui, "publish-properties", &mut form.properties);
    }
    let built = build(form, input.version, input.preview);
    if let Some(preview) = &built.preview {
        ui.add(egui::Label::new(preview).truncate()).on_hover_text(preview);
    }
    if let (Err(e), false) = (&built.message, form.topic.is_empty()) {
        ui.add(egui::Label::new(egui::RichText::new(e).color(RED)).wrap());
    }
    let ok = built.message.is_ok();
    let requestable = input.version.is_v5() && !form.properties.response_topic.trim().is_empty();
    let shortcut = payload.has_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter) && i.modifiers.command);
    let (clicked, save, request) = ui
        .horizontal(|ui| {
            let clicked = ui.add_enabled(connected && ok, egui::Button::new("Publish")).clicked();
            let save = ui.add_enabled(ok, egui::Button::new("Save as favourite")).clicked();
            let request = requestable
                && ui
                    .add_enabled(connected && ok, egui::Button::new("Send request"))
                    .on_hover_text(
                        "Subscribes to the response topic, publishes with fresh correlation data (req-N-…, \
                         not the one typed, so every answer matches its own request) and times the answer.",
                    )
                    .clicked();
            if let Some(line) = &input.last_request {
                ui.add(egui::Label::new(line).truncate());
            }
            (clicked, save, request)
        })
        .inner;
    if save {
        intents.push(Intent::Profile(ProfileIntent::AddFavourite));
    }
    let Ok(message) = built.message else { return intents };
    let (key, payload_template) = (FORM_KEY.to_owned(), built.payload_template);
    if request && connected {
        intents.push(Intent::Automation(AutoIntent::Request { key, message, payload_template }));
    } else if (clicked || shortcut) && connected {
        intents.push(Intent::Automation(AutoIntent::Send { key, message, payload_template }));
    }
    intents
}

/// One button per favourite: it publishes at once, its variables expanded, its properties kept.
fn favourites(ui: &mut egui::Ui, input: &PublishInput, intents: &mut Vec<Intent>) {
    if input.favourites.is_empty() {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("Favourites:");
        for f in input.favourites {
            let button = ui.add_enabled(input.connected, egui::Button::new(&f.name));
            let hover = format!("{} → {}", String::from_utf8_lossy(&f.message.payload), f.message.topic);
            if button.on_hover_text(hover).clicked() {
                intents.push(Intent::Automation(AutoIntent::Send {
                    key: format!("favourite:{}", f.name),
                    message: f.message.clone(),
                    payload_template: true,
                }));
            }
        }
    });
}

impl PublishForm {
    /// The form as a favourite, variables unexpanded and properties kept (the profile's "Save as
    /// favourite"; the properties only for an MQTT 5 profile).
    pub fn favourite(&self, version: MqttVersion) -> Favourite {
        let properties = if version.is_v5() {
            self.properties.properties().unwrap_or_default()
        } else {
            crate::mqtt::PublishProperties::default()
        };
        let payload = crate::model::payload::encode(self.mode, self.payload.trim_end_matches('\n'))
            .unwrap_or_else(|_| self.payload.clone().into_bytes());
        Favourite {
            name: format!("{} {}", self.topic, self.payload.chars().take(12).collect::<String>()),
            message: crate::mqtt::Outgoing {
                topic: self.topic.clone(),
                payload: payload.into(),
                qos: self.qos,
                retain: self.retain,
                properties,
            },
        }
    }
}
