//! The Replay section: recorded messages (a JSON-lines file, or a time range and topic filter of
//! an open connection's history) published again into the selected profile's broker or an open
//! connection's, at the recorded pace, faster or without pauses, once or in a loop, with a topic
//! rewrite and QoS / retain overrides; Start / Stop and how far it is.

use crate::connection::Qos;
use crate::replay::Progress;

/// The section's fields, kept between frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayForm {
    /// A JSON-lines file (true) or a history range (false).
    pub from_file: bool,
    pub file: String,
    /// Whose history: an open connection's session id; `None`: the connection on view.
    pub source: Option<u64>,
    pub filter: String,
    /// Local time, "YYYY-MM-DD HH:MM[:SS]"; empty: from the first message.
    pub from: String,
    /// Local time; empty: until now.
    pub to: String,
    /// Whose broker: an open connection's session id; `None`: the selected profile's.
    pub target: Option<u64>,
    /// A factor: 1 as recorded, 10 ten times faster, 0 no pauses.
    pub speed: String,
    pub looping: bool,
    pub remove_prefix: String,
    pub add_prefix: String,
    /// `None`: as recorded.
    pub qos: Option<Qos>,
    /// `None`: as recorded.
    pub retain: Option<bool>,
}

impl Default for ReplayForm {
    fn default() -> Self {
        Self {
            from_file: true,
            file: String::new(),
            source: None,
            filter: "#".into(),
            from: String::new(),
            to: String::new(),
            target: None,
            speed: "1".into(),
            looping: false,
            remove_prefix: String::new(),
            add_prefix: String::new(),
            qos: None,
            retain: None,
        }
    }
}

/// What the section asks of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayAsk {
    Start,
    Stop,
    /// A file dialog for the recording.
    ChooseFile,
}

/// What the section shows of a replay: whether one runs, its progress, its last words.
#[derive(Debug, Clone, Copy)]
pub struct ReplayShown<'a> {
    pub running: bool,
    pub progress: Option<Progress>,
    pub status: &'a str,
}

/// A picker of open connections with a default entry for `None`.
fn connection_picker(
    ui: &mut egui::Ui,
    id: &str,
    label: &str,
    value: &mut Option<u64>,
    none: &str,
    open: &[(u64, String)],
) {
    if value.is_some_and(|id| !open.iter().any(|(t, _)| *t == id)) {
        *value = None;
    }
    let name = |v: Option<u64>| {
        v.and_then(|id| open.iter().find(|(t, _)| *t == id)).map_or_else(|| none.to_owned(), |(_, n)| n.clone())
    };
    let label = ui.label(label);
    egui::ComboBox::new(id, "")
        .selected_text(name(*value))
        .show_ui(ui, |ui| {
            ui.selectable_value(value, None, none);
            for (id, n) in open {
                ui.selectable_value(value, Some(*id), n);
            }
        })
        .response
        .labelled_by(label.id);
}

/// A field on a row of its own, as wide as the sidebar allows.
fn wide_field(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str) {
    let label = ui.label(label);
    ui.add(egui::TextEdit::singleline(text).hint_text(hint).desired_width(ui.available_width().min(260.0)))
        .labelled_by(label.id);
}

fn source_ui(ui: &mut egui::Ui, form: &mut ReplayForm, open: &[(u64, String)], ask: &mut Option<ReplayAsk>) {
    ui.horizontal_wrapped(|ui| {
        ui.radio_value(&mut form.from_file, true, "JSON-lines file");
        ui.radio_value(&mut form.from_file, false, "History range");
    });
    if form.from_file {
        let label = ui.label("Recording file");
        ui.horizontal(|ui| {
            let width = (ui.available_width() - 80.0).max(80.0);
            ui.add(egui::TextEdit::singleline(&mut form.file).hint_text("messages.jsonl").desired_width(width))
                .labelled_by(label.id);
            if ui.button("Choose…").on_hover_text("A file from \"Export JSON lines\"").clicked() {
                *ask = Some(ReplayAsk::ChooseFile);
            }
        });
    } else {
        connection_picker(ui, "replay-source", "History of", &mut form.source, "The connection on view", open);
        wide_field(ui, "Topic filter", &mut form.filter, "#");
        wide_field(ui, "From (local time)", &mut form.from, "YYYY-MM-DD HH:MM, empty: the first");
        wide_field(ui, "To (local time)", &mut form.to, "YYYY-MM-DD HH:MM, empty: now");
    }
}

fn options_ui(ui: &mut egui::Ui, form: &mut ReplayForm, open: &[(u64, String)]) {
    connection_picker(ui, "replay-target", "Into", &mut form.target, "The selected profile's broker", open);
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Speed");
        ui.add(egui::TextEdit::singleline(&mut form.speed).desired_width(40.0))
            .labelled_by(label.id)
            .on_hover_text("1 as recorded, 10 ten times faster, 0 without pauses");
        ui.checkbox(&mut form.looping, "Loop until stopped");
    });
    wide_field(ui, "Remove prefix", &mut form.remove_prefix, "site-a/");
    wide_field(ui, "Add prefix", &mut form.add_prefix, "replay/");
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("QoS");
        let qos_text = |q: Option<Qos>| q.map_or_else(|| "as recorded".to_owned(), |q| q.level().to_string());
        egui::ComboBox::new("replay-qos", "")
            .selected_text(qos_text(form.qos))
            .width(90.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut form.qos, None, qos_text(None));
                for q in Qos::ALL {
                    ui.selectable_value(&mut form.qos, Some(q), qos_text(Some(q)));
                }
            })
            .response
            .labelled_by(label.id);
        let label = ui.label("Retain flag");
        let retain_text = |r: Option<bool>| match r {
            None => "as recorded",
            Some(true) => "set",
            Some(false) => "cleared",
        };
        egui::ComboBox::new("replay-retain", "")
            .selected_text(retain_text(form.retain))
            .width(90.0)
            .show_ui(ui, |ui| {
                for r in [None, Some(true), Some(false)] {
                    ui.selectable_value(&mut form.retain, r, retain_text(r));
                }
            })
            .response
            .labelled_by(label.id);
    });
}

/// Draws the section; `open` lists the open connections (session id, label).
pub fn replay_panel(
    ui: &mut egui::Ui,
    form: &mut ReplayForm,
    shown: ReplayShown<'_>,
    open: &[(u64, String)],
) -> Option<ReplayAsk> {
    let mut ask = None;
    ui.label("Publishes recorded messages again, on their recorded timing.");
    ui.add_enabled_ui(!shown.running, |ui| {
        source_ui(ui, form, open, &mut ask);
        options_ui(ui, form, open);
    });
    ui.horizontal_wrapped(|ui| {
        if shown.running {
            if ui.button("Stop replay").clicked() {
                ask = Some(ReplayAsk::Stop);
            }
        } else if ui.button("Start replay").clicked() {
            ask = Some(ReplayAsk::Start);
        }
        if let Some(p) = shown.progress {
            let total = p.total.map_or(String::new(), |t| format!(" of {t}"));
            let round = if p.round > 1 { format!(", round {}", p.round) } else { String::new() };
            ui.label(format!("sent {}{total}{round}", p.sent));
        }
    });
    if !shown.status.is_empty() {
        ui.add(egui::Label::new(egui::RichText::new(shown.status).weak()).wrap());
    }
    ask
}
