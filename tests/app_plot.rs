//! The plot tab driven as a student would: series defined in the editor (a wildcard one split by
//! topic), messages published through the real built-in broker, the plot reloaded from a real
//! SQLite file after a restart, and CSV and PNG exports written to disk.

mod support;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use support::*;

fn publish(harness: &mut egui_kittest::Harness<'_, mqtt_lab::App>, topic: &str, payload: &str) {
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
        assert_eq!(harness.state().profile().plot[0].filter, "PV/+/kw", "applied to the profile");

        publish(&mut harness, "PV/east/kw", "1.5");
        publish(&mut harness, "PV/west/kw", "2.5");
        publish(&mut harness, "PV/east/kw", "1.75");
        publish(&mut harness, "PV/sunshine", "yes"); // matches PV/# but not the series
        step_until(&mut harness, "four messages", |app| app.model.messages.total() == 4);
        settle(&mut harness);
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
        app.plot_view.editing.len() == 2 && harness_points(app) == 3
    });
    settle(&mut harness);
    assert!(harness.query_by_label("PV/east/kw (kW): 2 point(s), latest 1.75 kW").is_some());

    // Exports of what is in view.
    harness.get_by_label("Export").click();
    settle(&mut harness);
    let base = dir.0.join("report");
    set_field(&mut harness, "Export to", &base.display().to_string());
    harness.get_by_label("Save CSV").click();
    harness.get_by_label("Save PNG").click();
    step_until(&mut harness, "both files written", |app| {
        app.model.log.iter().filter(|l| l.text.starts_with("Plot saved to")).count() == 2
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
