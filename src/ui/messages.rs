//! The received messages, newest first; only visible rows are laid out (`show_rows`), so a
//! million messages scroll as smoothly as ten. Below the messages held in memory come the older
//! ones stored in history, read a page at a time as they scroll into view.

use crate::connection::ReceivedMessage;
use crate::model::export::ExportFormat;
use crate::model::payload::{DETAIL_LIMIT, Decoder, decode, preview};
use crate::model::{MessageStore, StoredRows, Subscriptions};
use crate::schema::{Catalogue, Check};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessagesView {
    pub search: String,
    /// The sequence number of the message shown in the detail pane.
    pub selected: Option<u64>,
    /// A stored (older) message shown in the detail pane.
    pub selected_stored: Option<ReceivedMessage>,
    pub decoder: Decoder,
}

/// The export buttons: CSV and JSON for spreadsheets and reports, JSON lines for a replay.
const EXPORTS: [(ExportFormat, &str); 3] = [
    (ExportFormat::Csv, "Export CSV"),
    (ExportFormat::Json, "Export JSON"),
    (ExportFormat::JsonLines, "Export JSON lines"),
];

/// Characters of a payload shown in its row.
const ROW_PREVIEW: usize = 120;

/// What the list asks of the app.
#[derive(Debug, Default)]
pub struct MessagesOutput {
    /// Pages of stored rows that came into view and must be read.
    pub missing: Vec<u64>,
    /// Export the listed messages.
    pub export: Option<ExportFormat>,
    /// "Reply" was clicked on a message that carries a Response Topic (MQTT 5).
    pub reply: Option<ReceivedMessage>,
}

/// Draws the list; `progress` is (done, total) of an export under way.
pub fn messages_panel(
    ui: &mut egui::Ui,
    view: &mut MessagesView,
    messages: &mut MessageStore,
    stored: &StoredRows,
    subscriptions: &Subscriptions,
    progress: Option<(u64, u64)>,
) -> MessagesOutput {
    let mut output = MessagesOutput::default();
    // Wrapped: on a narrow screen the export buttons go to a second line, never out of view.
    ui.horizontal_wrapped(|ui| {
        ui.heading("Messages");
        super::labelled_field(ui, "Search", &mut view.search, 180.0);
        ui.label(format!("{} recent, {} older in history", messages.len(), stored.len()));
        match progress {
            Some((done, total)) => {
                // Counts far below 2^24: exact enough for a bar.
                #[allow(clippy::cast_precision_loss)]
                let fraction = if total == 0 { 1.0 } else { done as f32 / total as f32 };
                ui.add(
                    egui::ProgressBar::new(fraction).desired_width(160.0).text(format!("exporting {done} of {total}")),
                );
            }
            None => {
                for (format, name) in EXPORTS {
                    if ui
                        .button(name)
                        .on_hover_text("The listed messages, oldest first, into the reports folder")
                        .clicked()
                    {
                        output.export = Some(format);
                    }
                }
            }
        }
    });
    // With no search and nothing muted every message shows: index the store directly instead of
    // building a list of a million indices whenever one arrives.
    let direct = view.search.is_empty() && !subscriptions.list.iter().any(|s| s.muted);
    let indices: Vec<usize> =
        if direct { Vec::new() } else { messages.search(&view.search, |m| subscriptions.is_hidden(&m.topic)).to_vec() };
    let shown = if direct { messages.len() } else { indices.len() };
    let index = |row: usize| if direct { row } else { indices[row] };
    let detail = view.selected.and_then(|seq| messages.by_seq(seq)).or(view.selected_stored.as_ref()).cloned();
    if let Some(m) = detail {
        egui::Panel::bottom("message-detail").resizable(true).default_size(180.0).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong(&m.topic);
                for d in Decoder::ALL {
                    ui.radio_value(&mut view.decoder, d, d.name());
                }
                if let Some(topic) = &m.properties.response_topic
                    && ui
                        .button("Reply")
                        .on_hover_text(format!("Answer in the publish form: to {topic}, with its correlation data"))
                        .clicked()
                {
                    output.reply = Some(m.clone());
                }
                if ui.small_button("Close").clicked() {
                    view.selected = None;
                    view.selected_stored = None;
                }
            });
            super::properties_view(ui, "message-detail", &m.properties);
            if let Check::Invalid(errors) = Catalogue::get().check(&m.topic, &m.payload) {
                for e in errors {
                    ui.colored_label(super::BROKEN, format!("Breaks the schema: {e}"));
                }
            }
            let shown = &m.payload[..m.payload.len().min(DETAIL_LIMIT)];
            if shown.len() < m.payload.len() {
                ui.label(format!(
                    "Showing the first {} of {} bytes; export the message for all of it.",
                    shown.len(),
                    m.payload.len()
                ));
            }
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.monospace(decode(view.decoder, shown));
            });
        });
    }
    let row_height = ui.text_style_height(&egui::TextStyle::Body);
    let older = usize::try_from(stored.len()).unwrap_or(usize::MAX);
    let missing = &mut output.missing;
    egui::ScrollArea::vertical().auto_shrink([false, false]).show_rows(ui, row_height, shown + older, |ui, rows| {
        for i in rows {
            if i < shown {
                let Some(m) = messages.get(index(i)) else { continue };
                let seq = messages.seq_of(index(i));
                if row(ui, m, subscriptions, view.selected == Some(seq)) {
                    view.selected = Some(seq);
                    view.selected_stored = None;
                }
            } else {
                match stored.row((i - shown) as u64, missing) {
                    Some(m) => {
                        let selected = view.selected_stored.as_ref() == Some(m);
                        if row(ui, m, subscriptions, selected) {
                            view.selected = None;
                            view.selected_stored = Some(m.clone());
                        }
                    }
                    None => {
                        ui.weak("… reading history");
                    }
                }
            }
        }
    });
    output
}

/// One message as a line; true when clicked.
fn row(ui: &mut egui::Ui, m: &ReceivedMessage, subscriptions: &Subscriptions, selected: bool) -> bool {
    let color = subscriptions.first_match(&m.topic).map_or([0x80, 0x80, 0x80], |s| s.color);
    let at = chrono::DateTime::<chrono::Local>::from(m.at);
    // Older days (from history) show their date.
    let format = if at.date_naive() == chrono::Local::now().date_naive() { "%H:%M:%S%.3f" } else { "%d %b %H:%M:%S" };
    let time = at.format(format).to_string();
    ui.horizontal(|ui| {
        super::color_swatch(ui, color);
        ui.monospace(time);
        let text = format!(
            "{}  {}  (QoS {}{}{}, {} bytes)",
            m.topic,
            preview(&m.payload, ROW_PREVIEW),
            m.qos.level(),
            if m.retain { ", retained" } else { "" },
            if m.dup { ", dup" } else { "" },
            m.payload.len()
        );
        let clicked = ui.selectable_label(selected, text).clicked();
        if !m.properties.is_empty() {
            ui.weak(m.properties.summary());
        }
        // A course message that breaks its schema is flagged (details in the detail pane).
        if let Check::Invalid(errors) = Catalogue::get().check(&m.topic, &m.payload) {
            ui.colored_label(super::BROKEN, format!("breaks the schema ({} rule(s))", errors.len()));
        }
        clicked
    })
    .inner
}
