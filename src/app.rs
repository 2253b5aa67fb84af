//! The eframe app: owns the model, the connection and the built-in broker; `logic()` drains
//! their events within a time budget, `ui()` draws the panels and applies their intents.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::connection::{Command, ConnectSettings, Connection, ConnectionStatus, Repaint};
use crate::embedded::{EmbeddedBroker, EmbeddedEvent, EmbeddedStatus};
use crate::model::Model;
use crate::ui::{self, ConnectForm, Intent, MessagesView, PublishForm, SubscribeForm};

/// The longest `logic()` spends on events per frame; the rest waits for the next frame.
const DRAIN_BUDGET: Duration = Duration::from_millis(10);

/// How the app starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppOptions {
    /// Port of the built-in broker (1883 normally, 0 in tests); `None` starts none.
    pub embedded_port: Option<u16>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self { embedded_port: Some(1883) }
    }
}

pub struct App {
    runtime: tokio::runtime::Handle,
    repaint: Repaint,
    pub model: Model,
    connection: Option<Connection>,
    embedded: Option<EmbeddedBroker>,
    pub embedded_status: Option<EmbeddedStatus>,
    /// Whether the host/port fields still follow the built-in broker's address.
    follow_embedded: bool,
    pub connect_form: ConnectForm,
    pub subscribe_form: SubscribeForm,
    pub publish_form: PublishForm,
    pub messages_view: MessagesView,
    pub broker_log: Vec<String>,
}

fn generated_client_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("mqtt-lab-{:08x}", nanos ^ std::process::id())
}

impl App {
    pub fn new(ctx: &egui::Context, runtime: tokio::runtime::Handle, options: &AppOptions) -> Self {
        let repaint_ctx = ctx.clone();
        let repaint: Repaint = Arc::new(move || repaint_ctx.request_repaint());
        let embedded = options.embedded_port.map(|port| EmbeddedBroker::start(&runtime, port, repaint.clone()));
        Self {
            runtime,
            repaint,
            model: Model::default(),
            connection: None,
            embedded_status: embedded.as_ref().map(|_| EmbeddedStatus::Starting),
            embedded,
            follow_embedded: true,
            connect_form: ConnectForm {
                host: "127.0.0.1".into(),
                port: "1883".into(),
                client_id: generated_client_id(),
            },
            subscribe_form: SubscribeForm { filter: "PV/#".into(), ..SubscribeForm::default() },
            publish_form: PublishForm { topic: "PV/sunshine".into(), payload: "yes".into(), ..PublishForm::default() },
            messages_view: MessagesView::default(),
            broker_log: Vec::new(),
        }
    }

    fn connected(&self) -> bool {
        matches!(self.model.status, ConnectionStatus::Connected { .. })
    }

    fn apply(&mut self, intent: Intent) {
        match intent {
            Intent::Connect => {
                let Ok(port) = self.connect_form.port.trim().parse::<u16>() else {
                    self.model.note(format!("The port {:?} is not a number from 1 to 65535.", self.connect_form.port));
                    return;
                };
                self.follow_embedded = false;
                let settings = ConnectSettings {
                    host: self.connect_form.host.trim().to_owned(),
                    port,
                    client_id: self.connect_form.client_id.clone(),
                    clean_session: true,
                    keep_alive: Duration::from_mins(1),
                    connect_timeout: Duration::from_secs(10),
                    username: None,
                    password: None,
                };
                self.connection = Some(Connection::open(&self.runtime, settings, self.repaint.clone()));
            }
            Intent::Disconnect => {
                if let Some(c) = self.connection.take() {
                    c.send(Command::Disconnect);
                }
                self.model.status = ConnectionStatus::Disconnected;
                self.model.note("Disconnected.");
            }
            Intent::Subscribe { filter, qos } => {
                self.model.subscriptions.add(&filter, qos);
                self.send(Command::Subscribe { filter, qos });
            }
            Intent::Unsubscribe { filter } => {
                self.model.subscriptions.remove(&filter);
                self.model.messages.invalidate();
                self.send(Command::Unsubscribe { filter });
            }
            Intent::ToggleMute { filter } => {
                if let Some(s) = self.model.subscriptions.list.iter_mut().find(|s| s.filter == filter) {
                    s.muted = !s.muted;
                }
                self.model.messages.invalidate();
            }
            Intent::Publish { topic, payload, qos, retain } => {
                self.send(Command::Publish { topic, payload: Bytes::from(payload), qos, retain });
            }
        }
    }

    fn send(&mut self, command: Command) {
        if !self.connection.as_ref().is_some_and(|c| c.send(command)) {
            self.model.note("Not connected: connect first.");
        }
    }

    fn embedded_summary(&self) -> String {
        match &self.embedded_status {
            None => "Built-in broker: off".into(),
            Some(EmbeddedStatus::Starting) => "Built-in broker: starting…".into(),
            Some(EmbeddedStatus::Running(addr)) => format!("Built-in broker: running on {addr}"),
            Some(EmbeddedStatus::Failed(e)) => format!("Built-in broker: failed: {e}"),
        }
    }

    /// Applies waiting events until the budget is spent; returns whether events remain.
    pub fn drain_events(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < budget {
            if let Some(e) = self.embedded.as_ref().and_then(EmbeddedBroker::try_event) {
                match e {
                    EmbeddedEvent::Status(s) => {
                        if let (EmbeddedStatus::Running(addr), true) = (&s, self.follow_embedded) {
                            self.connect_form.port = addr.port().to_string();
                        }
                        self.embedded_status = Some(s);
                    }
                    EmbeddedEvent::Log(line) => self.broker_log.push(line),
                }
                continue;
            }
            match self.connection.as_ref().and_then(Connection::try_event) {
                Some(event) => self.model.apply(event),
                None => return false,
            }
        }
        true
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if self.drain_events(DRAIN_BUDGET) {
            ctx.request_repaint();
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut intents = Vec::new();
        let connected = self.connected();
        let summary = self.embedded_summary();
        egui::Panel::top("connection").show(ui, |ui| {
            intents.extend(ui::connection_bar(ui, &mut self.connect_form, &self.model.status, &summary));
        });
        egui::Panel::left("subscriptions").default_size(320.0).show(ui, |ui| {
            intents.extend(ui::subscribe_panel(ui, &mut self.subscribe_form, &self.model.subscriptions, connected));
        });
        egui::Panel::bottom("publish").show(ui, |ui| {
            intents.extend(ui::publish_panel(ui, &mut self.publish_form, connected));
            egui::CollapsingHeader::new("Log").show(ui, |ui| {
                egui::ScrollArea::vertical().max_height(120.0).stick_to_bottom(true).show(ui, |ui| {
                    for line in self.model.log.iter().rev().take(200).rev() {
                        ui.label(&line.text);
                    }
                });
            });
        });
        egui::CentralPanel::default().show(ui, |ui| {
            ui::messages_panel(ui, &mut self.messages_view, &mut self.model.messages, &self.model.subscriptions);
        });
        for intent in intents {
            self.apply(intent);
        }
    }
}
