//! The received messages, newest first; only visible rows are laid out (`show_rows`), so a
//! million messages scroll as smoothly as ten.

use crate::model::payload::{Decoder, decode};
use crate::model::{MessageStore, Subscriptions};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessagesView {
    pub search: String,
    /// The sequence number of the message shown in the detail pane.
    pub selected: Option<u64>,
    pub decoder: Decoder,
}

/// A payload as text: UTF-8 as is, anything else as hex, never a panic.
pub fn payload_text(payload: &[u8]) -> String {
    match std::str::from_utf8(payload) {
        Ok(s) => s.to_owned(),
        Err(_) => payload.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "),
    }
}

pub fn messages_panel(
    ui: &mut egui::Ui,
    view: &mut MessagesView,
    messages: &mut MessageStore,
    subscriptions: &Subscriptions,
) {
    ui.horizontal(|ui| {
        ui.heading("Messages");
        super::labelled_field(ui, "Search", &mut view.search, 180.0);
        ui.label(format!("{} received", messages.total()));
    });
    // With no search and nothing muted every message shows: index the store directly instead of
    // building a list of a million indices whenever one arrives.
    let direct = view.search.is_empty() && !subscriptions.list.iter().any(|s| s.muted);
    let indices: Vec<usize> =
        if direct { Vec::new() } else { messages.search(&view.search, |m| subscriptions.is_hidden(&m.topic)).to_vec() };
    let shown = if direct { messages.len() } else { indices.len() };
    let index = |row: usize| if direct { row } else { indices[row] };
    if let Some(m) = view.selected.and_then(|seq| messages.by_seq(seq)) {
        egui::Panel::bottom("message-detail").resizable(true).default_size(180.0).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong(&m.topic);
                for d in Decoder::ALL {
                    ui.radio_value(&mut view.decoder, d, d.name());
                }
                if ui.small_button("Close").clicked() {
                    view.selected = None;
                }
            });
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.monospace(decode(view.decoder, &m.payload));
            });
        });
    }
    let row_height = ui.text_style_height(&egui::TextStyle::Body);
    egui::ScrollArea::vertical().auto_shrink([false, false]).show_rows(ui, row_height, shown, |ui, rows| {
        for i in rows {
            let Some(m) = messages.get(index(i)) else { continue };
            let color = subscriptions.first_match(&m.topic).map_or([0x80, 0x80, 0x80], |s| s.color);
            let time = chrono::DateTime::<chrono::Local>::from(m.at).format("%H:%M:%S%.3f").to_string();
            let seq = messages.seq_of(index(i));
            ui.horizontal(|ui| {
                super::color_swatch(ui, color);
                ui.monospace(time);
                let text = format!(
                    "{}  {}  (QoS {}{}{}, {} bytes)",
                    m.topic,
                    payload_text(&m.payload),
                    m.qos.level(),
                    if m.retain { ", retained" } else { "" },
                    if m.dup { ", dup" } else { "" },
                    m.payload.len()
                );
                if ui.selectable_label(view.selected == Some(seq), text).clicked() {
                    view.selected = Some(seq);
                }
            });
        }
    });
}
