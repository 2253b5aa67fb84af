//! The top bar. First row: the profile being edited (picker, host, port, client id) and its
//! Connect button (Disconnect and "Open again" when its connection is on view; "Show" when it is
//! open but another is on view). Second row: the connection on view, named by the profile it was
//! opened with, its state in words (errors wrap, in full) and the built-in broker.

use super::{ConnIntent, Intent, ProfileIntent, labelled_field};
use crate::connection::ConnectionStatus;
use crate::mqtt::generated_client_id;
use crate::profile::Profile;

/// What the bar shows besides the profile being edited.
pub struct BarState<'a> {
    pub names: &'a [String],
    pub selected: usize,
    /// The open connection's profile and address ("Built-in broker (127.0.0.1:1883)"), if any.
    pub open: Option<&'a str>,
    /// The open connection carries MQTT in WebSocket frames (ws:// or wss://): the status says
    /// "WebSocket over TLS" or "WebSocket, not encrypted".
    pub websocket: bool,
    /// Whether the connection on view is the selected profile's.
    pub open_is_selected: bool,
    /// A connection of the selected profile that is up but not on view: its session id.
    pub selected_elsewhere: Option<u64>,
    pub status: &'a ConnectionStatus,
    pub embedded: &'a str,
}

/// `view` draws at the end of the second row (the theme, the shortcuts), where there is room.
pub fn connection_bar(
    ui: &mut egui::Ui,
    state: &BarState<'_>,
    profile: &mut Profile,
    port_text: &mut String,
    view: impl FnOnce(&mut egui::Ui),
) -> Vec<Intent> {
    let mut intents = Vec::new();
    let active = matches!(
        state.status,
        ConnectionStatus::Connected { .. } | ConnectionStatus::Connecting | ConnectionStatus::Reconnecting { .. }
    );
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Profile");
        egui::ComboBox::new("profile", "")
            .selected_text(state.names.get(state.selected).map_or("", String::as_str))
            .width(180.0)
            .show_ui(ui, |ui| {
                for (i, name) in state.names.iter().enumerate() {
                    if ui.selectable_label(i == state.selected, name).clicked() && i != state.selected {
                        intents.push(Intent::Profile(ProfileIntent::Select(i)));
                    }
                }
            })
            .response
            .labelled_by(label.id);
        if !profile.builtin_broker {
            let before = profile.host.len();
            let host = labelled_field(ui, "Host", &mut profile.host, 130.0).on_hover_text(
                "A host name or IP address, or a broker URL: ws://host:9001/mqtt, wss://host/mqtt, mqtts://host",
            );
            // A URL fills the port, the transport, the path and TLS: when pasted (more than one
            // character at once), or when typed, once the field is left (not halfway through).
            let pasted = host.changed() && profile.host.len() > before + 1;
            if (pasted || host.lost_focus())
                && crate::profile::looks_like_url(&profile.host)
                && profile.apply_url().is_ok()
            {
                *port_text = profile.port.to_string();
            }
            labelled_field(ui, "Port", port_text, 52.0);
        }
        let id = labelled_field(ui, "Client id", &mut profile.client_id, 150.0);
        if profile.client_id.is_empty() && profile.version.is_v5() {
            id.on_hover_text("Empty: the broker assigns one (MQTT 5, clean start)");
        }
        if ui.small_button("Generate").on_hover_text("A new random client id").clicked() {
            profile.client_id = generated_client_id();
        }
        if active && state.open_is_selected {
            if ui.button("Disconnect").clicked() {
                intents.push(Intent::Connection(ConnIntent::Disconnect));
            }
        } else if let Some(id) = state.selected_elsewhere {
            if ui.button("Show").on_hover_text("This profile's connection is open: show it").clicked() {
                intents.push(Intent::Connection(ConnIntent::Show(id)));
            }
        } else if ui.button("Connect").clicked() {
            intents.push(Intent::Connection(ConnIntent::Connect));
        }
        if (active && state.open_is_selected || state.selected_elsewhere.is_some())
            && ui
                .button("Open again")
                .on_hover_text("A second connection of this profile beside the first, with its own client id (-2)")
                .clicked()
        {
            intents.push(Intent::Connection(ConnIntent::OpenAgain));
        }
    });
    ui.horizontal_wrapped(|ui| {
        if let Some(open) = state.open {
            ui.label(format!("{open}:"));
        }
        status_label(ui, state.status, state.websocket);
        if active && !state.open_is_selected && ui.small_button("Disconnect").clicked() {
            intents.push(Intent::Connection(ConnIntent::Disconnect));
        }
        ui.separator();
        ui.weak(state.embedded);
        ui.separator();
        view(ui);
    });
    intents
}

const GREEN: egui::Color32 = egui::Color32::from_rgb(0x2c, 0xa0, 0x2c);
use super::RED;
const ORANGE: egui::Color32 = egui::Color32::from_rgb(0xff, 0x7f, 0x0e);

/// A state that may be long (a refusal, a TLS error): wrapped, never cut off.
fn wrapped(ui: &mut egui::Ui, color: egui::Color32, text: String) {
    ui.add(egui::Label::new(egui::RichText::new(text).color(color)).wrap());
}

/// The connection's state in words and colour; TLS version and cipher once connected.
/// `websocket`: the connection is a ws:// or wss:// one.
fn status_label(ui: &mut egui::Ui, status: &ConnectionStatus, websocket: bool) {
    match status {
        ConnectionStatus::Disconnected => {
            ui.colored_label(egui::Color32::GRAY, "Disconnected");
        }
        ConnectionStatus::Connecting => {
            ui.colored_label(ORANGE, "Connecting…");
        }
        ConnectionStatus::Connected { session, .. } => {
            ui.colored_label(GREEN, "Connected");
            match session {
                Some(session) => {
                    let over = if websocket { "WebSocket over " } else { "" };
                    ui.label(format!("{over}{} {}, {}", session.kind, session.version, session.cipher))
                        .on_hover_text("The protocol version and cipher suite this connection uses");
                    if session.unverified {
                        ui.colored_label(RED, "UNSAFE: certificate not verified").on_hover_text(
                            "The broker's certificate was not checked: anyone between you and the broker could read and change the traffic.",
                        );
                    }
                    if let Some(path) = &session.key_log {
                        ui.colored_label(ORANGE, crate::connection::transport::key_log_notice(path)).on_hover_text(
                            "SSLKEYLOGFILE is set: this connection's TLS secrets are appended to that file, so \
                             Wireshark can decrypt a capture of it (tls.keylog_file). Anyone with the file can too.",
                        );
                    }
                }
                None => {
                    ui.label(if websocket { "WebSocket, not encrypted" } else { "plain TCP, not encrypted" });
                }
            }
        }
        ConnectionStatus::Reconnecting { attempt, retry_in, reason, queued } => {
            let waiting = if *queued > 0 { format!(" {queued} message(s) wait to be sent.") } else { String::new() };
            wrapped(
                ui,
                ORANGE,
                format!("Reconnecting (attempt {attempt}, next in {} s): {reason}{waiting}", retry_in.as_secs()),
            );
        }
        ConnectionStatus::Failed(reason) => wrapped(ui, RED, format!("Failed: {reason}")),
    }
}

/// A connection's state in one coloured word, for the connections list.
pub fn state_word(status: &ConnectionStatus) -> (&'static str, egui::Color32) {
    match status {
        ConnectionStatus::Disconnected => ("disconnected", egui::Color32::GRAY),
        ConnectionStatus::Connecting => ("connecting", ORANGE),
        ConnectionStatus::Connected { .. } => ("connected", GREEN),
        ConnectionStatus::Reconnecting { .. } => ("reconnecting", ORANGE),
        ConnectionStatus::Failed(_) => ("failed", RED),
    }
}
