//! The broker status section: the broker's `$SYS` figures, after one click subscribes to them.
//! They feed this panel only: the message list and the history show `$SYS` messages when the
//! user subscribes to a `$SYS` filter in the subscribe panel.

use super::{ConnIntent, Intent};
use crate::model::SysStatus;

pub fn sys_panel(ui: &mut egui::Ui, sys: &SysStatus, watching: bool, connected: bool) -> Vec<Intent> {
    let mut intents = Vec::new();
    if !watching {
        let button = ui.add_enabled(connected, egui::Button::new("Watch $SYS/#"));
        if button
            .on_hover_text(
                "Subscribe to the broker's own figures (Mosquitto and the built-in broker); they show here, not in \
             the message list",
            )
            .clicked()
        {
            intents.push(Intent::Connection(ConnIntent::WatchSys));
        }
    }
    let figures = sys.figures();
    if figures.is_empty() {
        ui.weak(if watching { "Waiting for the broker's $SYS messages…" } else { "Not watching." });
    }
    egui::Grid::new("sys-figures").num_columns(2).striped(true).show(ui, |ui| {
        for (label, value) in figures {
            ui.label(label);
            ui.label(value);
            ui.end_row();
        }
    });
    intents
}
