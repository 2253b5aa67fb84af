//! The broker status section: the broker's `$SYS` figures, after one click subscribes to them,
//! and the built-in broker's bridges, if its config has any.
//! The figures feed this panel only: the message list and the history show `$SYS` messages when
//! the user subscribes to a `$SYS` filter in the subscribe panel.

use super::{ConnIntent, Intent, RED};
use crate::embedded::BridgeStatus;
use crate::model::SysStatus;

/// A bridge that is up, the connection bar's green.
const GREEN: egui::Color32 = egui::Color32::from_rgb(0x2c, 0xa0, 0x2c);

/// The section: `sys` and the Watch button for the broker on view, then `bridges` (the built-in
/// broker's, which run whichever connection is on view; nothing when there are none).
pub fn sys_panel(
    ui: &mut egui::Ui,
    sys: &SysStatus,
    watching: bool,
    connected: bool,
    bridges: &[BridgeStatus],
) -> Vec<Intent> {
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
    bridges_section(ui, bridges);
    intents
}

/// One block per bridge, in config order: its name and state in words (the colour only
/// repeats it), the remote broker's address, the messages it moved and, while it is down, why.
/// Every line wraps: the sidebar may be 220 points wide and an error is a sentence.
fn bridges_section(ui: &mut egui::Ui, bridges: &[BridgeStatus]) {
    if bridges.is_empty() {
        return;
    }
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        ui.strong("Bridges");
        ui.weak("of the built-in broker");
    })
    .response
    .on_hover_text("The connection sections of builtin-broker.conf in the profiles folder, read every 2 s");
    for bridge in bridges {
        ui.push_id(("bridge", &bridge.name), |ui| bridge_block(ui, bridge));
    }
}

fn bridge_block(ui: &mut egui::Ui, bridge: &BridgeStatus) {
    let (word, colour) = if bridge.connected { ("connected", GREEN) } else { ("disconnected", RED) };
    ui.horizontal_wrapped(|ui| {
        // A dot painted, not a glyph: egui's fonts have no "●".
        let (dot, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
        ui.painter().circle_filled(dot.center(), 4.0, colour);
        // One label, "name: state", so that a screen reader says whose state it is.
        let mut line = egui::text::LayoutJob::default();
        let style = ui.style();
        let strong = egui::TextFormat::simple(egui::TextStyle::Body.resolve(style), style.visuals.strong_text_color());
        line.append(&format!("{}: ", bridge.name), 0.0, strong);
        line.append(word, 0.0, egui::TextFormat::simple(egui::TextStyle::Body.resolve(style), colour));
        ui.add(egui::Label::new(line).wrap());
    });
    ui.indent("details", |ui| {
        let remote = bridge.remote.as_deref().unwrap_or("none tried yet");
        ui.add(egui::Label::new(format!("Remote: {remote}")).wrap());
        ui.add(egui::Label::new(format!("Messages sent {}, received {}", bridge.sent, bridge.received)).wrap());
        if !bridge.connected {
            let why = bridge.last_error.as_deref().unwrap_or("none yet (connecting)");
            ui.add(egui::Label::new(egui::RichText::new(format!("Last error: {why}")).color(RED)).wrap());
        }
    });
}
