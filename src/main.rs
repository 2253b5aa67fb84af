//! MQTT Lab: the desktop workbench. For now a window that runs the embedded broker, so that a
//! new user can point any MQTT client at it; profiles, publish/subscribe tabs and the packet
//! inspector come next.

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use eframe::egui;
use mqtt_lab_broker::Config;
use mqtt_lab_broker::log::{LogDest, LogSink};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The state of the embedded broker as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BrokerStatus {
    Starting,
    Running(std::net::SocketAddr),
    Failed(String),
}

/// What the broker task tells the UI. The UI never shares a lock with it.
enum BrokerEvent {
    Status(BrokerStatus),
    LogLine(String),
}

struct App {
    status: BrokerStatus,
    log: Vec<String>,
    events: mpsc::Receiver<BrokerEvent>,
    /// Dropped on exit: the broker closes its connections and its task ends.
    _stop: oneshot::Sender<()>,
}

/// Binds 127.0.0.1:1883, or a free port when 1883 is taken (e.g. by Mosquitto).
async fn bind() -> std::io::Result<TcpListener> {
    match TcpListener::bind("127.0.0.1:1883").await {
        Ok(l) => Ok(l),
        Err(_) => TcpListener::bind("127.0.0.1:0").await,
    }
}

fn start_broker(runtime: &tokio::runtime::Runtime, ctx: egui::Context) -> App {
    let (tx, events) = mpsc::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    runtime.spawn(async move {
        let send = {
            let (tx, ctx) = (tx.clone(), ctx.clone());
            move |e: BrokerEvent| {
                let _ = tx.send(e);
                ctx.request_repaint();
            }
        };
        let listener = match bind().await {
            Ok(l) => l,
            Err(e) => {
                return send(BrokerEvent::Status(BrokerStatus::Failed(format!("cannot listen on 127.0.0.1: {e}"))));
            }
        };
        if let Ok(addr) = listener.local_addr() {
            send(BrokerEvent::Status(BrokerStatus::Running(addr)));
        }
        let mut config = Config::default();
        let log_send = send.clone();
        config.log.set_dest(LogDest::Sink(LogSink(Arc::new(move |_, line: &str| {
            log_send(BrokerEvent::LogLine(line.to_owned()));
        }))));
        if let Err(e) = mqtt_lab_broker::run(listener, config, async { drop(stopped.await) }).await {
            send(BrokerEvent::Status(BrokerStatus::Failed(e.to_string())));
        }
    });
    App { status: BrokerStatus::Starting, log: Vec::new(), events, _stop: stop }
}

/// The longest the UI spends draining events in one frame.
const DRAIN_BUDGET: Duration = Duration::from_millis(10);
/// Log lines kept for the window.
const LOG_KEEP: usize = 200;

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let start = Instant::now();
        loop {
            if start.elapsed() >= DRAIN_BUDGET {
                // Budget spent with events perhaps left: come back next frame.
                ctx.request_repaint();
                break;
            }
            match self.events.try_recv() {
                Ok(BrokerEvent::Status(s)) => self.status = s,
                Ok(BrokerEvent::LogLine(l)) => self.log.push(l),
                Err(_) => break,
            }
        }
        let excess = self.log.len().saturating_sub(LOG_KEEP);
        self.log.drain(..excess);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("MQTT Lab");
            match &self.status {
                BrokerStatus::Starting => ui.label("Starting the built-in broker…"),
                BrokerStatus::Running(addr) => ui.label(format!(
                    "Built-in broker running on {addr}. Try: mosquitto_sub -h {} -p {} -t 'PV/#' -v",
                    addr.ip(),
                    addr.port()
                )),
                BrokerStatus::Failed(e) => ui.colored_label(egui::Color32::RED, format!("Built-in broker failed: {e}")),
            };
            ui.separator();
            ui.label("Broker log:");
            egui::ScrollArea::vertical().stick_to_bottom(true).show(ui, |ui| {
                for line in &self.log {
                    ui.monospace(line);
                }
            });
        });
    }
}

fn main() -> eframe::Result {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mqtt-lab-io")
        .enable_all()
        .build()
        .map_err(|e| eframe::Error::AppCreation(Box::new(e)))?;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([720.0, 480.0]).with_title("MQTT Lab"),
        ..Default::default()
    };
    eframe::run_native("MQTT Lab", options, Box::new(|cc| Ok(Box::new(start_broker(&runtime, cc.egui_ctx.clone())))))
}
