//! The sidebar's tools: the simulated devices (PV plant, ESP32 lamp) and the connection
//! self-test, each run against the selected profile on the I/O runtime.

use super::{App, Background};
use crate::check::{self, CheckOptions};
use crate::model::SelfTest;
use crate::simulate::Simulator;
use crate::ui::{SimForm, ToolIntent};

/// The simulators, what each last did, and the last self-test.
#[derive(Default)]
pub(super) struct Tools {
    /// The simulated PV plant and ESP32 lamp, indexed like `ui::DEVICES`; `None` when stopped.
    pub simulators: [Option<Simulator>; 2],
    /// What each simulator last did, shown in its section (it outlives the simulator).
    pub status: [String; 2],
    /// The simulators' options (time-lapse).
    pub form: SimForm,
    /// The last connection self-test, running or done (its steps stay under its profile).
    pub self_test: Option<SelfTest>,
}

impl App {
    pub(super) fn apply_tool(&mut self, intent: ToolIntent) {
        match intent {
            ToolIntent::StartSimulator(device) => self.start_simulator(device),
            ToolIntent::StopSimulator(device) => self.stop_simulator(device),
            ToolIntent::TestConnection => self.test_connection(),
        }
    }

    /// Runs the self-test of the selected profile on the runtime; its steps come back through
    /// `Background` as they end.
    fn test_connection(&mut self) {
        if self.tools.self_test.as_ref().is_some_and(SelfTest::running) || !self.apply_port() {
            return;
        }
        let name = self.profiles.current().name.clone();
        let settings = match self.profiles.current().connect_settings(self.builtin.port()) {
            Ok(settings) => settings,
            Err(reason) => {
                self.tools.self_test = Some(SelfTest::not_started(&name, reason));
                return;
            }
        };
        self.tools.self_test = Some(SelfTest::started(&name));
        let report = self.io.reporter();
        self.io.runtime.spawn(async move {
            let step = report.clone();
            let result =
                check::run(&settings, &CheckOptions::default(), move |s| step(Background::SelfTestStep(s))).await;
            report(Background::SelfTestDone(result));
        });
    }

    /// A step of the self-test ended, or the whole test.
    pub(super) fn self_test_step(&mut self, step: Background) {
        let Some(t) = &mut self.tools.self_test else { return };
        match step {
            Background::SelfTestStep(report) => t.steps.push(report),
            Background::SelfTestDone(result) => {
                t.finished(result);
                self.sessions.shown_mut().model.note(t.summary());
            }
            _ => {}
        }
    }
}
