//! New subscriptions (filter checked as you type) and the list of subscriptions.

use super::{ConnIntent, Intent, labelled_field, qos_picker};
use crate::connection::Qos;
use crate::model::{SubscriptionState, Subscriptions, validate_filter};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeForm {
    pub filter: String,
    pub qos: Qos,
}

pub fn subscribe_panel(
    ui: &mut egui::Ui,
    form: &mut SubscribeForm,
    subscriptions: &Subscriptions,
    connected: bool,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.heading("Subscribe");
    ui.horizontal(|ui| {
        labelled_field(ui, "Filter", &mut form.filter, 150.0);
        qos_picker(ui, "subscribe-qos", &mut form.qos);
    });
    let check = validate_filter(&form.filter);
    if let (Err(e), false) = (&check, form.filter.is_empty()) {
        ui.colored_label(egui::Color32::from_rgb(0xd6, 0x27, 0x28), e);
    }
    if ui.add_enabled(connected && check.is_ok(), egui::Button::new("Subscribe")).clicked() {
        intents.push(Intent::Connection(ConnIntent::Subscribe { filter: form.filter.clone(), qos: form.qos }));
    }
    ui.separator();
    for s in &subscriptions.list {
        ui.horizontal_wrapped(|ui| {
            super::color_swatch(ui, s.color);
            let state = match s.state {
                SubscriptionState::Pending => "…".to_owned(),
                SubscriptionState::Active(q) => format!("QoS {}", q.level()),
                SubscriptionState::Refused => "refused".to_owned(),
            };
            let messages = if s.count == 1 { "1 message".to_owned() } else { format!("{} messages", s.count) };
            ui.label(format!("{} ({state})", s.filter));
            ui.weak(messages).on_hover_text("Messages received through this subscription");
            let mut muted = s.muted;
            if ui.checkbox(&mut muted, "Mute").changed() {
                intents.push(Intent::Connection(ConnIntent::ToggleMute { filter: s.filter.clone() }));
            }
            if ui.small_button("Unsubscribe").clicked() {
                intents.push(Intent::Connection(ConnIntent::Unsubscribe { filter: s.filter.clone() }));
            }
        });
    }
    intents
}
