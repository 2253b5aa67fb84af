//! `cargo run --release`: the MQTT Lab window, with the built-in broker running.
//! `mqtt-lab check PROFILE_FILE`: the connection self-test on the command line.
//! `mqtt-lab simulate pv|lamp --profile FILE`: a simulated device.

use std::process::ExitCode;
use std::time::Instant;

use mqtt_lab::cli::{self, Invocation};
use mqtt_lab::{App, AppOptions};

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
        Err(e) => {
            eprint!("mqtt-lab: {e}\n\n{}", cli::USAGE);
            ExitCode::from(1)
        }
    }
}

fn window(started: Instant) -> eframe::Result {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mqtt-lab-io")
        .enable_all()
        .build()
        .map_err(|e| eframe::Error::AppCreation(Box::new(e)))?;
    let options = eframe::NativeOptions {
        // Glow (OpenGL) always, also in test and bench builds, where egui_kittest's features
        // add wgpu to eframe and would otherwise make it the default.
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default().with_inner_size([1100.0, 720.0]).with_title("MQTT Lab"),
        ..Default::default()
    };
    let handle = runtime.handle().clone();
    eframe::run_native(
        "MQTT Lab",
        options,
        Box::new(move |cc| {
            let app = App::new(&cc.egui_ctx, handle, &AppOptions::default());
            if std::env::var_os(STARTUP_PROBE).is_some() {
                return Ok(Box::new(StartupProbe { app, started: Some(started) }) as Box<dyn eframe::App>);
            }
            Ok(Box::new(app))
        }),
    )
}

/// With this variable set, the app says on stderr when its first frame is laid out, for the
/// cold-start benchmark (`cargo bench --bench app`).
const STARTUP_PROBE: &str = "MQTT_LAB_STARTUP_PROBE";

struct StartupProbe {
    app: App,
    started: Option<Instant>,
}

impl eframe::App for StartupProbe {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.app.logic(ctx, frame);
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.app.ui(ui, frame);
        if let Some(started) = self.started.take() {
            eprintln!("mqtt-lab: first frame after {} ms", started.elapsed().as_millis());
        }
    }
}
