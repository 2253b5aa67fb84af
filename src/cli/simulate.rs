//! `mqtt-lab simulate pv|lamp --profile FILE`: a simulated device from the command line, printing
//! what it publishes, until Ctrl+C or `--count` updates.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::simulate::{Device, SimEvent, SimOptions, Simulator, TOPIC_CLOCK};

/// The built-in broker's usual port, for a profile that names it (the app's window must be open).
const BUILTIN_PORT: u16 = 1883;

/// Runs the device until it ends; the exit code (0 done or stopped, 1 bad profile, 5 no connection).
pub fn simulate(device: Device, path: &Path, speed: f64, count: Option<u64>, out: &mut impl Write) -> u8 {
    let Some(profile) = super::read_profile(path, out) else { return 1 };
    let settings = match profile.connect_settings(Some(BUILTIN_PORT)) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return 1;
        }
    };
    let (runtime, interrupted) = match super::interruptible_runtime("mqtt-lab-sim") {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(out, "Cannot start: {e}");
            return 1;
        }
    };
    let _ = writeln!(
        out,
        "Simulating the {} on {}:{} ({}); Ctrl+C stops.",
        device.name(),
        settings.host,
        settings.port,
        if speed > 1.0 { format!("{speed}x real time") } else { "real time".to_owned() }
    );
    if device == Device::Pv && speed > 1.0 {
        let _ = writeln!(
            out,
            "The simulated day starts at 06:00; its clock goes to {TOPIC_CLOCK} before each reading (the plot's \"Simulated day clock\")."
        );
    }
    let mut sim = Simulator::start(runtime.handle(), device, settings, SimOptions { speed, count }, Arc::new(|| {}));
    loop {
        if interrupted.swap(false, Ordering::SeqCst) {
            sim.stop();
        }
        let Some(event) = sim.recv_timeout(Duration::from_millis(100)) else { continue };
        let _ = match &event {
            SimEvent::Status(text) | SimEvent::Log(text) | SimEvent::Ended(text) => writeln!(out, "{text}"),
            SimEvent::Published { topic, payload } => writeln!(out, "{topic} {payload}"),
        };
        let _ = out.flush();
        if let SimEvent::Ended(text) = event {
            return if text.ends_with("stopped.") || text.ends_with("sent.") { 0 } else { 5 };
        }
    }
}
