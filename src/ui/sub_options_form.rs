//! MQTT 5 subscription options as the subscribe form edits them, and what a filter means
//! (shared subscriptions explained).

use super::labelled_field;
use crate::mqtt::{RetainHandling, SubOptions, shared_filter};

/// The options as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubOptionsForm {
    pub no_local: bool,
    pub retain_as_published: bool,
    pub retain_handling: RetainHandling,
    /// A Subscription Identifier, or empty.
    pub id: String,
}

impl SubOptionsForm {
    /// The options for `filter`, or why they may not be sent (naming the spec's rule).
    pub fn options(&self, filter: &str, v5: bool) -> Result<SubOptions, String> {
        let id = match self.id.trim() {
            "" => None,
            text => Some(
                text.parse::<u32>().map_err(|_| format!("Subscription identifier: {text:?} is not a whole number"))?,
            ),
        };
        let options = SubOptions {
            no_local: self.no_local,
            retain_as_published: self.retain_as_published,
            retain_handling: self.retain_handling,
            id,
        };
        options.check(filter, v5)?;
        Ok(options)
    }
}

/// The MQTT 5 options of a subscription, and a line on what a `$share/` filter does.
pub fn sub_options_form(ui: &mut egui::Ui, form: &mut SubOptionsForm, filter: &str) {
    if let Some(shared) = shared_filter(filter) {
        ui.weak(shared.explain());
    }
    egui::CollapsingHeader::new("MQTT 5 options").id_salt("subscribe-v5").default_open(false).show(ui, |ui| {
        ui.checkbox(&mut form.no_local, "No local")
            .on_hover_text("Messages this connection publishes are not sent back to it");
        ui.checkbox(&mut form.retain_as_published, "Retain as published")
            .on_hover_text("Keep the retain flag on forwarded messages (bridges, recorders)");
        ui.horizontal(|ui| {
            let label = ui.label("Retain handling");
            egui::ComboBox::new("subscribe-retain-handling", "")
                .selected_text(form.retain_handling.label())
                .show_ui(ui, |ui| {
                    for rh in RetainHandling::ALL {
                        ui.selectable_value(&mut form.retain_handling, rh, rh.label());
                    }
                })
                .response
                .labelled_by(label.id);
        });
        labelled_field(ui, "Subscription identifier", &mut form.id, 80.0)
            .on_hover_text("The broker marks each message this subscription brings with this number (1 to 268435455)");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_and_checked_against_the_filter() {
        let form = SubOptionsForm { no_local: true, id: "7".into(), ..SubOptionsForm::default() };
        let options = form.options("lamp/#", true).unwrap();
        assert_eq!((options.no_local, options.id), (true, Some(7)));
        assert!(form.options("$share/g/lamp/#", true).unwrap_err().contains("MQTT-3.8.3-4"));
        assert!(form.options("lamp/#", false).unwrap_err().contains("MQTT 5"));
        let bad = SubOptionsForm { id: "x".into(), ..SubOptionsForm::default() };
        assert!(bad.options("a", true).unwrap_err().starts_with("Subscription identifier"));
        assert!(SubOptionsForm::default().options("a", false).unwrap().is_default());
    }
}
