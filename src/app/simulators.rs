//! The app's simulated devices: started against the selected profile's broker (the built-in one
//! by default) or an open connection's, their events drained with the others, what they last did
//! shown in their section and in the log of the connection on view.

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
        let target = self.tools.form.target.and_then(|id| self.sessions.index_of(id));
        let profile = match target.and_then(|i| self.sessions.list()[i].connection.as_ref()) {
            Some(c) => c.profile.clone(),
            None => self.profiles.current().clone(),
        };
        let settings = match profile.connect_settings(self.builtin.port()) {
            Ok(s) => s,
            Err(e) => {
                self.sessions.shown_mut().model.note(format!("{}: {e}", device.name()));
                return;
            }
        };
        let speed = if self.tools.form.time_lapse { TIME_LAPSE } else { 1.0 };
        let options = SimOptions { speed, count: None };
        let sim = Simulator::start(&self.io.runtime, device, settings, options, self.io.repaint.clone());
        self.tools.simulators[index(device)] = Some(sim);
        let name = target.map_or(profile.name, |i| self.sessions.list()[i].label());
        self.sessions.shown_mut().model.note(format!("{} started against {name}'s broker.", device.name()));
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
                        self.sessions.shown_mut().model.note(text);
                    }
                    SimEvent::Published { topic, payload } => {
                        tools.status[i] = format!("{}: sent {topic} {payload}", device.name());
                    }
                    SimEvent::Ended(text) => {
                        tools.status[i].clone_from(&text);
                        self.sessions.shown_mut().model.note(text);
                        tools.simulators[i] = None;
                    }
                }
            }
        }
    }
}
