//! The open connections, one row each: a colour swatch that marks the connection wherever its
//! data shows, its name ("Raspberry Pi #2"), its state in a word, its message count and a close
//! button. Clicking a row puts that connection on view.

use super::{ConnIntent, Intent};

/// One listed connection as the list shows it.
pub struct ConnRow {
    pub id: u64,
    pub label: String,
    /// "127.0.0.1:1883", in the row's tooltip.
    pub address: String,
    pub status: &'static str,
    pub status_colour: egui::Color32,
    /// The connection's colour (the same in screenshots' captions).
    pub colour: egui::Color32,
    /// Messages received since it was opened.
    pub messages: u64,
    pub shown: bool,
}

/// The list; returns Show / Close intents.
pub fn connections_list(ui: &mut egui::Ui, rows: &[ConnRow]) -> Vec<Intent> {
    let mut intents = Vec::new();
    for row in rows {
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 2.0, row.colour);
            let text = egui::RichText::new(&row.label);
            let text = if row.shown { text.strong() } else { text };
            let hover = format!("{} at {}: {} message(s) received", row.label, row.address, row.messages);
            // A long profile name is cut ("…", in full on hover), not allowed to widen the sidebar
            // and squeeze the tabs: the state, count and close button keep their room.
            let name_width = (ui.available_width() - 130.0).max(60.0);
            let name = ui.scope(|ui| {
                ui.set_max_width(name_width);
                ui.add(egui::Button::selectable(row.shown, text).truncate())
            });
            if name.inner.on_hover_text(hover).clicked() && !row.shown {
                intents.push(Intent::Connection(ConnIntent::Show(row.id)));
            }
            ui.colored_label(row.status_colour, row.status);
            ui.weak(row.messages.to_string());
            let close = ui.small_button("×");
            // Read out (and found by tests) as "Close <name>", not as "×".
            let name = format!("Close {}", row.label);
            close.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
            if close.on_hover_text("Disconnect it and remove it from the list").clicked() {
                intents.push(Intent::Connection(ConnIntent::Close(row.id)));
            }
        });
    }
    intents
}
