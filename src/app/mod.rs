//! The eframe app: owns the model, the profiles, the connection and the built-in broker;
//! `logic()` drains their events within a time budget, `ui()` draws the panels and applies
//! their intents in one place.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::check::{self, CheckOptions, Step, StepReport};
use crate::connection::{Command, Event, ReceivedMessage, Repaint};
use crate::embedded::{EmbeddedBroker, EmbeddedEvent, EmbeddedStatus};
use crate::history::HistoryWriter;
use crate::model::{Model, SelfTest};
use crate::profile::{Favourite, Profile, ProfileStore};
use crate::ui::{self, FileTarget, Intent, MessagesView, PlotView, PublishForm, SubscribeForm, Tab, TransferForm};

mod capture;
mod connections;
mod export;
mod frame;
mod history;
mod plot;
mod profiles;
mod reports;
mod simulators;

use profiles::load_profiles;

/// The longest `logic()` spends on events per frame; the rest waits for the next frame.
const DRAIN_BUDGET: Duration = Duration::from_millis(10);

/// How the app starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppOptions {
    /// Port of the built-in broker (1883 normally, 0 in tests); `None` starts none.
    pub embedded_port: Option<u16>,
    /// Where profiles are kept; `None`: the OS config directory.
    pub profile_dir: Option<std::path::PathBuf>,
    /// The history database; `None`: no history. By default in the OS data directory.
    pub history_file: Option<std::path::PathBuf>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self { embedded_port: Some(1883), profile_dir: None, history_file: crate::history::default_path() }
    }
}

pub struct App {
    runtime: tokio::runtime::Handle,
    repaint: Repaint,
    pub model: Model,
    /// The open connection and the profile it was opened with (not necessarily the selected one).
    connection: Option<connections::OpenConnection>,
    /// Connect was asked for with another profile's connection open: the question is showing.
    pub confirm_switch: bool,
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
    pub transfer: TransferForm,
    /// Messages, Plot, Packets or Log, in the central panel.
    pub tab: Tab,
    /// The sidebar (profile, subscriptions, tools) is shown; hidden, the tabs get the width.
    pub sidebar: bool,
    pub plot_view: PlotView,
    pub inspector: ui::InspectorView,
    /// A screenshot asked for; where screenshots go; whether they carry a caption line.
    capture: Option<capture::Capture>,
    /// A message export under way.
    export: Option<Arc<export::Progress>>,
    pub screenshot_folder: String,
    /// The notice after a save (file name, "Open folder") and the channel saves report on.
    notice: reports::Notices,
    pub caption_on: bool,
    /// The keyboard shortcuts window is open.
    pub show_shortcuts: bool,
    /// The central panel's area last frame: what "Screenshot tab" captures.
    tab_rect: egui::Rect,
    /// The simulated PV plant and ESP32 lamp (indexed like `ui::DEVICES`), and what each last did.
    simulators: [Option<crate::simulate::Simulator>; 2],
    pub sim_status: [String; 2],
    pub sim_form: ui::SimForm,
    plot: plot::PlotData,
    /// The last connection self-test, running or done.
    pub self_test: Option<SelfTest>,
    history: Option<HistoryWriter>,
    /// The writer's last figures (size on disk, messages per profile, retention).
    pub history_stats: Option<crate::history::Stats>,
    pub history_form: ui::HistoryForm,
    history_path: Option<std::path::PathBuf>,
    /// A count of stored rows is under way; when the last key was checked.
    stored_counting: bool,
    stored_checked: Option<Instant>,
    /// Results of file work (profiles, dialogs), which runs off the UI thread.
    background: std::sync::mpsc::Receiver<Background>,
    background_tx: std::sync::mpsc::Sender<Background>,
}

/// What file work off the UI thread reports back.
enum Background {
    Note(String),
    Chosen(FileTarget, std::path::PathBuf),
    PlotLoaded(Box<crate::plot::Loaded>),
    Screenshot(Arc<egui::ColorImage>),
    /// An export ended: what it wrote, or why not.
    Exported(String),
    Imported(Box<Profile>),
    SelfTestStep(StepReport),
    StoredCount(crate::model::StoredKey, Result<u64, String>),
    StoredPage(crate::model::StoredKey, u64, Vec<ReceivedMessage>),
    SelfTestDone(Result<(), Step>),
    Reloaded {
        profile: String,
        messages: Vec<ReceivedMessage>,
    },
    Writer(crate::history::Report),
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
        let (background_tx, background) = std::sync::mpsc::channel();
        let mut app = Self {
            runtime,
            repaint,
            model,
            connection: None,
            confirm_switch: false,
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
            transfer: TransferForm::default(),
            tab: Tab::Messages,
            sidebar: true,
            plot_view: PlotView::default(),
            inspector: ui::InspectorView::default(),
            capture: None,
            export: None,
            screenshot_folder: capture::default_folder(),
            notice: reports::Notices::default(),
            caption_on: true,
            show_shortcuts: false,
            tab_rect: egui::Rect::NOTHING,
            simulators: [None, None],
            sim_status: [String::new(), String::new()],
            sim_form: ui::SimForm::default(),
            plot: plot::PlotData::default(),
            self_test: None,
            history: None,
            history_stats: None,
            history_form: ui::HistoryForm::default(),
            history_path: options.history_file.clone(),
            stored_counting: false,
            stored_checked: None,
            background,
            background_tx,
        };
        app.reset_plot();
        app.start_history();
        app
    }

    pub fn profile(&self) -> &Profile {
        &self.profiles[self.selected]
    }

    fn profile_mut(&mut self) -> &mut Profile {
        &mut self.profiles[self.selected]
    }

    fn builtin_port(&self) -> Option<u16> {
        match &self.embedded_status {
            Some(EmbeddedStatus::Running(addr)) => Some(addr.port()),
            _ => None,
        }
    }

    fn apply(&mut self, intent: Intent) {
        match intent {
            Intent::Connect => self.connect_or_ask(),
            Intent::SwitchConnection => {
                self.confirm_switch = false;
                self.connect();
            }
            Intent::Disconnect => self.disconnect(),
            Intent::Subscribe { filter, qos } => {
                self.model.subscriptions.add(&filter, qos);
                self.send(Command::Subscribe { filter, qos, options: crate::mqtt::SubOptions::default() });
            }
            Intent::WatchSys => {
                let (filter, qos) = (crate::model::WATCH_FILTER, crate::connection::Qos::AtMostOnce);
                self.model.subscriptions.add_for_status(filter, qos);
                self.send(Command::Subscribe {
                    filter: filter.into(),
                    qos,
                    options: crate::mqtt::SubOptions::default(),
                });
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
            Intent::Publish(message) => {
                self.remember_topic(&message.topic);
                self.send(Command::Publish(message));
            }
            Intent::SelectProfile(i) => {
                self.selected = i.min(self.profiles.len() - 1);
                self.port_text = self.profile().port.to_string();
                if self.connection.is_none() {
                    self.reload_history();
                }
                self.reset_plot();
            }
            Intent::SaveProfile => self.save_profile(),
            Intent::NewProfile => self.new_profile(),
            Intent::DuplicateProfile => self.duplicate_profile(),
            Intent::DeleteProfile => self.delete_profile(),
            Intent::ExportProfile => self.export_profile(),
            Intent::ImportProfile => self.import_profile(),
            Intent::ChooseFile(target) => self.choose_file(target),
            Intent::ApplySeries(defs) => self.apply_series(defs),
            Intent::StartSimulator(device) => self.start_simulator(device),
            Intent::StopSimulator(device) => self.stop_simulator(device),
            Intent::ExportPacket { seq, png } => self.export_packet(seq, png),
            Intent::Screenshot { tab } => {
                self.screenshot(if tab { capture::CaptureKind::Tab } else { capture::CaptureKind::Window });
            }
            Intent::SetRetention(r) => self.set_retention(r),
            Intent::ClearHistory => self.clear_history(),
            Intent::ExportCsv => self.export_plot(false),
            Intent::ExportPng => self.export_plot(true),
            Intent::TestConnection => self.test_connection(),
            Intent::AddFavourite => {
                let f = &self.publish_form;
                let favourite = Favourite {
                    name: format!("{} {}", f.topic, f.payload.chars().take(12).collect::<String>()),
                    message: crate::mqtt::Outgoing::new(f.topic.clone(), f.payload.clone(), f.qos, f.retain),
                };
                self.profile_mut().favourites.push(favourite);
                self.save_profile();
            }
        }
    }

    /// Runs the self-test of the selected profile on the runtime; its steps come back through
    /// `Background` as they end.
    fn test_connection(&mut self) {
        if self.self_test.as_ref().is_some_and(SelfTest::running) || !self.apply_port() {
            return;
        }
        let name = self.profile().name.clone();
        let settings = match self.profile().connect_settings(self.builtin_port()) {
            Ok(settings) => settings,
            Err(reason) => {
                self.self_test = Some(SelfTest::not_started(&name, reason));
                return;
            }
        };
        self.self_test = Some(SelfTest::started(&name));
        let (tx, repaint) = (self.background_tx.clone(), self.repaint.clone());
        self.runtime.spawn(async move {
            let step_tx = tx.clone();
            let step_repaint = repaint.clone();
            let result = check::run(&settings, &CheckOptions::default(), move |report| {
                let _ = step_tx.send(Background::SelfTestStep(report));
                step_repaint();
            })
            .await;
            let _ = tx.send(Background::SelfTestDone(result));
            repaint();
        });
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
        while let Ok(done) = self.background.try_recv() {
            match done {
                Background::Note(line) => self.model.note(line),
                Background::Chosen(FileTarget::Profile, path) => self.transfer.path = path.display().to_string(),
                Background::Chosen(FileTarget::ReportsFolder, path) => {
                    self.screenshot_folder = path.display().to_string();
                }
                Background::Chosen(FileTarget::PlotExport, path) => {
                    self.plot_view.export_path = path.display().to_string();
                }
                Background::PlotLoaded(loaded) => self.plot_loaded(*loaded),
                Background::Screenshot(image) => self.screenshot_taken(image),
                Background::Exported(text) => {
                    self.export = None;
                    self.model.note(text);
                }
                Background::Imported(profile) => self.imported(*profile),
                Background::Reloaded { profile, messages } => self.history_loaded(&profile, messages),
                Background::Writer(report) => self.writer_report(report),
                Background::StoredCount(key, count) => {
                    self.stored_counting = false;
                    match count {
                        Ok(n) => self.model.stored.counted(&key, n),
                        Err(e) => self.model.note(e),
                    }
                }
                Background::StoredPage(key, page, rows) => self.model.stored.page_read(&key, page, rows),
                Background::SelfTestStep(report) => {
                    if let Some(t) = &mut self.self_test {
                        t.steps.push(report);
                    }
                }
                Background::SelfTestDone(result) => {
                    if let Some(t) = &mut self.self_test {
                        t.finished(result);
                        self.model.note(t.summary());
                    }
                }
            }
        }
        self.drain_simulators();
        while start.elapsed() < budget {
            if let Some(e) = self.embedded.as_ref().and_then(EmbeddedBroker::try_event) {
                match e {
                    EmbeddedEvent::Status(s) => self.embedded_status = Some(s),
                    EmbeddedEvent::Log(line) => self.broker_log.push(line),
                }
                continue;
            }
            match self.connection.as_ref().and_then(|c| c.handle.try_event()) {
                Some(event) => {
                    if let Event::Message(m) = &event {
                        self.record(m);
                        self.plot_message(m);
                    }
                    self.model.apply(event);
                }
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
        self.top_panel(ui, &mut intents);
        self.left_panel(ui, &mut intents);
        self.bottom_panel(ui, &mut intents);
        self.central_panel(ui, &mut intents);
        for intent in intents {
            self.apply(intent);
        }
        self.capture_frame(ui.ctx());
    }
}
