//! The plot tab driven as a student would: series defined in the editor (a wildcard one split by
//! topic), messages published through the real built-in broker, the plot reloaded from a real
//! SQLite file after a restart, and CSV and PNG exports written to disk. A time-lapse day on
//! its simulated clock, fitted to the plot, its line broken where the app was disconnected.

mod support;

use std::sync::Arc;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mqtt_lab::connection::ConnectionStatus;
use mqtt_lab::model::SubscriptionState;
use mqtt_lab::plot::{format_local, local, midnight};
use mqtt_lab::simulate::{Device, SimEvent, SimOptions, Simulator, TIME_LAPSE, TOPIC_CLOCK, parse_clock};
use support::*;

/// Publishes from the form, which is on the Messages tab.
fn publish(harness: &mut egui_kittest::Harness<'_, mqtt_lab::App>, topic: &str, payload: &str) {
    harness.get_by_role_and_label(Role::Button, "Messages").click();
    settle(harness);
    set_field(harness, "Topic", topic);
    set_field(harness, "Payload", payload);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    settle(harness);
}

fn open_plot(harness: &mut egui_kittest::Harness<'_, mqtt_lab::App>) {
    harness.get_by_role_and_label(Role::Button, "Plot").click();
    settle(harness);
}

#[test]
fn a_wildcard_series_draws_one_line_per_topic_and_survives_a_restart() {
    let runtime = runtime();
    let dir = ProfileDir::new("plot-split");
    {
        let mut harness = app_harness(&runtime, &dir);
        connect_and_subscribe(&mut harness); // PV/#
        open_plot(&mut harness);
        harness.get_by_label("Series").click();
        settle(&mut harness);
        set_field(&mut harness, "Series 1", "PV/+/kw");
        harness.get_by_label("Apply series").click();
        settle(&mut harness);
        assert_eq!(harness.state().selected_profile().plot[0].filter, "PV/+/kw", "applied to the profile");

        publish(&mut harness, "PV/east/kw", "1.5");
        publish(&mut harness, "PV/west/kw", "2.5");
        publish(&mut harness, "PV/east/kw", "1.75");
        publish(&mut harness, "PV/sunshine", "yes"); // matches PV/# but not the series
        step_until(&mut harness, "four messages", |app| app.model().messages.total() == 4);
        open_plot(&mut harness);
        assert!(harness.query_by_label("PV/east/kw (kW): 2 point(s), latest 1.75 kW").is_some());
        assert!(harness.query_by_label("PV/west/kw (kW): 1 point(s), latest 2.5 kW").is_some());
        assert!(harness.query_by_label_contains("PV/sunshine (kW)").is_none(), "no value, no line");
    }
    let saved = std::fs::read_to_string(dir.0.join("built-in-broker.json")).expect("the profile file");
    assert!(saved.contains("PV/+/kw"), "the series are saved with the profile: {saved}");

    // A new app on the same files: the plot loads the points from history without connecting.
    let mut harness = app_harness(&runtime, &dir);
    open_plot(&mut harness);
    step_until(&mut harness, "the plot loaded from history", |app| {
        app.plot_view().editing.len() == 2 && harness_points(app) == 3
    });
    settle(&mut harness);
    assert!(harness.query_by_label("PV/east/kw (kW): 2 point(s), latest 1.75 kW").is_some());

    // Exports of what is in view.
    harness.get_by_label("Export").click();
    settle(&mut harness);
    let base = dir.0.join("report");
    set_field(&mut harness, "Export to", &base.display().to_string());
    harness.get_by_label("Save CSV").click();
    settle(&mut harness);
    harness.get_by_label("Save PNG").click();
    step_until(&mut harness, "both files written", |app| {
        app.model().log.iter().filter(|l| l.text.starts_with("Plot saved to")).count() == 2
    });
    let csv = std::fs::read_to_string(base.with_extension("csv")).expect("the CSV");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "time,unix_ms,series,topic,unit,value");
    assert_eq!(rows.len(), 4, "one row per point: {csv}");
    assert!(rows.iter().any(|r| r.ends_with("PV/west/kw (kW),PV/west/kw,kW,2.5")), "{csv}");
    let png = std::fs::read(base.with_extension("png")).expect("the PNG");
    assert_eq!(&png[1..4], b"PNG");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 1600, "the chosen width");
}

fn harness_points(app: &mqtt_lab::App) -> usize {
    app.plot_points()
}

/// The plant's simulated time as it last published its clock (it reports every publish).
fn simulated_now(sim: &Simulator, latest: &mut f64) -> f64 {
    while let Some(event) = sim.try_event() {
        if let SimEvent::Published { topic, payload } = event
            && topic == TOPIC_CLOCK
        {
            *latest = parse_clock(payload.as_bytes()).expect("the plant's clock payload");
        }
    }
    *latest
}

/// Steps the app until the plant's clock reads `hour` (local, on its day), bounded.
fn run_until(harness: &mut egui_kittest::Harness<'_, mqtt_lab::App>, sim: &Simulator, latest: &mut f64, hour: f64) {
    let start = std::time::Instant::now();
    loop {
        let now = simulated_now(sim, latest);
        if now > 0.0 && (now - midnight(now)) / 3_600.0 >= hour {
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the plant's clock reached {hour}: {}; {:?}",
            format_local(*latest),
            harness.state().model().log
        );
        harness.step();
        std::thread::yield_now();
    }
}

#[test]
fn a_time_lapse_day_is_drawn_from_06_to_20_and_a_disconnection_breaks_its_line() {
    let runtime = runtime();
    let dir = ProfileDir::new("plot-time-lapse");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness); // PV/#: the data and the plant's clock
    open_plot(&mut harness);
    harness.get_by_label("Simulated day clock").click();
    settle(&mut harness);

    // The plant as `mqtt-lab simulate pv --time-lapse` runs it, against the app's broker, but 40
    // times faster than the time-lapse (a day in 15 s, still 2.4 simulated minutes a reading).
    let Some(addr) = harness.state().builtin_addr() else { panic!("the built-in broker") };
    let settings = harness.state().selected_profile().connect_settings(Some(addr.port())).unwrap();
    let options = SimOptions { speed: TIME_LAPSE * 40.0, count: None };
    let mut sim = Simulator::start(runtime.handle(), Device::Pv, settings, options, Arc::new(|| {}));
    let mut latest = 0.0;
    run_until(&mut harness, &sim, &mut latest, 6.0);
    let six = latest;
    assert_eq!(local(six).format("%H:%M").to_string(), "06:00", "a time-lapse starts at 06:00");

    // The app goes away for a while in the middle of the day, and comes back.
    run_until(&mut harness, &sim, &mut latest, 11.0);
    harness.get_by_role_and_label(Role::Button, "Disconnect").click();
    step_until(&mut harness, "disconnected", |app| matches!(app.status(), ConnectionStatus::Disconnected));
    let off = simulated_now(&sim, &mut latest);
    run_until(&mut harness, &sim, &mut latest, 13.0);
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the SUBACK", |app| {
        app.model().subscriptions.list.iter().any(|s| matches!(s.state, SubscriptionState::Active(_)))
    });
    let on = simulated_now(&sim, &mut latest);
    run_until(&mut harness, &sim, &mut latest, 18.75);
    sim.stop();
    step_until(&mut harness, "the evening's readings", |app| {
        app.plot_view().segments.iter().any(|(_, pieces)| pieces.last().is_some_and(|p| p.1 >= six + 12.5 * 3_600.0))
    });
    settle(&mut harness);

    // Fit data: the day fills the plot, its axis reads from 06:00 to 20:00.
    harness.get_by_label("Fit data").click();
    settle(&mut harness);
    harness.step();
    let view = harness.state().plot_view();
    assert_eq!(view.x_labels.first().map(String::as_str), Some("06:00"), "{:?}", view.x_labels);
    assert_eq!(view.x_labels.last().map(String::as_str), Some("20:00"), "{:?}", view.x_labels);
    let (name, pieces) = &view.segments[0];
    assert_eq!(name, "PV/data (kW)");
    assert!(pieces[0].0 < six + 600.0 && pieces[pieces.len() - 1].1 > six + 12.5 * 3_600.0, "{pieces:?}");
    // No line across the time the app was away: one piece ends before it, the next starts after
    // (give or take 10 simulated minutes: a reading is dated its clock plus the few real
    // milliseconds since, at 5,760 times real time).
    assert!(
        pieces.windows(2).any(|w| w[0].1 <= off + 600.0 && w[1].0 >= on - 600.0 && w[1].0 - w[0].1 > 3_600.0),
        "a break from {} to {}: {:?}",
        format_local(off),
        format_local(on),
        pieces.iter().map(|p| (format_local(p.0), format_local(p.1))).collect::<Vec<_>>()
    );
}

#[test]
fn the_series_editor_fits_a_laptop_screen() {
    let runtime = runtime();
    for (w, h) in [(1024.0, 640.0), (1280.0, 720.0)] {
        let dir = ProfileDir::new(&format!("plot-series-{w}"));
        let size = egui::vec2(w, h);
        let mut harness = harness_sized(&runtime, &dir, size);
        open_plot(&mut harness);
        harness.get_by_label("Series").click();
        settle(&mut harness);
        harness.get_by_label("Add series").click();
        settle(&mut harness);
        // The luminosity's JSON field: the widest row the course has.
        assert!(matches!(harness.state().plot_view().editing[1].extractor, mqtt_lab::plot::Extractor::Json { .. }));
        if std::env::var_os("KEEP_IMAGES").is_some() {
            let image = harness.render().expect("the software renderer draws the window");
            image.save(std::env::temp_dir().join(format!("series_{w}.png"))).unwrap();
        }
        let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
        let mut seen = 0;
        for label in ["Series 1", "Series 2", "Series 3", "Value", "Unit", "Axis", "Split", "Remove", "Apply series"] {
            for node in harness.query_all_by_label(label) {
                let rect = node.rect();
                assert!(
                    rect.right() <= window.right() + 0.5 && rect.width() >= 8.0,
                    "at {w}x{h} {label:?} is cut off or squeezed: {rect:?}"
                );
                seen += 1;
            }
        }
        assert!(seen >= 15, "{seen}");
        // A JSON path is as wide as it was meant to be.
        let path = harness.query_all_by_label("Value").map(|n| n.rect()).filter(|r| r.width() >= 100.0).count();
        assert!(path >= 1, "the JSON path field keeps its width at {w}x{h}");
    }
}
