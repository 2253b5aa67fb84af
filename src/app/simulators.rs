//! The app's simulated devices: started against the selected profile's broker (the built-in one
//! by default), their events drained with the others, what they last did shown in their section.

use super::App;
use crate::simulate::{Device, SimEvent, SimOptions, Simulator, TIME_LAPSE};
use crate::ui::DEVICES;

fn index(device: Device) -> usize {
    DEVICES.iter().position(|d| *d == device).unwrap_or(0)
}

impl App {
    pub(super) fn start_simulator(&mut self, device: Device) {
        if !self.apply_port() {
            return;
        }
        let settings = match self.profiles.current().connect_settings(self.builtin.port()) {
            Ok(s) => s,
            Err(e) => {
                self.session.model.note(format!("{}: {e}", device.name()));
                return;
            }
        };
        let speed = if self.tools.form.time_lapse { TIME_LAPSE } else { 1.0 };
        let options = SimOptions { speed, count: None };
        let sim = Simulator::start(&self.io.runtime, device, settings, options, self.io.repaint.clone());
        self.tools.simulators[index(device)] = Some(sim);
        let name = &self.profiles.current().name;
        self.session.model.note(format!("{} started against {name}.", device.name()));
    }

    pub(super) fn stop_simulator(&mut self, device: Device) {
        if let Some(sim) = &mut self.tools.simulators[index(device)] {
            sim.stop();
        }
    }

    /// Whether the simulated `device` runs (test API: its section says so on screen too).
    pub fn simulator_running(&self, device: Device) -> bool {
        self.tools.simulators[index(device)].is_some()
    }

    /// Applies what the simulators report.
    pub(super) fn drain_simulators(&mut self) {
        for (i, device) in DEVICES.into_iter().enumerate() {
            let tools = &mut self.tools;
            while let Some(event) = tools.simulators[i].as_ref().and_then(Simulator::try_event) {
                match event {
                    SimEvent::Status(text) => tools.status[i] = text,
                    SimEvent::Log(text) => {
                        tools.status[i].clone_from(&text);
                        self.session.model.note(text);
                    }
                    SimEvent::Published { topic, payload } => {
                        tools.status[i] = format!("{}: sent {topic} {payload}", device.name());
                    }
                    SimEvent::Ended(text) => {
                        tools.status[i].clone_from(&text);
                        self.session.model.note(text);
                        tools.simulators[i] = None;
                    }
                }
            }
        }
    }
}
