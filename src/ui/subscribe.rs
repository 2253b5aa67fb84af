//! New subscriptions (filter checked as you type, MQTT 5 options) and the list of
//! subscriptions with what the broker answered: the QoS granted (a warning when it is less than
//! asked) or why it refused, in words.

use super::{ConnIntent, Intent, SubOptionsForm, labelled_field, qos_picker, sub_options_form};
use crate::connection::Qos;
use crate::model::{Subscription, SubscriptionState, Subscriptions, validate_filter};

use super::RED as WARNING;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeForm {
    pub filter: String,
    pub qos: Qos,
    /// MQTT 5 options, shown for MQTT 5 connections.
    pub options: SubOptionsForm,
}

/// `v5`: the connection (or the profile about to connect) speaks MQTT 5.
pub fn subscribe_panel(
    ui: &mut egui::Ui,
    form: &mut SubscribeForm,
    subscriptions: &Subscriptions,
    connected: bool,
    v5: bool,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.heading("Subscribe");
    ui.horizontal(|ui| {
        labelled_field(ui, "Filter", &mut form.filter, 150.0);
        qos_picker(ui, "subscribe-qos", &mut form.qos);
    });
    if v5 {
        sub_options_form(ui, &mut form.options, &form.filter);
    } else if let Some(shared) = crate::mqtt::shared_filter(&form.filter) {
        ui.weak(shared.explain());
    }
    let check = validate_filter(&form.filter).and_then(|()| form.options.options(&form.filter, v5));
    if let (Err(e), false) = (&check, form.filter.is_empty()) {
        ui.colored_label(WARNING, e);
    }
    if ui.add_enabled(connected && check.is_ok(), egui::Button::new("Subscribe")).clicked()
        && let Ok(options) = check
    {
        intents.push(Intent::Connection(ConnIntent::Subscribe { filter: form.filter.clone(), qos: form.qos, options }));
    }
    ui.separator();
    for s in &subscriptions.list {
        subscription_row(ui, s, &mut intents);
    }
    intents
}

/// What the broker made of a subscription, in words (and whether it is a warning).
pub fn state_text(s: &Subscription) -> (String, bool) {
    match &s.state {
        SubscriptionState::Pending => ("…".to_owned(), false),
        SubscriptionState::Active(q) if *q < s.qos => (
            format!("QoS {} granted, {} asked: messages arrive at most at QoS {}", q.level(), s.qos.level(), q.level()),
            true,
        ),
        SubscriptionState::Active(q) => (format!("QoS {}", q.level()), false),
        SubscriptionState::Refused(why) => (format!("refused: {why}"), true),
    }
}

fn subscription_row(ui: &mut egui::Ui, s: &Subscription, intents: &mut Vec<Intent>) {
    ui.horizontal_wrapped(|ui| {
        super::color_swatch(ui, s.color);
        let (state, warning) = state_text(s);
        let messages = if s.count == 1 { "1 message".to_owned() } else { format!("{} messages", s.count) };
        ui.label(&s.filter);
        if warning {
            ui.colored_label(WARNING, format!("({state})"));
        } else {
            ui.label(format!("({state})"));
        }
        if let Some(id) = s.options.id {
            ui.weak(format!("id {id}")).on_hover_text("Subscription Identifier: messages it brings carry it");
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lower_grant_and_a_refusal_are_warnings_in_words() {
        let mut subs = Subscriptions::default();
        subs.add("PV/#", Qos::ExactlyOnce);
        subs.acknowledged("PV/#", Ok(Qos::AtMostOnce));
        let (text, warning) = state_text(&subs.list[0]);
        assert!(warning && text.starts_with("QoS 0 granted, 2 asked"), "{text}");
        subs.acknowledged("PV/#", Err("0x87 Not authorized".into()));
        assert_eq!(state_text(&subs.list[0]), ("refused: 0x87 Not authorized".to_owned(), true));
        subs.add("lamp/#", Qos::AtMostOnce);
        subs.acknowledged("lamp/#", Ok(Qos::AtMostOnce));
        assert_eq!(state_text(&subs.list[1]), ("QoS 0".to_owned(), false));
    }
}
