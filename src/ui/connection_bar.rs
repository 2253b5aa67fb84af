//! The profile picker, host, port and client id, the connect button and the connection's state.

use super::{Intent, labelled_field};
use crate::connection::ConnectionStatus;
use crate::profile::{Profile, generated_client_id};

pub fn connection_bar(
    ui: &mut egui::Ui,
    names: &[String],
    selected: usize,
    profile: &mut Profile,
    port_text: &mut String,
    status: &ConnectionStatus,
    embedded: &str,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.horizontal(|ui| {
        let label = ui.label("Profile");
        egui::ComboBox::new("profile", "")
            .selected_text(names.get(selected).map_or("", String::as_str))
            .width(260.0)
            .show_ui(ui, |ui| {
                for (i, name) in names.iter().enumerate() {
                    if ui.selectable_label(i == selected, name).clicked() && i != selected {
                        intents.push(Intent::SelectProfile(i));
                    }
                }
            })
            .response
            .labelled_by(label.id);
        if profile.builtin_broker {
            ui.label(embedded);
        } else {
            labelled_field(ui, "Host", &mut profile.host, 140.0);
            labelled_field(ui, "Port", port_text, 50.0);
        }
        labelled_field(ui, "Client id", &mut profile.client_id, 160.0);
        if ui.small_button("Generate").on_hover_text("A new random client id").clicked() {
            profile.client_id = generated_client_id();
        }
        match status {
            ConnectionStatus::Connected { .. }
            | ConnectionStatus::Connecting
            | ConnectionStatus::Reconnecting { .. } => {
                if ui.button("Disconnect").clicked() {
                    intents.push(Intent::Disconnect);
                }
            }
            _ => {
                if ui.button("Connect").clicked() {
                    intents.push(Intent::Connect);
                }
            }
        }
        status_label(ui, status);
    });
    if !profile.builtin_broker {
        ui.small(embedded);
    }
    intents
}

const GREEN: egui::Color32 = egui::Color32::from_rgb(0x2c, 0xa0, 0x2c);
const RED: egui::Color32 = egui::Color32::from_rgb(0xd6, 0x27, 0x28);
const ORANGE: egui::Color32 = egui::Color32::from_rgb(0xff, 0x7f, 0x0e);

/// The connection's state in words and colour; TLS version and cipher once connected.
fn status_label(ui: &mut egui::Ui, status: &ConnectionStatus) {
    match status {
        ConnectionStatus::Disconnected => {
            ui.colored_label(egui::Color32::GRAY, "Disconnected");
        }
        ConnectionStatus::Connecting => {
            ui.colored_label(egui::Color32::YELLOW, "Connecting…");
        }
        ConnectionStatus::Connected { session, .. } => {
            ui.colored_label(GREEN, "Connected");
            match session {
                Some(session) => {
                    ui.label(format!("{} {}, {}", session.kind, session.version, session.cipher))
                        .on_hover_text("The protocol version and cipher suite this connection uses");
                    if session.unverified {
                        ui.colored_label(RED, "UNSAFE: certificate not verified").on_hover_text(
                            "The broker's certificate was not checked: anyone between you and the broker could read and change the traffic.",
                        );
                    }
                }
                None => {
                    ui.label("plain TCP, not encrypted");
                }
            }
        }
        ConnectionStatus::Reconnecting { attempt, retry_in, reason, queued } => {
            let waiting = if *queued > 0 { format!(" {queued} message(s) wait to be sent.") } else { String::new() };
            ui.colored_label(
                ORANGE,
                format!("Reconnecting (attempt {attempt}, next in {} s): {reason}{waiting}", retry_in.as_secs()),
            );
        }
        ConnectionStatus::Failed(reason) => {
            ui.colored_label(RED, format!("Failed: {reason}"));
        }
    }
}
