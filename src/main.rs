//! `cargo run --release`: the MQTT Lab window, with the built-in broker running.

use mqtt_lab::{App, AppOptions};

fn main() -> eframe::Result {
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
