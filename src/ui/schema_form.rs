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

/// Draws the form for the topic's message, if the course knows it; edits `form.payload`.
pub fn schema_form(ui: &mut egui::Ui, form: &mut PublishForm) {
    let Some(known) = Catalogue::get().topic(&form.topic) else { return };
    ui.horizontal(|ui| {
        ui.label(format!("Course message ({}):", known.direction));
        let text = |payload: String, form: &mut PublishForm, mode: PayloadMode| {
            form.payload = payload;
            form.mode = mode;
        };
        match form.topic.as_str() {
            TOPIC_LED_CMD | TOPIC_LED_STATE => {
                let mut v = LedCommand::from_payload(form.payload.as_bytes()).map_or(50.0, |c| c.value());
                let label = ui.label("Brightness");
                let slider = egui::Slider::new(&mut v, 0.0..=100.0).suffix(" %").integer();
                if ui.add(slider).labelled_by(label.id).changed()
                    && let Ok(c) = LedCommand::pwm(v)
                {
                    text(c.to_payload(), form, PayloadMode::Json);
                }
            }
            TOPIC_LUMINOSITY => {
                let mut v = Luminosity::from_payload(form.payload.as_bytes()).map_or(50.0, |l| l.value());
                let label = ui.label("Luminosity");
                let slider = egui::Slider::new(&mut v, 0.0..=100.0).suffix(" %").fixed_decimals(1);
                if ui.add(slider).labelled_by(label.id).changed()
                    && let Ok(l) = Luminosity::new(v, None)
                {
                    text(l.to_payload(), form, PayloadMode::Json);
                }
            }
            TOPIC_PV_DATA => {
                let mut kw = PvData::from_payload(form.payload.as_bytes()).map_or(0.0, |p| p.0);
                let label = ui.label("Power");
                let drag = egui::DragValue::new(&mut kw).range(0.0..=1000.0).speed(0.05).suffix(" kW");
                if ui.add(drag).labelled_by(label.id).changed() {
                    text(PvData(kw).to_payload(), form, PayloadMode::Text);
                }
            }
            TOPIC_SUNSHINE => {
                let now = Sunshine::from_payload(form.payload.as_bytes()).ok();
                for s in [Sunshine::Yes, Sunshine::No] {
                    if ui.radio(now == Some(s), s.to_payload()).clicked() {
                        text(s.to_payload().to_owned(), form, PayloadMode::Text);
                    }
                }
            }
            _ => {}
        }
    });
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
