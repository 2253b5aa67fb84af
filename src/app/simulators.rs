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
        let settings = match self.profile().connect_settings(self.builtin_port()) {
            Ok(s) => s,
            Err(e) => {
                self.model.note(format!("{}: {e}", device.name()));
                return;
            }
        };
        let speed = if self.sim_form.time_lapse { TIME_LAPSE } else { 1.0 };
        let options = SimOptions { speed, count: None };
        let sim = Simulator::start(&self.runtime, device, settings, options, self.repaint.clone());
        self.simulators[index(device)] = Some(sim);
        self.model.note(format!("{} started against {}.", device.name(), self.profile().name));
    }

    pub(super) fn stop_simulator(&mut self, device: Device) {
        if let Some(sim) = &mut self.simulators[index(device)] {
            sim.stop();
        }
    }

    pub fn simulator_running(&self, device: Device) -> bool {
        self.simulators[index(device)].is_some()
    }

    /// Applies what the simulators report.
    pub(super) fn drain_simulators(&mut self) {
        for (i, device) in DEVICES.into_iter().enumerate() {
            while let Some(event) = self.simulators[i].as_ref().and_then(Simulator::try_event) {
                match event {
                    SimEvent::Status(text) => self.sim_status[i] = text,
                    SimEvent::Log(text) => {
                        self.sim_status[i].clone_from(&text);
                        self.model.note(text);
                    }
                    SimEvent::Published { topic, payload } => {
                        self.sim_status[i] = format!("{}: sent {topic} {payload}", device.name());
                    }
                    SimEvent::Ended(text) => {
                        self.sim_status[i].clone_from(&text);
                        self.model.note(text);
                        self.simulators[i] = None;
                    }
                }
            }
        }
    }
}
