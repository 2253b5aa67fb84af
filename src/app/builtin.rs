//! The built-in broker as the app sees it: started with the app (on 127.0.0.1:1883, or a free
//! port in tests), its status for the top bar, its Mosquitto-style log lines and, for the
//! Broker status section, its bridges.
//!
//! Its settings come from `builtin-broker.conf` (mosquitto.conf syntax) in the profiles folder
//! when the user puts one there: the one way to give it bridges (issue 24).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::AppOptions;
use crate::connection::Repaint;
use crate::embedded::{BridgeStatus, CONFIG_FILE, EmbeddedBroker, EmbeddedEvent, EmbeddedStatus};

/// How often the bridges' states are read again while the section shows them: a bridge comes
/// up, goes down and counts messages on its own. As often as the topic tree's broker facts.
const BRIDGES_REFRESH: Duration = Duration::from_secs(2);

/// The embedded broker, its status and its log.
pub(super) struct BuiltIn {
    /// The broker running in-process; `None` when the app was started without one.
    broker: Option<EmbeddedBroker>,
    /// Starting, running on an address, or why it failed; `None` without a broker.
    pub status: Option<EmbeddedStatus>,
    /// The broker's log lines, oldest first.
    pub log: Vec<String>,
    /// Each bridge's state as last read (empty without bridges, and until first read).
    pub bridges: Vec<BridgeStatus>,
    /// When the bridges were last asked for: read again every `BRIDGES_REFRESH` while shown.
    bridges_asked: Option<Instant>,
}

/// Where the built-in broker's config file is looked for: the profiles folder the app uses.
fn config_file(options: &AppOptions) -> Option<PathBuf> {
    let dir = match &options.profile_dir {
        Some(dir) => Some(dir.clone()),
        None => crate::profile::ProfileStore::in_config_dir().ok().map(|s| s.dir().to_path_buf()),
    };
    dir.map(|d| d.join(CONFIG_FILE))
}

impl BuiltIn {
    /// Starts the broker on `options.embedded_port` (`None`: no built-in broker), with the
    /// settings of its config file if there is one.
    pub fn start(runtime: &tokio::runtime::Handle, options: &AppOptions, repaint: &Repaint) -> Self {
        let file = config_file(options);
        let broker = options.embedded_port.map(|port| EmbeddedBroker::start(runtime, port, file, repaint.clone()));
        Self {
            status: broker.as_ref().map(|_| EmbeddedStatus::Starting),
            broker,
            log: Vec::new(),
            bridges: Vec::new(),
            bridges_asked: None,
        }
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

    /// While the bridges are on screen: asks the broker's task for their states when the last
    /// answer is `BRIDGES_REFRESH` old (the answer comes as an event, drained with the others).
    /// Returns the time until the next read, for the repaint that makes it; `None` while the
    /// broker does not run.
    pub fn refresh_bridges(&mut self) -> Option<Duration> {
        let broker = self.broker.as_ref().filter(|_| self.port().is_some())?;
        let since = self.bridges_asked.map_or(BRIDGES_REFRESH, |asked| asked.elapsed());
        if since < BRIDGES_REFRESH {
            return Some(BRIDGES_REFRESH.saturating_sub(since));
        }
        broker.read_bridges();
        self.bridges_asked = Some(Instant::now());
        Some(BRIDGES_REFRESH)
    }

    /// Applies one waiting event; false when none waits.
    pub fn drain_one(&mut self) -> bool {
        match self.broker.as_ref().and_then(EmbeddedBroker::try_event) {
            Some(EmbeddedEvent::Status(s)) => self.status = Some(s),
            Some(EmbeddedEvent::Log(line)) => self.log.push(line),
            Some(EmbeddedEvent::Bridges(bridges)) => self.bridges = bridges,
            None => return false,
        }
        true
    }
}
