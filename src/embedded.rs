//! The built-in broker: `mqtt_lab_broker` in-process, so that a new user can work with no
//! broker installed. It listens on 127.0.0.1:1883, or on a free port when 1883 is taken.

use std::net::SocketAddr;
use std::sync::{Arc, mpsc};

use mqtt_lab_broker::Config;
use mqtt_lab_broker::log::{LogDest, LogSink};
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

impl EmbeddedBroker {
    /// Starts the broker on `port` (0: any free port) without blocking the caller.
    pub fn start(runtime: &tokio::runtime::Handle, port: u16, repaint: Repaint) -> Self {
        let (tx, events) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        runtime.spawn(async move {
            let send = move |e: EmbeddedEvent| {
                let _ = tx.send(e);
                repaint();
            };
            let listener = match bind(port).await {
                Ok(l) => l,
                Err(e) => {
                    return send(EmbeddedEvent::Status(EmbeddedStatus::Failed(format!(
                        "cannot listen on 127.0.0.1: {e}"
                    ))));
                }
            };
            if let Ok(addr) = listener.local_addr() {
                send(EmbeddedEvent::Status(EmbeddedStatus::Running(addr)));
            }
            let mut config = Config::default();
            let log_send = send.clone();
            config.log.set_dest(LogDest::Sink(LogSink(Arc::new(move |_, line: &str| {
                log_send(EmbeddedEvent::Log(line.to_owned()));
            }))));
            if let Err(e) = mqtt_lab_broker::run(listener, config, async { drop(stopped.await) }).await {
                send(EmbeddedEvent::Status(EmbeddedStatus::Failed(e.to_string())));
            }
        });
        Self { events, _stop: stop }
    }

    pub fn try_event(&self) -> Option<EmbeddedEvent> {
        self.events.try_recv().ok()
    }
}
