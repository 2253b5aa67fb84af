//! Auto-reply rules of the profile on view: "when a message arrives on FILTER, publish PAYLOAD
//! to TOPIC" (empty topic: the request's Response Topic), edited as a draft and saved with the
//! profile. Each rule's mistake is named under it; a rule the loop guard stopped shows Resume.

use super::{AutoIntent, Intent, labelled_field};
use crate::automation::Rule;
use crate::connection::Qos;

use super::RED;

/// The rules being edited, and whose they are (the draft is reloaded when the profile on view
/// changes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoReplyForm {
    pub profile: String,
    pub rules: Vec<Rule>,
}

/// The draft's rules; `saved`: the profile's rules (Save is offered when they differ);
/// `stopped`: the indexes of the running rules the loop guard stopped.
pub fn autoreply_panel(ui: &mut egui::Ui, form: &mut AutoReplyForm, saved: &[Rule], stopped: &[usize]) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.weak(
        "Answers messages on a filter while connected (the app subscribes to it). Variables: \
         {{request.payload}}, {{request.topic}}, {{request.correlation}}, {{now}}, {{counter}}…",
    );
    let mut remove = None;
    for (i, rule) in form.rules.iter_mut().enumerate() {
        let n = i + 1;
        ui.push_id(("auto-reply", i), |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.checkbox(&mut rule.enabled, format!("Rule {n} enabled"));
                labelled_field(ui, &format!("Rule {n} name"), &mut rule.name, 100.0);
                if ui.small_button("Remove").on_hover_text("Remove this rule (saved with Save rules)").clicked() {
                    remove = Some(i);
                }
            });
            // Label and field side by side: the sidebar is narrow and the rules are many rows.
            let width = (ui.available_width() - 130.0).max(100.0);
            for (what, text, hover) in [
                ("filter", &mut rule.filter, "The messages this rule answers"),
                ("reply topic", &mut rule.topic, "Empty: the request's Response Topic (MQTT 5)"),
                ("reply payload", &mut rule.payload, "What to answer; variables are expanded per reply"),
            ] {
                ui.horizontal(|ui| {
                    labelled_field(ui, &format!("Rule {n} {what}"), text, width).on_hover_text(hover);
                });
            }
            ui.horizontal_wrapped(|ui| {
                reply_qos(ui, n, &mut rule.qos);
                ui.checkbox(&mut rule.retain, format!("Rule {n} retain"));
                ui.checkbox(&mut rule.copy_correlation, "Copy correlation data");
            });
            if let Err(e) = rule.validate() {
                ui.add(egui::Label::new(egui::RichText::new(e).color(RED)).wrap());
            }
            if stopped.contains(&i) && saved.get(i) == Some(rule) {
                ui.horizontal_wrapped(|ui| {
                    ui.colored_label(RED, "Stopped by the loop guard");
                    if ui.button(format!("Resume rule {n}")).clicked() {
                        intents.push(Intent::Automation(AutoIntent::ResumeRule(i)));
                    }
                });
            }
        });
        ui.separator();
    }
    if let Some(i) = remove {
        form.rules.remove(i);
    }
    ui.horizontal(|ui| {
        if ui.button("Add rule").clicked() {
            let name = format!("rule {}", form.rules.len() + 1);
            form.rules.push(Rule { name, ..Rule::default() });
        }
        let changed = form.rules != saved;
        if ui.add_enabled(changed, egui::Button::new("Save rules")).clicked() {
            intents.push(Intent::Automation(AutoIntent::SaveRules(form.rules.clone())));
        }
        if changed && ui.button("Undo changes").clicked() {
            form.rules = saved.to_vec();
        }
    });
    intents
}

/// The reply's QoS, labelled with the rule's number (the sidebar has other QoS pickers).
fn reply_qos(ui: &mut egui::Ui, n: usize, qos: &mut Qos) {
    super::labelled_qos_picker(ui, ("rule-qos", n), &format!("Rule {n} reply QoS"), qos);
}
