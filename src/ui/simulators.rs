//! The Simulators section: start and stop the simulated PV plant and ESP32 lamp against the
//! selected profile's broker or any open connection's, in real time or as a time-lapse, and see
//! what each last did.

use super::{Intent, ToolIntent};
use crate::simulate::Device;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimForm {
    /// A day in 10 minutes instead of real time.
    pub time_lapse: bool,
    /// Whose broker they connect to: an open connection (its session id), or `None` for the
    /// selected profile's.
    pub target: Option<u64>,
}

/// `running` and `status` are indexed like `DEVICES`.
pub const DEVICES: [Device; 2] = [Device::Pv, Device::Lamp];

pub fn simulators_panel(
    ui: &mut egui::Ui,
    form: &mut SimForm,
    running: [bool; 2],
    status: &[String; 2],
    targets: &[(u64, String)],
) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.label("Simulated devices connect to a broker and speak the course's schema.");
    if form.target.is_some_and(|id| !targets.iter().any(|(t, _)| *t == id)) {
        form.target = None;
    }
    let name = |t: Option<u64>| {
        t.and_then(|id| targets.iter().find(|(t, _)| *t == id))
            .map_or("The selected profile's broker".to_owned(), |(_, n)| format!("{n}'s broker"))
    };
    ui.add_enabled_ui(!running.iter().any(|r| *r), |ui| {
        let label = ui.label("Broker");
        egui::ComboBox::new("sim-target", "")
            .selected_text(name(form.target))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut form.target, None, name(None));
                for (id, _) in targets {
                    ui.selectable_value(&mut form.target, Some(*id), name(Some(*id)));
                }
            })
            .response
            .labelled_by(label.id);
    });
    ui.add_enabled(
        !running.iter().any(|r| *r),
        egui::Checkbox::new(&mut form.time_lapse, "Time-lapse: a day in 10 minutes, from 06:00"),
    );
    for (i, device) in DEVICES.into_iter().enumerate() {
        ui.horizontal(|ui| {
            ui.strong(device.name());
            if running[i] {
                if ui.button(format!("Stop {}", device.name())).clicked() {
                    intents.push(Intent::Tool(ToolIntent::StopSimulator(device)));
                }
            } else if ui.button(format!("Start {}", device.name())).clicked() {
                intents.push(Intent::Tool(ToolIntent::StartSimulator(device)));
            }
        });
        if !status[i].is_empty() {
            ui.weak(&status[i]);
        }
    }
    intents
}
