//! The eframe app: owns the model, the profiles, the connection and the built-in broker;
//! `logic()` drains their events within a time budget, `ui()` draws the panels and applies
//! their intents in one place.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::connection::{Command, Connection, ConnectionStatus, Repaint};
use crate::embedded::{EmbeddedBroker, EmbeddedEvent, EmbeddedStatus};
use crate::model::Model;
use crate::profile::{Favourite, Profile, ProfileStore};
use crate::ui::{self, Intent, MessagesView, PublishForm, SubscribeForm};

/// The longest `logic()` spends on events per frame; the rest waits for the next frame.
const DRAIN_BUDGET: Duration = Duration::from_millis(10);

/// How the app starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppOptions {
    /// Port of the built-in broker (1883 normally, 0 in tests); `None` starts none.
    pub embedded_port: Option<u16>,
    /// Where profiles are kept; `None`: the OS config directory.
    pub profile_dir: Option<std::path::PathBuf>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self { embedded_port: Some(1883), profile_dir: None }
    }
}

pub struct App {
    runtime: tokio::runtime::Handle,
    repaint: Repaint,
    pub model: Model,
    connection: Option<Connection>,
    embedded: Option<EmbeddedBroker>,
    pub embedded_status: Option<EmbeddedStatus>,
    store: Option<ProfileStore>,
    pub profiles: Vec<Profile>,
    pub selected: usize,
    /// The port field as typed, checked when connecting.
    pub port_text: String,
    pub subscribe_form: SubscribeForm,
    pub publish_form: PublishForm,
    pub messages_view: MessagesView,
    pub broker_log: Vec<String>,
    /// Results of profile file writes, which run off the UI thread.
    saved: std::sync::mpsc::Receiver<String>,
    saved_tx: std::sync::mpsc::Sender<String>,
}

fn generated_client_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("mqtt-lab-{:08x}", nanos ^ std::process::id())
}

/// Opens the profile store, offers the examples on first start, and loads the profiles.
fn load_profiles(options: &AppOptions, model: &mut Model) -> (Option<ProfileStore>, Vec<Profile>) {
    let store = match &options.profile_dir {
        Some(dir) => Ok(ProfileStore::at(dir.clone())),
        None => ProfileStore::in_config_dir(),
    };
    let (store, mut profiles) = match store {
        Ok(store) => {
            if let Err(e) = store.seed_examples() {
                model.note(format!("Could not write the example profiles: {e}"));
            }
            let (profiles, errors) = store.load_all();
            for e in errors {
                model.note(format!("A profile file was skipped: {e}"));
            }
            (Some(store), profiles)
        }
        Err(e) => {
            model.note(format!("Profiles cannot be saved: {e}"));
            (None, Vec::new())
        }
    };
    if profiles.is_empty() {
        profiles.push(Profile { name: "Built-in broker".into(), builtin_broker: true, ..Profile::default() });
    }
    for p in &mut profiles {
        if p.client_id.is_empty() {
            p.client_id = generated_client_id();
        }
    }
    (store, profiles)
}

impl App {
    pub fn new(ctx: &egui::Context, runtime: tokio::runtime::Handle, options: &AppOptions) -> Self {
        let repaint_ctx = ctx.clone();
        let repaint: Repaint = Arc::new(move || repaint_ctx.request_repaint());
        let embedded = options.embedded_port.map(|port| EmbeddedBroker::start(&runtime, port, repaint.clone()));
        let mut model = Model::default();
        let (store, profiles) = load_profiles(options, &mut model);
        let selected = profiles.iter().position(|p| p.builtin_broker).unwrap_or(0);
        let port_text = profiles[selected].port.to_string();
        let (saved_tx, saved) = std::sync::mpsc::channel();
        Self {
            runtime,
            repaint,
            model,
            connection: None,
            embedded_status: embedded.as_ref().map(|_| EmbeddedStatus::Starting),
            embedded,
            store,
            profiles,
            selected,
            port_text,
            subscribe_form: SubscribeForm { filter: "PV/#".into(), ..SubscribeForm::default() },
            publish_form: PublishForm { topic: "PV/sunshine".into(), payload: "yes".into(), ..PublishForm::default() },
            messages_view: MessagesView::default(),
            broker_log: Vec::new(),
            saved,
            saved_tx,
        }
    }

    pub fn profile(&self) -> &Profile {
        &self.profiles[self.selected]
    }

    fn profile_mut(&mut self) -> &mut Profile {
        &mut self.profiles[self.selected]
    }

    fn connected(&self) -> bool {
        matches!(self.model.status, ConnectionStatus::Connected { .. })
    }

    fn builtin_port(&self) -> Option<u16> {
        match &self.embedded_status {
            Some(EmbeddedStatus::Running(addr)) => Some(addr.port()),
            _ => None,
        }
    }

    /// Runs a profile file operation off the UI thread; its outcome comes back as a log line.
    fn in_background(&self, job: impl FnOnce(&ProfileStore) -> String + Send + 'static) {
        let Some(store) = self.store.clone() else { return };
        let (done, repaint) = (self.saved_tx.clone(), self.repaint.clone());
        self.runtime.spawn_blocking(move || {
            let _ = done.send(job(&store));
            repaint();
        });
    }

    fn save_profile(&mut self) {
        let profile = self.profile().clone();
        self.in_background(move |store| match store.save(&profile) {
            Ok(()) => format!("Saved profile {}.", profile.name),
            Err(e) => format!("Could not save the profile: {e}"),
        });
    }

    fn connect(&mut self) {
        if !self.profile().builtin_broker {
            match self.port_text.trim().parse::<u16>() {
                Ok(port) if port > 0 => self.profile_mut().port = port,
                _ => {
                    let text = self.port_text.clone();
                    self.model.note(format!("The port {text:?} is not a number from 1 to 65535."));
                    return;
                }
            }
        }
        match self.profile().connect_settings(self.builtin_port()) {
            Ok(settings) => {
                self.model.subscriptions.list.clear();
                self.connection = Some(Connection::open(&self.runtime, settings, self.repaint.clone()));
            }
            Err(reason) => {
                self.model.note(reason.clone());
                self.model.status = ConnectionStatus::Failed(reason);
            }
        }
    }

    fn apply(&mut self, intent: Intent) {
        match intent {
            Intent::Connect => self.connect(),
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
                self.profile_mut().remember_topic(&topic);
                self.send(Command::Publish { topic, payload: Bytes::from(payload), qos, retain });
            }
            Intent::SelectProfile(i) => {
                self.selected = i.min(self.profiles.len() - 1);
                self.port_text = self.profile().port.to_string();
            }
            Intent::SaveProfile => self.save_profile(),
            Intent::DuplicateProfile => self.duplicate_profile(),
            Intent::DeleteProfile => self.delete_profile(),
            Intent::AddFavourite => {
                let f = &self.publish_form;
                let favourite = Favourite {
                    name: format!("{} {}", f.topic, f.payload.chars().take(12).collect::<String>()),
                    topic: f.topic.clone(),
                    payload: f.payload.clone(),
                    qos: f.qos,
                    retain: f.retain,
                };
                self.profile_mut().favourites.push(favourite);
                self.save_profile();
            }
        }
    }

    fn duplicate_profile(&mut self) {
        let base = self.profile().name.clone();
        let name = (1..)
            .map(|n| if n == 1 { format!("{base} (copy)") } else { format!("{base} (copy {n})") })
            .find(|candidate| !self.profiles.iter().any(|p| &p.name == candidate))
            .unwrap_or_default();
        let copy = Profile { name, ..self.profile().clone() };
        self.profiles.push(copy);
        self.selected = self.profiles.len() - 1;
        self.save_profile();
    }

    fn delete_profile(&mut self) {
        if self.profiles.len() == 1 {
            self.model.note("The last profile cannot be deleted.");
            return;
        }
        let removed = self.profiles.remove(self.selected);
        self.in_background(move |store| match store.delete(&removed.name) {
            Ok(()) => format!("Deleted profile {}.", removed.name),
            Err(e) => format!("Could not delete the profile file: {e}"),
        });
        self.selected = 0;
        self.port_text = self.profile().port.to_string();
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
        while let Ok(line) = self.saved.try_recv() {
            self.model.note(line);
        }
        while start.elapsed() < budget {
            if let Some(e) = self.embedded.as_ref().and_then(EmbeddedBroker::try_event) {
                match e {
                    EmbeddedEvent::Status(s) => self.embedded_status = Some(s),
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
        let names: Vec<String> = self.profiles.iter().map(|p| p.name.clone()).collect();
        egui::Panel::top("connection").show(ui, |ui| {
            let profile = &mut self.profiles[self.selected];
            let status = &self.model.status;
            intents.extend(ui::connection_bar(
                ui,
                &names,
                self.selected,
                profile,
                &mut self.port_text,
                status,
                &summary,
            ));
        });
        egui::Panel::left("subscriptions").default_size(340.0).show(ui, |ui| {
            intents.extend(ui::profile_editor(ui, &mut self.profiles[self.selected]));
            ui.separator();
            intents.extend(ui::subscribe_panel(ui, &mut self.subscribe_form, &self.model.subscriptions, connected));
        });
        egui::Panel::bottom("publish").show(ui, |ui| {
            let favourites = &self.profiles[self.selected].favourites;
            intents.extend(ui::publish_panel(ui, &mut self.publish_form, favourites, connected));
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
