//! The built-in broker: `mqtt_lab_broker` in-process, so that a new user can work with no
//! broker installed. It listens on 127.0.0.1:1883, or on a free port when 1883 is taken.
//!
//! Being in-process, it also answers what no client can know (issue 22): a topic's live
//! subscribers, who stored a retained message and when, and clearing a retained subtree
//! exactly and at once. [`EmbeddedBroker::inspector`] hands out that handle; its calls take
//! the broker's lock only briefly but may still wait for it, so call them off the UI thread.
//!
//! It may be given a mosquitto.conf (issue 24: a classroom's bridge to the school's broker); its
//! bridges' states reach the app as [`EmbeddedEvent::Bridges`] when asked for with
//! [`EmbeddedBroker::read_bridges`], in the app's own [`BridgeStatus`].

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, mpsc};

use mqtt_lab_broker::log::{LogDest, LogSink};
use mqtt_lab_broker::{BridgeInfo, Broker, Config, Inspector};
use tokio::net::TcpListener;
use tokio::sync::mpsc as commands;

use crate::connection::Repaint;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddedStatus {
    Starting,
    Running(SocketAddr),
    Failed(String),
}

/// The name of the built-in broker's config file, which the app looks for in its profiles
/// folder (mosquitto.conf syntax).
pub const CONFIG_FILE: &str = "builtin-broker.conf";

/// One bridge of the built-in broker (a `connection` section of its config) as the app shows
/// it: the broker's `BridgeInfo` copied into the app's own type, so that the panels do not
/// depend on the broker library's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BridgeStatus {
    /// The `connection` name.
    pub name: String,
    pub connected: bool,
    /// `host:port` of the remote broker in use, or last tried; `None` before the first try.
    pub remote: Option<String>,
    /// Why the last connection failed or ended, in the broker's words.
    pub last_error: Option<String>,
    /// Messages sent to the remote and received from it; the broker adds a connected period's
    /// count when it ends.
    pub sent: u64,
    pub received: u64,
}

impl From<BridgeInfo> for BridgeStatus {
    fn from(b: BridgeInfo) -> Self {
        let BridgeInfo { name, connected, remote, last_error, sent, received } = b;
        Self { name, connected, remote, last_error, sent, received }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddedEvent {
    Status(EmbeddedStatus),
    Log(String),
    /// Every bridge's state, in config order (empty without bridges), as asked for.
    Bridges(Vec<BridgeStatus>),
}

/// What the app asks of the broker's task.
#[derive(Debug)]
enum EmbeddedCommand {
    /// Send the bridges' states as [`EmbeddedEvent::Bridges`].
    ReadBridges,
}

/// The running built-in broker; dropping it stops the broker.
pub struct EmbeddedBroker {
    events: mpsc::Receiver<EmbeddedEvent>,
    /// Set once the broker runs, before `Running` is sent: whoever sees `Running` finds it.
    inspector: Arc<OnceLock<Inspector>>,
    /// To the broker's task, which never makes a sender wait; dropped with `self`, which ends
    /// the task and stops the broker.
    commands: commands::UnboundedSender<EmbeddedCommand>,
}

/// The config in `file` (mosquitto.conf syntax) when there is one, else the defaults; what is
/// wrong with it, naming the file, if it cannot be read or parsed.
fn load_config(file: Option<&Path>) -> Result<Config, String> {
    let Some(path) = file else { return Ok(Config::default()) };
    match std::fs::metadata(path) {
        // As Mosquitto reads it, `include_dir` lines too; the error names the file and line.
        Ok(_) => Config::load(path).map_err(|e| format!("its config {e}")),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(format!("cannot read its config {}: {e}", path.display())),
    }
}

async fn bind(port: u16) -> std::io::Result<TcpListener> {
    match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => Ok(l),
        // 1883 taken (a Mosquitto is running): any free port, shown in the window.
        Err(_) if port != 0 => TcpListener::bind(("127.0.0.1", 0)).await,
        Err(e) => Err(e),
    }
}

/// The broker on `listener` with `config`, its log lines sent as events (wherever the config
/// logs to); what failed, if it could not start.
fn start_broker(
    listener: TcpListener,
    mut config: Config,
    log: impl Fn(&str) + Send + Sync + 'static,
) -> Result<Broker, String> {
    config.log.set_dest(LogDest::Sink(LogSink(Arc::new(move |_, line: &str| log(line)))));
    // As `mqtt_lab_broker::run`: the settings of the configuration's first listener.
    let settings = config.effective_listeners().into_iter().next().unwrap_or_default();
    let broker = Broker::start(config).map_err(|e| e.to_string())?;
    broker.listen(listener, &settings).map_err(|e| e.to_string())?;
    Ok(broker)
}

impl EmbeddedBroker {
    /// Starts the broker on `port` (0: any free port) without blocking the caller, with the
    /// settings of `config_file` when that file exists (read off the caller's thread). The
    /// broker listens on 127.0.0.1:`port` whatever the file's listeners say; it takes the first
    /// listener's settings (its authentication, for one), its bridges and everything else.
    pub fn start(runtime: &tokio::runtime::Handle, port: u16, config_file: Option<PathBuf>, repaint: Repaint) -> Self {
        let (tx, events) = mpsc::channel();
        let (commands, mut asked) = commands::unbounded_channel();
        let inspector = Arc::new(OnceLock::new());
        let slot = inspector.clone();
        runtime.spawn(async move {
            let send = move |e: EmbeddedEvent| {
                let _ = tx.send(e);
                repaint();
            };
            let failed = |why: String| EmbeddedEvent::Status(EmbeddedStatus::Failed(why));
            let loaded = tokio::task::spawn_blocking(move || load_config(config_file.as_deref())).await;
            let config = match loaded.map_err(|e| format!("its config was not read: {e}")).and_then(|c| c) {
                Ok(c) => c,
                Err(e) => return send(failed(e)),
            };
            let listener = match bind(port).await {
                Ok(l) => l,
                Err(e) => return send(failed(format!("cannot listen on 127.0.0.1: {e}"))),
            };
            let addr = listener.local_addr();
            let log_send = send.clone();
            let log = move |line: &str| log_send(EmbeddedEvent::Log(line.to_owned()));
            let broker = match start_broker(listener, config, log) {
                Ok(b) => b,
                Err(e) => return send(failed(e)),
            };
            let _ = slot.set(broker.inspector());
            if let Ok(addr) = addr {
                send(EmbeddedEvent::Status(EmbeddedStatus::Running(addr)));
            }
            // Until the `EmbeddedBroker` is dropped.
            while let Some(command) = asked.recv().await {
                match command {
                    EmbeddedCommand::ReadBridges => {
                        // A copy under the broker's lock for bridge states, held for no I/O.
                        let bridges = broker.inspector().bridges().into_iter().map(BridgeStatus::from).collect();
                        send(EmbeddedEvent::Bridges(bridges));
                    }
                }
            }
            broker.shutdown().await;
        });
        Self { events, inspector, commands }
    }

    /// Asks for the bridges' states, answered by an [`EmbeddedEvent::Bridges`]; never blocks.
    /// Before the broker runs the question waits for it; a broker that failed answers nothing.
    pub fn read_bridges(&self) {
        // Fails only once the task has ended (the broker failed): there is nothing to show then.
        let _ = self.commands.send(EmbeddedCommand::ReadBridges);
    }

    pub fn try_event(&self) -> Option<EmbeddedEvent> {
        self.events.try_recv().ok()
    }

    /// A handle for the topic tree's questions (cloneable, `Send`, usable from any thread);
    /// `None` until the broker runs, and always `None` if it failed to start. Once the broker
    /// has stopped its calls answer nothing.
    pub fn inspector(&self) -> Option<Inspector> {
        self.inspector.get().cloned()
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::Duration;

    use super::*;

    /// Bounds a wait that only a failing test reaches.
    const PATIENCE: Duration = Duration::from_secs(10);

    /// The next status event, waiting on the repaint callback (no polling).
    fn next_status(broker: &EmbeddedBroker, woken: &mpsc::Receiver<()>) -> EmbeddedStatus {
        loop {
            match broker.try_event() {
                Some(EmbeddedEvent::Status(s)) => return s,
                Some(EmbeddedEvent::Log(_) | EmbeddedEvent::Bridges(_)) => {}
                None => woken.recv_timeout(PATIENCE).expect("the broker reports its status"),
            }
        }
    }

    /// A repaint hook and what it wakes.
    fn waker() -> (Repaint, mpsc::Receiver<()>) {
        let (wake, woken) = mpsc::channel();
        (
            Arc::new(move || {
                let _ = wake.send(());
            }),
            woken,
        )
    }

    /// A config file of `text` in a directory of this test's own.
    fn config_file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mqtt-lab-embedded-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(CONFIG_FILE);
        std::fs::write(&file, text).unwrap();
        file
    }

    #[test]
    fn the_inspector_appears_with_running_and_names_a_retained_messages_publisher() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (repaint, woken) = waker();
        let broker = EmbeddedBroker::start(runtime.handle(), 0, None, repaint);
        let EmbeddedStatus::Running(addr) = next_status(&broker, &woken) else { panic!("not running") };
        let inspector = broker.inspector().expect("set before Running is sent");
        let published = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &addr.port().to_string(), "-i", "lamp", "-q", "1", "-r"])
            .args(["-t", "lamp/status", "-m", "on"])
            .output()
            .expect("Debian's mosquitto-clients is installed");
        assert!(published.status.success(), "{}", String::from_utf8_lossy(&published.stderr));
        // From a thread of its own, as the app asks.
        let info = std::thread::spawn(move || inspector.topic_info("lamp/status")).join().unwrap();
        assert_eq!(info.retained.and_then(|r| r.publisher).as_deref(), Some("lamp"));
    }

    #[test]
    fn a_config_file_that_does_not_parse_is_named_with_its_line() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (repaint, woken) = waker();
        let file = config_file("broken", "# a teacher's file\nconnection\n");
        let broker = EmbeddedBroker::start(runtime.handle(), 0, Some(file.clone()), repaint);
        let EmbeddedStatus::Failed(why) = next_status(&broker, &woken) else { panic!("started with a broken file") };
        assert!(why.contains(&file.display().to_string()) && why.contains("line 2"), "{why}");
        let _ = std::fs::remove_dir_all(file.parent().unwrap());
    }

    #[test]
    fn a_missing_config_file_leaves_the_defaults() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (repaint, woken) = waker();
        let file =
            std::env::temp_dir().join(format!("mqtt-lab-embedded-none-{}", std::process::id())).join(CONFIG_FILE);
        let broker = EmbeddedBroker::start(runtime.handle(), 0, Some(file), repaint);
        assert!(matches!(next_status(&broker, &woken), EmbeddedStatus::Running(_)));
    }

    /// The config file's bridge, to a port nothing listens on, reaches the app in its own type:
    /// named, down, with the address it tried and why it failed.
    #[test]
    fn the_bridges_of_the_config_file_are_answered_when_asked() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (repaint, woken) = waker();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let file = config_file("bridge", &format!("connection up-link\naddress 127.0.0.1:{closed}\ntopic a/# out\n"));
        let broker = EmbeddedBroker::start(runtime.handle(), 0, Some(file.clone()), repaint);
        assert!(matches!(next_status(&broker, &woken), EmbeddedStatus::Running(_)));
        let started = std::time::Instant::now();
        let bridge = loop {
            assert!(started.elapsed() < PATIENCE, "the failed connection was not reported");
            broker.read_bridges();
            let answer = loop {
                match broker.try_event() {
                    Some(EmbeddedEvent::Bridges(b)) => break b,
                    Some(_) => {}
                    None => woken.recv_timeout(PATIENCE).expect("an answer"),
                }
            };
            assert_eq!(answer.len(), 1, "one bridge: {answer:?}");
            if answer[0].last_error.is_some() {
                break answer[0].clone();
            }
            // Not tried yet: the next answer comes after the broker's next log line (its try).
            woken.recv_timeout(PATIENCE).expect("the bridge tries");
        };
        assert_eq!((bridge.name.as_str(), bridge.connected), ("up-link", false));
        assert_eq!(bridge.remote, Some(format!("127.0.0.1:{closed}")));
        let _ = std::fs::remove_dir_all(file.parent().unwrap());
    }
}
