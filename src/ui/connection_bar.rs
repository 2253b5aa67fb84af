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
            ConnectionStatus::Connected { .. } | ConnectionStatus::Connecting => {
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
        let (text, color) = match status {
            ConnectionStatus::Disconnected => ("Disconnected".to_owned(), egui::Color32::GRAY),
            ConnectionStatus::Connecting => ("Connecting…".to_owned(), egui::Color32::YELLOW),
            ConnectionStatus::Connected { .. } => ("Connected".to_owned(), egui::Color32::from_rgb(0x2c, 0xa0, 0x2c)),
            ConnectionStatus::Failed(reason) => {
                (format!("Failed: {reason}"), egui::Color32::from_rgb(0xd6, 0x27, 0x28))
            }
        };
        ui.colored_label(color, text);
    });
    if !profile.builtin_broker {
        ui.small(embedded);
    }
    intents
}
