//! What the broker granted in its MQTT 5 CONNACK, every limit on its own line with the
//! specification's default where the broker sent nothing: no other desktop client shows these,
//! yet they explain why a broker drops, cuts or refuses what a client sends.

use crate::connection::Granted;

/// One line of the panel: the property's name, its value in words, and whether the broker sent
/// it (otherwise the value is the specification's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedRow {
    pub name: &'static str,
    pub value: String,
    pub sent: bool,
}

fn row(name: &'static str, sent: Option<String>, default: &str) -> GrantedRow {
    match sent {
        Some(value) => GrantedRow { name, value, sent: true },
        None => GrantedRow { name, value: default.to_owned(), sent: false },
    }
}

fn yes_no(v: bool) -> String {
    if v { "yes".to_owned() } else { "no".to_owned() }
}

/// The panel's lines, in the order the specification lists CONNACK's properties.
pub fn granted_rows(g: &Granted) -> Vec<GrantedRow> {
    let mut rows = vec![
        row("Assigned client id", g.assigned_client_id.clone(), "(ours kept)"),
        row("Server keep alive", g.server_keep_alive.map(|s| format!("{s} s")), "(ours kept)"),
        row("Session expiry", g.session_expiry.map(|s| format!("{s} s")), "(as asked)"),
        row("Receive maximum", g.receive_maximum.map(|n| n.to_string()), "65535 (default)"),
        row("Maximum packet size", g.maximum_packet_size.map(|n| format!("{n} bytes")), "no limit (default)"),
        row("Topic alias maximum", g.topic_alias_maximum.map(|n| n.to_string()), "0: none (default)"),
        row("Maximum QoS", g.maximum_qos.map(|q| q.level().to_string()), "2 (default)"),
        row("Retain available", g.retain_available.map(yes_no), "yes (default)"),
        row("Wildcard subscriptions", g.wildcard_subscriptions.map(yes_no), "yes (default)"),
        row("Subscription identifiers", g.subscription_identifiers.map(yes_no), "yes (default)"),
        row("Shared subscriptions", g.shared_subscriptions.map(yes_no), "yes (default)"),
    ];
    for (name, value) in [
        ("Response information", &g.response_information),
        ("Server reference", &g.server_reference),
        ("Reason string", &g.reason),
    ] {
        if let Some(v) = value {
            rows.push(GrantedRow { name, value: v.clone(), sent: true });
        }
    }
    for u in &g.user_properties {
        rows.push(GrantedRow { name: "User property", value: format!("{} = {}", u.name, u.value), sent: true });
    }
    rows
}

/// Draws the grid; what the broker sent is strong, defaults are weak.
pub fn granted_panel(ui: &mut egui::Ui, granted: &Granted) {
    egui::Grid::new("granted").num_columns(2).striped(true).show(ui, |ui| {
        for r in granted_rows(granted) {
            ui.label(r.name);
            if r.sent {
                ui.strong(r.value);
            } else {
                ui.weak(r.value);
            }
            ui.end_row();
        }
    });
    ui.weak("Strong: sent by the broker; grey: the specification's default.");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::{Qos, UserProperty};

    #[test]
    fn sent_values_and_defaults_are_told_apart() {
        let g = Granted {
            assigned_client_id: Some("auto-7F".into()),
            receive_maximum: Some(20),
            maximum_qos: Some(Qos::AtLeastOnce),
            shared_subscriptions: Some(false),
            user_properties: vec![UserProperty::new("site", "lab")],
            ..Granted::default()
        };
        let rows = granted_rows(&g);
        let get = |name: &str| rows.iter().find(|r| r.name == name).unwrap().clone();
        assert_eq!(
            get("Assigned client id"),
            GrantedRow { name: "Assigned client id", value: "auto-7F".into(), sent: true }
        );
        assert_eq!(get("Receive maximum").value, "20");
        assert_eq!(get("Maximum QoS").value, "1");
        assert_eq!(get("Shared subscriptions").value, "no");
        assert!(!get("Topic alias maximum").sent);
        assert_eq!(get("User property").value, "site = lab");
    }
}
