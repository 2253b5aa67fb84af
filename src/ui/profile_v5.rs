//! The profile editor's MQTT 5 parts: the CONNECT properties in a collapsible "MQTT 5" section,
//! and the last will's properties. The profile is edited in place; numbers and correlation data
//! are typed as text, kept in egui's memory while they do not read (so a half-typed value is
//! not lost) and named when wrong.

use bytes::Bytes;

use super::{RED, error_for};
use super::{labelled_field, user_property_rows};
use crate::mqtt::{PayloadFormat, PublishProperties, parse_hex, to_hex};
use crate::profile::{LastWillSettings, Profile, SESSION_NEVER_EXPIRES};

/// The text typed into a field and the value it was last in step with; when the profile
/// changes under it (another profile selected), the text follows the profile again.
#[derive(Clone, Default)]
struct Typed<T> {
    text: String,
    value: T,
}

/// A whole number of 0 to `max` typed as text; empty is `None`. `value` changes only when the
/// text reads; true when it did.
fn number_field(ui: &mut egui::Ui, label: &str, value: &mut Option<u64>, max: u64, width: f32) -> bool {
    let id = ui.make_persistent_id(("v5-number", label));
    let mut typed = ui
        .data(|d| d.get_temp::<Typed<Option<u64>>>(id))
        .filter(|t| t.value == *value)
        .unwrap_or_else(|| Typed { text: value.map(|v| v.to_string()).unwrap_or_default(), value: *value });
    let edited = labelled_field(ui, label, &mut typed.text, width).changed();
    let text = typed.text.trim();
    let read =
        if text.is_empty() { Ok(None) } else { text.parse::<u64>().ok().filter(|n| *n <= max).map(Some).ok_or(()) };
    let mut changed = false;
    match read {
        Ok(new) if edited && new != *value => {
            typed.value = new;
            *value = new;
            changed = true;
        }
        Ok(_) => {}
        Err(()) => {
            ui.colored_label(RED, format!("{label}: {text:?} is not a whole number of 0 to {max}"));
        }
    }
    ui.data_mut(|d| d.insert_temp(id, typed));
    changed
}

/// [`number_field`] for a `u32` where empty means 0.
fn u32_field(ui: &mut egui::Ui, label: &str, value: &mut u32, max: u32, width: f32) {
    let mut n = Some(u64::from(*value));
    if number_field(ui, label, &mut n, u64::from(max), width) {
        *value = n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    }
}

/// [`number_field`] for an optional `u32`.
fn optional_u32_field(ui: &mut egui::Ui, label: &str, value: &mut Option<u32>, width: f32) {
    let mut n = value.map(u64::from);
    if number_field(ui, label, &mut n, u64::from(u32::MAX), width) {
        *value = n.and_then(|n| u32::try_from(n).ok());
    }
}

/// A text field for an optional string: empty is `None`.
fn optional_text(ui: &mut egui::Ui, label: &str, value: &mut Option<String>, width: f32) {
    let mut text = value.clone().unwrap_or_default();
    if labelled_field(ui, label, &mut text, width).changed() {
        *value = (!text.is_empty()).then_some(text);
    }
}

/// The CONNECT's MQTT 5 properties, shown when the profile speaks MQTT 5.
pub(super) fn mqtt5_section(ui: &mut egui::Ui, profile: &mut Profile) {
    egui::CollapsingHeader::new("MQTT 5").id_salt("profile-mqtt5").default_open(true).show(ui, |ui| {
        let v5 = &mut profile.mqtt5;
        let mut never = v5.session_expiry == SESSION_NEVER_EXPIRES;
        ui.horizontal_wrapped(|ui| {
            if !never {
                u32_field(ui, "Session expiry (s)", &mut v5.session_expiry, SESSION_NEVER_EXPIRES - 1, 80.0);
            }
            let tick = ui.checkbox(&mut never, "Never expire").on_hover_text("Session Expiry Interval 0xFFFFFFFF");
            if tick.changed() {
                v5.session_expiry = if never { SESSION_NEVER_EXPIRES } else { 0 };
            }
        });
        ui.weak(format!("{}.", capitalised(&v5.session_expiry_text())));
        ui.horizontal_wrapped(|ui| {
            let mut n = v5.receive_maximum.map(u64::from);
            if number_field(ui, "Receive maximum", &mut n, u64::from(u16::MAX), 60.0) {
                v5.receive_maximum = n.and_then(|n| u16::try_from(n).ok());
            }
            let mut n = Some(u64::from(v5.topic_alias_maximum));
            if number_field(ui, "Topic alias maximum", &mut n, u64::from(u16::MAX), 50.0) {
                v5.topic_alias_maximum = n.and_then(|n| u16::try_from(n).ok()).unwrap_or(0);
            }
        });
        ui.horizontal_wrapped(|ui| {
            optional_u32_field(ui, "Maximum packet size (bytes)", &mut v5.maximum_packet_size, 90.0);
        });
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut v5.request_response_information, "Request response information")
                .on_hover_text("Ask the broker for a topic prefix to use for responses (in the CONNACK)");
            ui.checkbox(&mut v5.request_problem_information, "Request problem information")
                .on_hover_text("Off: the broker leaves reason strings out of most error answers");
        });
        ui.label("User properties (sent in CONNECT)");
        user_property_rows(ui, "", &mut v5.user_properties);
        for field in ["receive_maximum", "maximum_packet_size", "user_properties"] {
            error_for(ui, profile, field);
        }
    });
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The will's MQTT 5 fields, inside the last-will part of the editor.
pub(super) fn will_fields(ui: &mut egui::Ui, will: &mut LastWillSettings) {
    ui.horizontal_wrapped(|ui| {
        u32_field(ui, "Will delay (s)", &mut will.delay_secs, u32::MAX, 60.0);
        optional_u32_field(ui, "Will message expiry (s)", &mut will.properties.message_expiry, 60.0);
    });
    let p = &mut will.properties;
    ui.horizontal_wrapped(|ui| {
        payload_format_picker(ui, &mut p.payload_format);
        optional_text(ui, "Will content type", &mut p.content_type, 100.0);
    });
    ui.horizontal_wrapped(|ui| {
        optional_text(ui, "Will response topic", &mut p.response_topic, 140.0);
    });
    correlation_field(ui, p);
    ui.label("Will user properties");
    user_property_rows(ui, "Will ", &mut p.user_properties);
}

fn payload_format_picker(ui: &mut egui::Ui, format: &mut Option<PayloadFormat>) {
    let label = ui.label("Will payload format");
    let name = |f: Option<PayloadFormat>| match f {
        None => "not sent",
        Some(PayloadFormat::Bytes) => "0: bytes",
        Some(PayloadFormat::Utf8) => "1: UTF-8 text",
    };
    egui::ComboBox::new("will-payload-format", "")
        .selected_text(name(*format))
        .show_ui(ui, |ui| {
            for f in [None, Some(PayloadFormat::Bytes), Some(PayloadFormat::Utf8)] {
                ui.selectable_value(format, f, name(f));
            }
        })
        .response
        .labelled_by(label.id);
}

/// Correlation data typed as text, or as hex digits when "hex" is ticked (binary data).
fn correlation_field(ui: &mut egui::Ui, p: &mut PublishProperties) {
    let id = ui.make_persistent_id("will-correlation");
    let current: Option<Vec<u8>> = p.correlation_data.as_deref().map(<[u8]>::to_vec);
    let stored = ui.data(|d| d.get_temp::<(Typed<Option<Vec<u8>>>, bool)>(id)).filter(|(t, _)| t.value == current);
    let (mut t, mut hex) = stored.unwrap_or_else(|| {
        let (text, hex) = match &current {
            Some(data) => match std::str::from_utf8(data) {
                Ok(text) if !text.chars().any(char::is_control) => (text.to_owned(), false),
                _ => (to_hex(data), true),
            },
            None => (String::new(), false),
        };
        (Typed { text, value: current.clone() }, hex)
    });
    let mut problem = None;
    ui.horizontal_wrapped(|ui| {
        let edited = labelled_field(ui, "Will correlation data", &mut t.text, 120.0).changed();
        let switched = ui.checkbox(&mut hex, "hex").on_hover_text("Typed as hex digits (binary data)").changed();
        let read = if t.text.is_empty() {
            Ok(None)
        } else if hex {
            parse_hex(&t.text).map(Some)
        } else {
            Ok(Some(t.text.clone().into_bytes()))
        };
        match read {
            Ok(bytes) if edited || switched => {
                p.correlation_data = bytes.clone().map(Bytes::from);
                t.value = bytes;
            }
            Ok(_) => {}
            Err(e) => problem = Some(format!("Will correlation data: {e}")),
        }
    });
    if let Some(problem) = problem {
        ui.colored_label(RED, problem);
    }
    ui.data_mut(|d| d.insert_temp(id, (t, hex)));
}
