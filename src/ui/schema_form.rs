//! The course's messages made easy: publishing to a known topic (lamp/cmd, PV/data, ...) offers a
//! small form that writes a payload matching the schema, and the payload being typed is checked
//! against it (a payload that breaks it can still be sent: testing the firmware's errors is part
//! of the course).

use super::PublishForm;
use crate::model::payload::PayloadMode;
use crate::schema::{
    Catalogue, Check, LedCommand, Luminosity, PvData, Sunshine, TOPIC_LED_CMD, TOPIC_LED_STATE, TOPIC_LUMINOSITY,
    TOPIC_PV_DATA, TOPIC_SUNSHINE,
};

const GOOD: egui::Color32 = egui::Color32::from_rgb(0x2c, 0xa0, 0x2c);

/// The colour of a broken schema rule.
pub const BROKEN: egui::Color32 = egui::Color32::from_rgb(0xe3, 0x77, 0x0e);

/// The form's value written as the payload: what a fresh form shows (a lamp at 50 %, ...).
fn default_payload(topic: &str) -> Option<(String, PayloadMode)> {
    let default = match topic {
        TOPIC_LED_CMD | TOPIC_LED_STATE => (LedCommand::pwm(50.0).ok()?.to_payload(), PayloadMode::Json),
        TOPIC_LUMINOSITY => (Luminosity::new(50.0, None).ok()?.to_payload(), PayloadMode::Json),
        TOPIC_PV_DATA => (PvData(0.0).to_payload(), PayloadMode::Text),
        TOPIC_SUNSHINE => (Sunshine::Yes.to_payload().to_owned(), PayloadMode::Text),
        _ => return None,
    };
    Some(default)
}

/// Whether the payload is a value the topic's form can show.
fn form_reads(topic: &str, payload: &str) -> bool {
    let bytes = payload.trim_end_matches('\n').as_bytes();
    match topic {
        TOPIC_LED_CMD | TOPIC_LED_STATE => LedCommand::from_payload(bytes).is_ok(),
        TOPIC_LUMINOSITY => Luminosity::from_payload(bytes).is_ok(),
        TOPIC_PV_DATA => PvData::from_payload(bytes).is_ok(),
        TOPIC_SUNSHINE => Sunshine::from_payload(bytes).is_ok(),
        _ => true,
    }
}

/// Draws the form for the topic's message, if the course knows it; edits `form.payload`.
///
/// The form never shows a value the payload does not hold: when a topic's form appears (the
/// topic was typed or picked) over a payload it cannot read, the form's value is written into
/// the payload; when the user then types a payload the form cannot read (to test the firmware's
/// errors), the form's control gives way to a note and a button that writes the form's value.
pub fn schema_form(ui: &mut egui::Ui, form: &mut PublishForm) {
    let appeared = form.form_topic.as_deref() != Some(form.topic.as_str());
    if appeared {
        form.form_topic = Some(form.topic.clone());
    }
    let Some(known) = Catalogue::get().topic(&form.topic) else { return };
    if !form_reads(&form.topic, &form.payload)
        && let Some((payload, mode)) = default_payload(&form.topic)
    {
        if !appeared {
            let written = ui
                .horizontal(|ui| {
                    ui.label(format!("Course message ({}): the payload is not a value of this form.", known.direction));
                    ui.button("Use the form").on_hover_text(format!("Write {payload}")).clicked()
                })
                .inner;
            if !written {
                check_line(ui, form);
                return;
            }
        }
        form.payload = payload;
        form.mode = mode;
    }
    ui.horizontal(|ui| {
        ui.label(format!("Course message ({}):", known.direction));
        let text = |payload: String, form: &mut PublishForm, mode: PayloadMode| {
            form.payload = payload;
            form.mode = mode;
        };
        match form.topic.as_str() {
            TOPIC_LED_CMD | TOPIC_LED_STATE => {
                let mut v = LedCommand::from_payload(form.payload.trim_end_matches('\n').as_bytes())
                    .map_or(50.0, |c| c.value());
                let label = ui.label("Brightness");
                let slider = egui::Slider::new(&mut v, 0.0..=100.0).suffix(" %").integer();
                if ui.add(slider).labelled_by(label.id).changed()
                    && let Ok(c) = LedCommand::pwm(v)
                {
                    text(c.to_payload(), form, PayloadMode::Json);
                }
            }
            TOPIC_LUMINOSITY => {
                let mut v = Luminosity::from_payload(form.payload.trim_end_matches('\n').as_bytes())
                    .map_or(50.0, |l| l.value());
                let label = ui.label("Luminosity");
                let slider = egui::Slider::new(&mut v, 0.0..=100.0).suffix(" %").fixed_decimals(1);
                if ui.add(slider).labelled_by(label.id).changed()
                    && let Ok(l) = Luminosity::new(v, None)
                {
                    text(l.to_payload(), form, PayloadMode::Json);
                }
            }
            TOPIC_PV_DATA => {
                let mut kw = PvData::from_payload(form.payload.trim_end_matches('\n').as_bytes()).map_or(0.0, |p| p.0);
                let label = ui.label("Power");
                let drag = egui::DragValue::new(&mut kw).range(0.0..=1000.0).speed(0.05).suffix(" kW");
                if ui.add(drag).labelled_by(label.id).changed() {
                    text(PvData(kw).to_payload(), form, PayloadMode::Text);
                }
            }
            TOPIC_SUNSHINE => {
                let now = Sunshine::from_payload(form.payload.trim_end_matches('\n').as_bytes()).ok();
                for s in [Sunshine::Yes, Sunshine::No] {
                    if ui.radio(now == Some(s), s.to_payload()).clicked() {
                        text(s.to_payload().to_owned(), form, PayloadMode::Text);
                    }
                }
            }
            _ => {}
        }
    });
    check_line(ui, form);
}

/// The payload checked against the topic's schema.
fn check_line(ui: &mut egui::Ui, form: &PublishForm) {
    match Catalogue::get().check(&form.topic, form.payload.trim_end_matches('\n').as_bytes()) {
        Check::Valid(schema) => {
            ui.colored_label(GOOD, format!("Matches {schema}"));
        }
        Check::Invalid(errors) => {
            for e in errors {
                ui.colored_label(BROKEN, format!("Breaks the schema: {e}"));
            }
        }
        Check::Unknown => {}
    }
}
