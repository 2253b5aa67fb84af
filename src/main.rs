//! `cargo run --release`: the MQTT Lab window, with the built-in broker running.
//! `mqtt-lab check PROFILE_FILE`: the connection self-test on the command line.
//! `mqtt-lab simulate pv|lamp --profile FILE`: a simulated device.
//! `mqtt-lab replay FILE --profile P`: a JSON-lines recording published again on its timing.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

use mqtt_lab::cli::{self, Invocation};
use mqtt_lab::settings;
use mqtt_lab::{App, AppOptions};

/// jemalloc rather than the system allocator where it builds (not MSVC): glibc's malloc merges
/// its fast bins in one go when a large block is asked for, 10-20 ms of one frame at 50,000
/// messages a second; jemalloc has no such pause. Measured in docs/PERFORMANCE.md ("Issue 22");
/// the app bench declares the same allocator, so it times what users run.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let started = Instant::now();
    match cli::parse(std::env::args().skip(1)) {
        Ok(Invocation::Window) => match window(started) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mqtt-lab: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(Invocation::Help) => {
            print!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Invocation::Check { profile, topic }) => ExitCode::from(cli::check(&profile, topic, &mut std::io::stdout())),
        Ok(Invocation::Simulate { device, profile, speed, count }) => {
            ExitCode::from(cli::simulate(device, &profile, speed, count, &mut std::io::stdout()))
        }
        Ok(Invocation::Replay(args)) => ExitCode::from(cli::replay(&args, &mut std::io::stdout())),
        Ok(Invocation::Capture(args)) => ExitCode::from(cli::capture(&args, &mut std::io::stdout())),
        Ok(Invocation::Import(args)) => ExitCode::from(cli::import(&args, &mut std::io::stdout())),
        Err(e) => {
            eprint!("mqtt-lab: {e}\n\n{}", cli::USAGE);
            ExitCode::from(1)
        }
    }
}

/// The window's size when no size was saved (logical pixels): the smallest layout the UI tests
/// check (tests/app_layout.rs), so it fits a 1280x720 screen with a taskbar and a title bar,
/// and a 1366x768 one with room to spare.
const DEFAULT_SIZE: [f32; 2] = [1024.0, 640.0];

fn window(started: Instant) -> eframe::Result {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mqtt-lab-io")
        .enable_all()
        .build()
        .map_err(|e| eframe::Error::AppCreation(Box::new(e)))?;
    // A small file read before the window exists: nothing is drawn yet, so nothing waits.
    let path = settings::default_path();
    let loaded = path.as_deref().map(settings::load);
    let saved = loaded.as_ref().map(|l| l.settings).unwrap_or_default();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("MQTT Lab")
        .with_inner_size(DEFAULT_SIZE)
        .with_min_inner_size([800.0, 500.0]);
    if let Some(w) = saved.window {
        viewport = viewport.with_inner_size(w.size).with_maximized(w.maximized);
        if let Some(position) = w.position {
            viewport = viewport.with_position(position);
        }
    }
    let options = eframe::NativeOptions {
        // Glow (OpenGL) always, also in test and bench builds, where egui_kittest's features
        // add wgpu to eframe and would otherwise make it the default.
        renderer: eframe::Renderer::Glow,
        viewport,
        ..Default::default()
    };
    let handle = runtime.handle().clone();
    eframe::run_native(
        "MQTT Lab",
        options,
        Box::new(move |cc| {
            let mut app = App::new(&cc.egui_ctx, handle.clone(), &AppOptions::default());
            cc.egui_ctx.set_theme(saved.theme.preference());
            if let Some(note) = loaded.and_then(|l| l.note) {
                eprintln!("mqtt-lab: {note}");
                app.note(note);
            }
            let (tx, notes) = std::sync::mpsc::channel();
            let writer = path.map(|path| SettingsWriter { path, keeper: settings::Keeper::new(saved), handle, tx });
            let probe = std::env::var_os(STARTUP_PROBE).is_some().then_some(started);
            Ok(Box::new(Shell { app, settings: writer, notes, probe }) as Box<dyn eframe::App>)
        }),
    )
}

/// With this variable set, the app says on stderr when its first frame is laid out, for the
/// cold-start benchmark (`cargo bench --bench app`).
const STARTUP_PROBE: &str = "MQTT_LAB_STARTUP_PROBE";

/// Writes the settings file when the theme or the window's geometry changed and settled.
struct SettingsWriter {
    path: PathBuf,
    keeper: settings::Keeper,
    handle: tokio::runtime::Handle,
    /// Failures to write, for the app's log.
    tx: mpsc::Sender<String>,
}

impl SettingsWriter {
    fn frame(&mut self, ctx: &egui::Context) {
        let seen = settings::observed(ctx, self.keeper.saved());
        if let Some(to_save) = self.keeper.observe(seen, Instant::now()) {
            let (path, tx) = (self.path.clone(), self.tx.clone());
            let ctx = ctx.clone();
            // Off the UI thread, as every file write of the app.
            self.handle.spawn_blocking(move || {
                if let Err(e) = settings::save(&path, &to_save) {
                    let _ = tx.send(format!("The settings could not be saved to {}: {e}", path.display()));
                    ctx.request_repaint();
                }
            });
        } else if self.keeper.unsaved().is_some() {
            // No input may come once a resize stops: look again when the change has settled.
            ctx.request_repaint_after(settings::SETTLE);
        }
    }
}

/// The app, the settings keeper and the startup probe around it.
struct Shell {
    app: App,
    settings: Option<SettingsWriter>,
    notes: mpsc::Receiver<String>,
    /// With the probe's variable set: when the process started.
    probe: Option<Instant>,
}

impl eframe::App for Shell {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        while let Ok(note) = self.notes.try_recv() {
            self.app.note(note);
        }
        self.app.logic(ctx, frame);
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.app.ui(ui, frame);
        if let Some(writer) = &mut self.settings {
            writer.frame(ui.ctx());
        }
        if let Some(started) = self.probe.take() {
            eprintln!("mqtt-lab: first frame after {} ms", started.elapsed().as_millis());
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // A change made just before closing has not settled yet; the window is gone, so
        // writing here keeps nobody waiting.
        if let Some(writer) = &self.settings
            && let Some(unsaved) = writer.keeper.unsaved()
            && let Err(e) = settings::save(&writer.path, &unsaved)
        {
            eprintln!("mqtt-lab: the settings could not be saved to {}: {e}", writer.path.display());
        }
    }
}
