//! `cargo run --release`: the MQTT Lab window, with the built-in broker running.
//! `mqtt-lab check PROFILE_FILE`: the connection self-test on the command line.
//! `mqtt-lab simulate pv|lamp --profile FILE`: a simulated device.

use std::process::ExitCode;

use mqtt_lab::cli::{self, Invocation};
use mqtt_lab::{App, AppOptions};

fn main() -> ExitCode {
    match cli::parse(std::env::args().skip(1)) {
        Ok(Invocation::Window) => match window() {
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

fn window() -> eframe::Result {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mqtt-lab-io")
        .enable_all()
        .build()
        .map_err(|e| eframe::Error::AppCreation(Box::new(e)))?;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1100.0, 720.0]).with_title("MQTT Lab"),
        ..Default::default()
    };
    let handle = runtime.handle().clone();
    eframe::run_native(
        "MQTT Lab",
        options,
        Box::new(move |cc| Ok(Box::new(App::new(&cc.egui_ctx, handle, &AppOptions::default())))),
    )
}
