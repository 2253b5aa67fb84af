//! The selected profile's settings: credentials, session, last will, transport (TCP or
//! WebSocket with its path), TLS, each field checked.

use super::{Intent, ProfileIntent, RED, ToolIntent, error_for, labelled_field, qos_picker};
use crate::connection::TlsVersion;
use crate::model::SelfTest;
use crate::profile::{LastWillSettings, MqttVersion, Profile, TlsMode, Transport};

fn optional_field(ui: &mut egui::Ui, label: &str, value: &mut Option<String>) {
    let mut text = value.clone().unwrap_or_default();
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let edit = egui::TextEdit::singleline(&mut text).desired_width(ui.available_width().max(MIN_FIELD));
        if ui.add(edit).labelled_by(l.id).changed() {
            *value = (!text.is_empty()).then_some(text);
        }
    });
}

/// The narrowest a field gets; the left panel is about 340 px wide by default.
const MIN_FIELD: f32 = 120.0;

/// A secret with its label and a switch that shows what was typed on one line, and the field
/// below as wide as the panel (a 32-digit PSK key fits). Hidden by default; the switch lives in
/// egui's memory (never saved, never logged), so the secret is hidden again at the next start.
fn secret_field(ui: &mut egui::Ui, label: &str, show_label: &str, text: &mut String) -> egui::Response {
    let id = egui::Id::unique(("secret-shown", show_label));
    let mut show = ui.data(|d| d.get_temp::<bool>(id)).unwrap_or(false);
    let l = ui
        .horizontal(|ui| {
            let l = ui.label(label);
            if ui.checkbox(&mut show, show_label).on_hover_text("Show or hide what was typed").changed() {
                ui.data_mut(|d| d.insert_temp(id, show));
            }
            l
        })
        .inner;
    let width = ui.available_width().max(MIN_FIELD);
    ui.add(egui::TextEdit::singleline(text).password(!show).desired_width(width)).labelled_by(l.id)
}

fn optional_secret(ui: &mut egui::Ui, label: &str, show_label: &str, value: &mut Option<String>) {
    let mut text = value.clone().unwrap_or_default();
    if secret_field(ui, label, show_label, &mut text).changed() {
        *value = (!text.is_empty()).then_some(text);
    }
}

/// The file field and switch for export and import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferForm {
    pub path: String,
    /// Exports leave out the password and PSK key unless this is ticked.
    pub include_secrets: bool,
}

pub fn profile_editor(
    ui: &mut egui::Ui,
    profile: &mut Profile,
    transfer: &mut TransferForm,
    self_test: Option<&SelfTest>,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    egui::CollapsingHeader::new("Profile settings").show(ui, |ui| {
        ui.horizontal(|ui| {
            labelled_field(ui, "Name", &mut profile.name, 200.0);
        });
        error_for(ui, profile, "name");
        optional_field(ui, "User name", &mut profile.username);
        optional_secret(ui, "Password", "Show password", &mut profile.password);
        error_for(ui, profile, "password");
        version_picker(ui, profile);
        ui.horizontal(|ui| {
            // The same flag: Clean Start in MQTT 5, where the session expiry says how long it lasts.
            let clean = if profile.version.is_v5() { "Clean start" } else { "Clean session" };
            ui.checkbox(&mut profile.clean_session, clean);
            ui.checkbox(&mut profile.auto_reconnect, "Auto-reconnect");
            let label = ui.label("Keepalive (s)");
            ui.add(egui::DragValue::new(&mut profile.keep_alive_secs).range(0..=65535)).labelled_by(label.id);
        });
        error_for(ui, profile, "client_id");
        if profile.version.is_v5() {
            super::profile_v5::mqtt5_section(ui, profile);
        }
        let mut has_will = profile.last_will.is_some();
        if ui.checkbox(&mut has_will, "Last will").changed() {
            profile.last_will = has_will.then(LastWillSettings::default);
        }
        if let Some(will) = &mut profile.last_will {
            ui.horizontal(|ui| {
                labelled_field(ui, "Will topic", &mut will.topic, 140.0);
                labelled_field(ui, "Will message", &mut will.message, 100.0);
            });
            ui.horizontal(|ui| {
                qos_picker(ui, "will-qos", &mut will.qos);
                ui.checkbox(&mut will.retain, "Will retain");
            });
            if profile.version.is_v5() {
                super::profile_v5::will_fields(ui, will);
            }
        }
        error_for(ui, profile, "last_will");
        error_for(ui, profile, "will_properties");
        for note in profile.v5_notes() {
            ui.weak(note);
        }
        if !profile.builtin_broker {
            transport_fields(ui, profile);
        }
        security_fields(ui, profile);
        error_for(ui, profile, "psk_identity");
        error_for(ui, profile, "psk_key");
        ui.horizontal(|ui| {
            if ui.button("Save profile").clicked() {
                intents.push(Intent::Profile(ProfileIntent::Save));
            }
            if ui.button("New profile").clicked() {
                intents.push(Intent::Profile(ProfileIntent::New));
            }
            if ui.button("Duplicate").clicked() {
                intents.push(Intent::Profile(ProfileIntent::Duplicate));
            }
            if ui.button("Delete").clicked() {
                intents.push(Intent::Profile(ProfileIntent::Delete));
            }
        });
        let running = self_test.is_some_and(SelfTest::running);
        let test = ui.add_enabled(!running, egui::Button::new("Test connection"));
        if test
            .on_hover_text(
                "Connect step by step (DNS, TCP, TLS, CONNECT, SUBSCRIBE, a round trip) and say which step fails",
            )
            .clicked()
        {
            intents.push(Intent::Tool(ToolIntent::TestConnection));
        }
        if let Some(self_test) = self_test {
            self_test_report(ui, self_test);
        }
        ui.separator();
        intents.extend(transfer_fields(ui, transfer));
    });
    intents
}

/// The self-test's steps, one line each, and its outcome.
fn self_test_report(ui: &mut egui::Ui, self_test: &SelfTest) {
    const GREEN: egui::Color32 = egui::Color32::from_rgb(0x2c, 0xa0, 0x2c);
    for report in &self_test.steps {
        let ms = report.elapsed.as_secs_f64() * 1000.0;
        match &report.outcome {
            Ok(text) => ui.colored_label(GREEN, format!("ok: {}: {text} ({ms:.1} ms)", report.step.name())),
            Err(text) => ui.colored_label(RED, format!("FAILED: {}: {text}", report.step.name())),
        };
    }
    let color = match &self_test.outcome {
        None => ui.visuals().text_color(),
        Some(Ok(())) => GREEN,
        Some(Err(_)) => RED,
    };
    ui.colored_label(color, self_test.summary());
}

/// The protocol version: 3.1, 3.1.1 or 5 (which shows the MQTT 5 section).
fn version_picker(ui: &mut egui::Ui, profile: &mut Profile) {
    ui.horizontal(|ui| {
        // Each radio button is named by its version alone ("3.1", "3.1.1", "5").
        ui.label("MQTT version");
        for version in [MqttVersion::V31, MqttVersion::V311, MqttVersion::V5] {
            ui.radio_value(&mut profile.version, version, version.label());
        }
    });
}

/// TCP or WebSocket; for WebSocket the request path and the URL it makes (ws:// or wss://,
/// which follows the security chosen below).
fn transport_fields(ui: &mut egui::Ui, profile: &mut Profile) {
    ui.horizontal(|ui| {
        // Each radio button is named by its transport alone ("TCP", "WebSocket").
        ui.label("Transport");
        for transport in Transport::ALL {
            ui.radio_value(&mut profile.transport, transport, transport.label());
        }
    });
    if profile.transport == Transport::WebSocket {
        ui.horizontal(|ui| {
            let width = (ui.available_width() - 50.0).max(MIN_FIELD);
            labelled_field(ui, "Path", &mut profile.websocket_path, width)
                .on_hover_text("The WebSocket request path: often /mqtt (HiveMQ, EMQX); Mosquitto accepts any");
        });
        error_for(ui, profile, "websocket_path");
        ui.add(egui::Label::new(egui::RichText::new(profile.url()).weak()).truncate());
    }
}

/// Transport security, with each mode's fields.
fn security_fields(ui: &mut egui::Ui, profile: &mut Profile) {
    ui.horizontal(|ui| {
        let label = ui.label("Security");
        let mut index = profile.tls.index();
        egui::ComboBox::new("tls-mode", "")
            .selected_text(TlsMode::NAMES[index])
            .show_ui(ui, |ui| {
                for (i, name) in TlsMode::NAMES.iter().enumerate() {
                    ui.selectable_value(&mut index, i, *name);
                }
            })
            .response
            .labelled_by(label.id);
        if index != profile.tls.index() {
            profile.tls = TlsMode::from_index(index);
        }
    });
    match &mut profile.tls {
        TlsMode::None | TlsMode::CaSigned => {}
        TlsMode::SelfSignedCa { ca_file } => {
            labelled_field(ui, "CA file", ca_file, 220.0);
        }
        TlsMode::ClientCertificate { ca_file, cert_file, key_file } => {
            labelled_field(ui, "CA file", ca_file, 220.0);
            labelled_field(ui, "Certificate file", cert_file, 220.0);
            labelled_field(ui, "Key file", key_file, 220.0);
        }
        TlsMode::Psk { identity, key_hex } => {
            ui.horizontal(|ui| {
                let width = ui.available_width() - 90.0;
                labelled_field(ui, "PSK identity", identity, width.max(MIN_FIELD));
            });
            secret_field(ui, "PSK key (hex)", "Show key", key_hex);
        }
    }
    if profile.tls != TlsMode::None {
        ui.horizontal(|ui| {
            let label = ui.label("TLS version");
            egui::ComboBox::new("tls-version", "")
                .selected_text(profile.tls_version.label())
                .show_ui(ui, |ui| {
                    for v in TlsVersion::ALL {
                        ui.selectable_value(&mut profile.tls_version, v, v.label());
                    }
                })
                .response
                .labelled_by(label.id);
        });
    }
    if matches!(profile.tls, TlsMode::CaSigned | TlsMode::SelfSignedCa { .. } | TlsMode::ClientCertificate { .. }) {
        ui.horizontal(|ui| {
            ui.checkbox(&mut profile.tls_skip_verify, "Do not verify the broker's certificate (unsafe)");
            if profile.tls_skip_verify {
                ui.colored_label(RED, "UNSAFE: anyone between you and the broker can read and change the traffic.");
            }
        });
    }
    error_for(ui, profile, "tls_files");
}

/// The file field, the secrets switch, and export / import.
fn transfer_fields(ui: &mut egui::Ui, transfer: &mut TransferForm) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.horizontal(|ui| {
        labelled_field(ui, "File", &mut transfer.path, 170.0);
        if ui.button("Choose file…").clicked() {
            intents.push(Intent::ChooseFile(super::FileTarget::Profile));
        }
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut transfer.include_secrets, "Include password and PSK key");
    });
    ui.horizontal(|ui| {
        let has_path = !transfer.path.trim().is_empty();
        if ui.add_enabled(has_path, egui::Button::new("Export")).clicked() {
            intents.push(Intent::Profile(ProfileIntent::Export));
        }
        let import = ui.add_enabled(has_path, egui::Button::new("Import")).on_hover_text(
            "A profile of ours, or every profile of MQTT.fx's mqttfx-config.xml or an MQTTX export (.json)",
        );
        if import.clicked() {
            intents.push(Intent::Profile(ProfileIntent::Import));
        }
    });
    intents
}
