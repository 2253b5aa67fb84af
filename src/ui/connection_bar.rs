//! Host, port, client id and the connect button, with the connection's state.

use super::{Intent, labelled_field};
use crate::connection::ConnectionStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectForm {
    pub host: String,
    pub port: String,
    pub client_id: String,
}

pub fn connection_bar(
    ui: &mut egui::Ui,
    form: &mut ConnectForm,
    status: &ConnectionStatus,
    embedded: &str,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.horizontal(|ui| {
        labelled_field(ui, "Host", &mut form.host, 140.0);
        labelled_field(ui, "Port", &mut form.port, 50.0);
        labelled_field(ui, "Client id", &mut form.client_id, 160.0);
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
    ui.small(embedded);
    intents
}
