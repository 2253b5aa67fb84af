//! The plot's speed targets (issue 6), one command: `cargo bench --bench plot`.
//!
//! - CPU time per frame of the plot tab with three series of 86,400 points (a day at 1 Hz):
//!   egui's layout of the tab plus tessellation, i.e. all the CPU work of a frame but the GPU
//!   upload, measured as this thread's CPU time over 100 frames.
//! - The time to reload that day from a real history file (SQLite, 259,200 rows among another
//!   profile's), as the plot tab does when "Last 24 h" is chosen.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cpu_time::ThreadTime;
use mqtt_lab::connection::{Qos, ReceivedMessage};
use mqtt_lab::history::{self, Record};
use mqtt_lab::plot::{Extractor, SeriesDef, TimeRange, Traces};
use mqtt_lab::ui::{PlotInput, PlotView, plot_tab};

const DAY: u32 = 86_400;

/// The course's plot (kW left, luminosity % right) plus the sunshine switch as steps.
fn defs() -> Vec<SeriesDef> {
    let mut defs = mqtt_lab::profile::default_plot();
    defs.push(SeriesDef {
        filter: "PV/sunshine".into(),
        extractor: Extractor::Switch,
        color: [0x2c, 0xa0, 0x2c],
        ..SeriesDef::default()
    });
    defs
}

/// The three topics' payloads at second `s` of the day.
fn payloads(s: u32) -> [(&'static str, String); 3] {
    let x = f64::from(s) / f64::from(DAY);
    [
        ("PV/data", format!("{:.3}", (4.5 * (x * std::f64::consts::PI).sin()).max(0.0) + f64::from(s % 13) / 50.0)),
        (
            "lamp/luminosity",
            format!("{{\"sensor\":\"ldr\",\"value\":{:.1},\"unit\":\"%\"}}", 50.0 + 45.0 * (x * 6.0).sin()),
        ),
        ("PV/sunshine", if (s / 600).is_multiple_of(3) { "no".into() } else { "yes".into() }),
    ]
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = samples.iter().sum::<Duration>() / u32::try_from(samples.len()).unwrap_or(1);
    format!(
        "mean {:.2} ms, median {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} runs)",
        ms(mean),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 95 / 100]),
        ms(samples[samples.len() - 1]),
        samples.len()
    )
}

fn frame_time() {
    let defs = defs();
    let end = now();
    let start = end - f64::from(DAY);
    let mut traces = Traces::default();
    for s in 0..DAY {
        for (topic, payload) in payloads(s) {
            traces.add(&defs, topic, payload.as_bytes(), start + f64::from(s));
        }
    }
    println!("plot: {} points in {} lines", traces.points(), traces.list.len());
    let ctx = egui::Context::default();
    let mut view = PlotView::default();
    view.range = TimeRange::Last24h;
    let input = PlotInput { defs: &defs, traces: &traces, status: String::new(), now: end };
    let raw = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1600.0, 900.0))),
        ..egui::RawInput::default()
    };
    let mut frame = || {
        let output = ctx.run_ui(raw(), |ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                let _ = plot_tab(ui, &mut view, &input);
            });
        });
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
    };
    for _ in 0..5 {
        frame();
    }
    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        let (c, w) = (ThreadTime::now(), Instant::now());
        frame();
        cpu.push(c.elapsed());
        wall.push(w.elapsed());
    }
    println!("frame CPU time, 3 x 86,400 points, 1600 x 900: {}", stats(cpu));
    println!("frame wall time:                               {}", stats(wall));
}

fn reload_time() {
    let dir = std::env::temp_dir().join(format!("mqtt-lab-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("history.sqlite3");
    let mut db = history::open(&path).expect("the history file");
    let end = now();
    let start = end - f64::from(DAY);
    let message = |topic: &str, payload: String, at: f64| ReceivedMessage {
        topic: topic.into(),
        payload: Bytes::from(payload),
        qos: Qos::AtMostOnce,
        retain: false,
        dup: false,
        at: UNIX_EPOCH + Duration::from_secs_f64(at),
        properties: mqtt_lab::mqtt::PublishProperties::default(),
    };
    let filled = Instant::now();
    let mut batch = Vec::new();
    for s in 0..DAY {
        let at = start + f64::from(s);
        for (topic, payload) in payloads(s) {
            batch.push(Record {
                profile: "Raspberry Pi".into(),
                client_id: String::new(),
                message: message(topic, payload, at),
            });
        }
        // Another profile's traffic in the same file, which the reload must skip.
        batch.push(Record {
            profile: "Built-in broker".into(),
            client_id: String::new(),
            message: message("PV/data", "1.0".into(), at),
        });
        if batch.len() >= 20_000 {
            history::insert(&mut db, &batch).expect("insert");
            batch.clear();
        }
    }
    history::insert(&mut db, &batch).expect("insert");
    drop(db);
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!("history: 345,600 rows written in {:.1} s, {} kB", filled.elapsed().as_secs_f64(), size / 1000);
    let defs = defs();
    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let (c, w) = (ThreadTime::now(), Instant::now());
        // A millisecond early: history keeps whole milliseconds (truncated), and the range's
        // start is rounded, which left out the first second's points half the time.
        let loaded = mqtt_lab::plot::load(&path, "Raspberry Pi", &defs, (start - 0.001, end)).expect("load");
        cpu.push(c.elapsed());
        wall.push(w.elapsed());
        assert_eq!(loaded.traces.points(), 3 * DAY as usize);
    }
    println!("reload a day (3 x 86,400 points) from history: wall {}", stats(wall));
    println!("                                               CPU  {}", stats(cpu));
    let _ = std::fs::remove_dir_all(dir);
}

fn main() {
    frame_time();
    reload_time();
}
