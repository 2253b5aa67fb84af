//! The built-in broker as the app sees it: started with the app (on 127.0.0.1:1883, or a free
//! port in tests), its status for the top bar and its Mosquitto-style log lines.

use crate::connection::Repaint;
use crate::embedded::{EmbeddedBroker, EmbeddedEvent, EmbeddedStatus};

/// The embedded broker, its status and its log.
pub(super) struct BuiltIn {
    /// The broker running in-process; `None` when the app was started without one.
    broker: Option<EmbeddedBroker>,
    /// Starting, running on an address, or why it failed; `None` without a broker.
    pub status: Option<EmbeddedStatus>,
    /// The broker's log lines, oldest first.
    pub log: Vec<String>,
}

impl BuiltIn {
    /// Starts the broker on `port` (`None`: no built-in broker).
    pub fn start(runtime: &tokio::runtime::Handle, port: Option<u16>, repaint: &Repaint) -> Self {
        let broker = port.map(|port| EmbeddedBroker::start(runtime, port, repaint.clone()));
        Self { status: broker.as_ref().map(|_| EmbeddedStatus::Starting), broker, log: Vec::new() }
    }

    /// A handle on the broker's state (subscribers, retained messages), once running: for work
    /// off the UI thread.
    pub fn inspector(&self) -> Option<mqtt_lab_broker::Inspector> {
        self.broker.as_ref().and_then(EmbeddedBroker::inspector)
    }

    /// The port it listens on, once running.
    pub fn port(&self) -> Option<u16> {
        match &self.status {
            Some(EmbeddedStatus::Running(addr)) => Some(addr.port()),
            _ => None,
        }
    }

    /// The top bar's line about it.
    pub fn summary(&self) -> String {
        match &self.status {
            None => "Built-in broker: off".into(),
            Some(EmbeddedStatus::Starting) => "Built-in broker: starting…".into(),
            Some(EmbeddedStatus::Running(addr)) => format!("Built-in broker: running on {addr}"),
            Some(EmbeddedStatus::Failed(e)) => format!("Built-in broker: failed: {e}"),
        }
    }

    /// Applies one waiting event; false when none waits.
    pub fn drain_one(&mut self) -> bool {
        match self.broker.as_ref().and_then(EmbeddedBroker::try_event) {
            Some(EmbeddedEvent::Status(s)) => self.status = Some(s),
            Some(EmbeddedEvent::Log(line)) => self.log.push(line),
            None => return false,
        }
        true
    }
}
