//! The eframe app. `App` is a handful of parts, one per feature, each in its own file with the
//! work that feature does: `io` (the runtime and the channel background work reports on),
//! `session` (one connection: its model and its forms), `profiles`, `builtin` (the embedded
//! broker), `reports` (screenshots, exports, notices), `tools` (simulators, self-test),
//! `history`, `plot` and `view` (tab, sidebar, each tab's view state). `logic()` drains their
//! events within a time budget (`pace`: what the last frame's drawing left of 12 ms); `ui()` draws the panels (`frame`) and hands each intent to its
//! feature's `apply_*`. Outside code reads the app through the small API in `api`.

use std::time::{Duration, Instant};

use crate::connection::{ConnectionStatus, Event};
use crate::model::Model;
use crate::ui::{FileTarget, Intent};

mod api;
mod automation;
mod builtin;
mod capture;
mod connections;
mod export;
mod frame;
mod history;
mod io;
mod pace;
mod plot;
mod profiles;
mod replay;
mod reports;
mod session;
mod sessions;
mod simulators;
mod tools;
mod topics;
mod view;
mod wireshark;

use io::Background;

/// How the app starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppOptions {
    /// Port of the built-in broker (1883 normally, 0 in tests); `None` starts none.
    pub embedded_port: Option<u16>,
    /// Where profiles are kept, and the built-in broker's builtin-broker.conf; `None`: the OS
    /// config directory.
    pub profile_dir: Option<std::path::PathBuf>,
    /// The history database; `None`: no history. By default in the OS data directory.
    pub history_file: Option<std::path::PathBuf>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self { embedded_port: Some(1883), profile_dir: None, history_file: crate::history::default_path() }
    }
}

/// The app: one part per feature (see the module's doc). Every field is private: tests and
/// `main` go through `api`.
pub struct App {
    /// The runtime, the repaint hook and the channel background work reports on.
    io: io::Io,
    /// The open connections, each with what belongs to it, and which one is on view.
    sessions: sessions::Sessions,
    /// Where `drain_events` starts next frame, so every connection gets its turn.
    drain_next: usize,
    /// How long this frame may spend on events (`pace`).
    pace: pace::FramePace,
    /// The profiles, the selected one, its port field and the import/export form.
    profiles: profiles::Profiles,
    /// The embedded broker, its status and log.
    builtin: builtin::BuiltIn,
    /// The Replay section: its form and the replay under way.
    replay: replay::ReplayPart,
    /// Screenshots, exports and the notice after a save.
    reports: reports::Reports,
    /// Simulators and the self-test.
    tools: tools::Tools,
    /// The history file and its writer.
    history: history::HistoryState,
    /// The plot's points and what range of history they cover.
    plot: plot::PlotData,
    /// Tab, sidebar, windows on top, each tab's view state.
    view: view::View,
}

impl App {
    pub fn new(ctx: &egui::Context, runtime: tokio::runtime::Handle, options: &AppOptions) -> Self {
        let io = io::Io::new(ctx, runtime);
        let builtin = builtin::BuiltIn::start(&io.runtime, options, &io.repaint);
        let mut model = Model::default();
        let profiles = profiles::Profiles::load(options, &mut model);
        let mut app = Self {
            io,
            sessions: sessions::Sessions::new(model),
            drain_next: 0,
            pace: pace::FramePace::default(),
            profiles,
            builtin,
            replay: replay::ReplayPart::default(),
            reports: reports::Reports::default(),
            tools: tools::Tools::default(),
            history: history::HistoryState::new(options.history_file.clone()),
            plot: plot::PlotData::default(),
            view: view::View::default(),
        };
        app.reset_plot();
        app.start_history();
        app.seed_topics(0);
        app
    }

    /// Hands an intent to its feature.
    fn apply(&mut self, intent: Intent) {
        match intent {
            Intent::Profile(i) => self.apply_profile(i),
            Intent::Connection(i) => self.apply_connection(i),
            Intent::Report(i) => self.apply_report(i),
            Intent::Tool(i) => self.apply_tool(i),
            Intent::History(i) => self.apply_history(i),
            Intent::Plot(i) => self.apply_plot(i),
            Intent::Automation(i) => self.apply_automation(i),
            Intent::Tree(i) => self.apply_tree(i),
            Intent::ChooseFile(target) => self.choose_file(target),
        }
    }

    /// What work off the UI thread reported, handed to its feature.
    fn background(&mut self, done: Background) {
        match done {
            Background::Note(line) => self.sessions.shown_mut().model.note(line),
            Background::Chosen(target, path) => {
                let field = match target {
                    FileTarget::Profile => &mut self.profiles.transfer.path,
                    FileTarget::ReportsFolder => &mut self.reports.folder,
                    FileTarget::PlotExport => &mut self.view.plot.export_path,
                };
                *field = path.display().to_string();
            }
            Background::PlotLoaded(loaded) => self.plot_loaded(*loaded),
            Background::Screenshot(image) => self.screenshot_taken(image),
            Background::Exported(text) => {
                self.reports.export = None;
                self.sessions.shown_mut().model.note(text);
            }
            Background::Imported(profile) => self.imported(*profile),
            Background::Reloaded { profile, messages } => self.history_loaded(&profile, messages),
            Background::Writer(report) => self.writer_report(report),
            // For the session that asked, wherever the view went meanwhile.
            Background::StoredCount(id, key, count) => {
                self.history.counted();
                if let Some(i) = self.sessions.index_of(id) {
                    let model = &mut self.sessions.at_mut(i).model;
                    match count {
                        Ok(n) => model.stored.counted(&key, n),
                        Err(e) => model.note(e),
                    }
                }
            }
            Background::StoredPage(id, key, page, rows) => {
                if let Some(i) = self.sessions.index_of(id) {
                    self.sessions.at_mut(i).model.stored.page_read(&key, page, rows);
                }
            }
            Background::Topics(done) => self.topics_done(done),
            step @ (Background::SelfTestStep(_) | Background::SelfTestDone(_)) => self.self_test_step(step),
        }
    }

    /// Applies waiting events until the budget is spent; returns whether events remain.
    fn drain_events(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        while let Ok(done) = self.io.rx.try_recv() {
            self.background(done);
        }
        self.drain_simulators();
        self.drain_replay();
        // One event per connection in turn: a busy connection cannot starve the others.
        let n = self.sessions.len();
        let (mut i, mut empty) = (self.drain_next % n, 0);
        while start.elapsed() < budget {
            if self.builtin.drain_one() {
                continue;
            }
            if let Some(event) = self.sessions.list()[i].handle().and_then(crate::connection::Connection::try_event) {
                self.session_event(i, event);
                empty = 0;
            } else {
                empty += 1;
                if empty >= n {
                    return false;
                }
            }
            i = (i + 1) % n;
        }
        self.drain_next = i;
        true
    }

    /// One event of session `i`'s connection: automation, history, the plot (for the session on
    /// view), then the session's model.
    fn session_event(&mut self, i: usize, mut event: Event) {
        if let Event::Status(ConnectionStatus::Reconnecting { reason, .. } | ConnectionStatus::Failed(reason)) = &event
            && let Some(why) = self.takeover(i)
        {
            // Reconnecting would take the id back, and the two would take turns forever: this
            // one stops, and says why.
            let s = self.sessions.at_mut(i);
            s.close();
            let reason = format!("{reason}{why} Not reconnecting, so that the two do not take turns.");
            s.model.note(format!("{} lost its connection: {reason}", s.label()));
            event = Event::Status(ConnectionStatus::Failed(reason));
        }
        self.sessions.at_mut(i).automation_event(&event);
        if let Event::Message(m) = &event {
            self.record(i, m);
            self.sessions.at_mut(i).topics.record(m);
            if i == self.sessions.shown_index() {
                self.plot_message(m);
            }
        }
        self.sessions.at_mut(i).model.apply(event);
    }

    /// Why session `i` lost its connection when another session uses its client id on the same
    /// broker: a broker keeps one connection per client id and closes the other (takeover).
    fn takeover(&self, i: usize) -> Option<String> {
        let other = self.sessions.same_client_as(i)?;
        let id = other.connection.as_ref().map_or("", |c| c.client_id.as_str());
        Some(format!(
            " ({} uses the same client id {id:?} on this broker, which keeps one connection per client id and \
             closes the other: a takeover, MQTT-3.1.4-2. \"Open again\" gives a second connection its own id.)",
            other.label()
        ))
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let budget = self.pace.begin();
        let started = Instant::now();
        let more = self.drain_events(budget);
        self.pace.drained(started.elapsed());
        if more | self.topics_logic() {
            ctx.request_repaint();
        }
        if let Some(next) = self.refresh_facts() {
            ctx.request_repaint_after(next);
        }
        self.automation_tick(ctx);
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
        self.pace.end();
    }
}
