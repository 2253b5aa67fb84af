//! The Simulators section: start and stop the simulated PV plant and ESP32 lamp against the
//! selected profile's broker, in real time or as a time-lapse, and see what each last did.

use super::{Intent, ToolIntent};
use crate::simulate::Device;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimForm {
    /// A day in 10 minutes instead of real time.
    pub time_lapse: bool,
}

/// `running` and `status` are indexed like `DEVICES`.
pub const DEVICES: [Device; 2] = [Device::Pv, Device::Lamp];

pub fn simulators_panel(
    ui: &mut egui::Ui,
    form: &mut SimForm,
    running: [bool; 2],
    status: &[String; 2],
) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.label("Simulated devices connect to the selected profile's broker and speak the course's schema.");
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
