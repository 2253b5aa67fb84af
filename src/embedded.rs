//! The built-in broker: `mqtt_lab_broker` in-process, so that a new user can work with no
//! broker installed. It listens on 127.0.0.1:1883, or on a free port when 1883 is taken.
//!
//! Being in-process, it also answers what no client can know (issue 22): a topic's live
//! subscribers, who stored a retained message and when, and clearing a retained subtree
//! exactly and at once. [`EmbeddedBroker::inspector`] hands out that handle; its calls take
//! the broker's lock only briefly but may still wait for it, so call them off the UI thread.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, mpsc};

use mqtt_lab_broker::log::{LogDest, LogSink};
use mqtt_lab_broker::{Broker, Config, Inspector};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::connection::Repaint;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddedStatus {
    Starting,
    Running(SocketAddr),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddedEvent {
    Status(EmbeddedStatus),
    Log(String),
}

/// The running built-in broker; dropping it stops the broker.
pub struct EmbeddedBroker {
    events: mpsc::Receiver<EmbeddedEvent>,
    /// Set once the broker runs, before `Running` is sent: whoever sees `Running` finds it.
    inspector: Arc<OnceLock<Inspector>>,
    _stop: oneshot::Sender<()>,
}

async fn bind(port: u16) -> std::io::Result<TcpListener> {
    match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => Ok(l),
        // 1883 taken (a Mosquitto is running): any free port, shown in the window.
        Err(_) if port != 0 => TcpListener::bind(("127.0.0.1", 0)).await,
        Err(e) => Err(e),
    }
}

/// The broker on `listener`, its log lines sent as events; what failed, if it could not start.
fn start_broker(listener: TcpListener, log: impl Fn(&str) + Send + Sync + 'static) -> Result<Broker, String> {
    let mut config = Config::default();
    config.log.set_dest(LogDest::Sink(LogSink(Arc::new(move |_, line: &str| log(line)))));
    // As `mqtt_lab_broker::run`: the settings of the configuration's first listener.
    let settings = config.effective_listeners().into_iter().next().unwrap_or_default();
    let broker = Broker::start(config).map_err(|e| e.to_string())?;
    broker.listen(listener, &settings).map_err(|e| e.to_string())?;
    Ok(broker)
}

impl EmbeddedBroker {
    /// Starts the broker on `port` (0: any free port) without blocking the caller.
    pub fn start(runtime: &tokio::runtime::Handle, port: u16, repaint: Repaint) -> Self {
        let (tx, events) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let inspector = Arc::new(OnceLock::new());
        let slot = inspector.clone();
        runtime.spawn(async move {
            let send = move |e: EmbeddedEvent| {
                let _ = tx.send(e);
                repaint();
            };
            let failed = |why: String| EmbeddedEvent::Status(EmbeddedStatus::Failed(why));
            let listener = match bind(port).await {
                Ok(l) => l,
                Err(e) => return send(failed(format!("cannot listen on 127.0.0.1: {e}"))),
            };
            let addr = listener.local_addr();
            let log_send = send.clone();
            let broker = match start_broker(listener, move |line| log_send(EmbeddedEvent::Log(line.to_owned()))) {
                Ok(b) => b,
                Err(e) => return send(failed(e)),
            };
            let _ = slot.set(broker.inspector());
            if let Ok(addr) = addr {
                send(EmbeddedEvent::Status(EmbeddedStatus::Running(addr)));
            }
            // Until the `EmbeddedBroker` is dropped (or sends, which it never does).
            drop(stopped.await);
            broker.shutdown().await;
        });
        Self { events, inspector, _stop: stop }
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
                Some(EmbeddedEvent::Log(_)) => {}
                None => woken.recv_timeout(PATIENCE).expect("the broker reports its status"),
            }
        }
    }

    #[test]
    fn the_inspector_appears_with_running_and_names_a_retained_messages_publisher() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (wake, woken) = mpsc::channel();
        let repaint: Repaint = Arc::new(move || {
            let _ = wake.send(());
        });
        let broker = EmbeddedBroker::start(runtime.handle(), 0, repaint);
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
}
