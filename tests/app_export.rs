//! Exporting the message list: 12,000 stored messages (10,000 held in memory, 2,000 only in the
//! history file) exported as CSV and JSON from the real app, oldest first, then a searched view.

mod support;

use std::time::Duration;

use egui_kittest::kittest::Queryable;
use support::*;

fn exported(app: &mqtt_lab::App) -> Vec<String> {
    app.model()
        .log
        .iter()
        .filter_map(|l| l.text.strip_prefix("Exported "))
        .map(|t| t.split(" to ").nth(1).unwrap().trim_end_matches('.').to_owned())
        .collect()
}

#[test]
fn the_listed_messages_are_exported_as_csv_and_json_oldest_first() {
    let runtime = runtime();
    let dir = ProfileDir::new("export");
    stored_history(&dir, 12_000, Duration::from_hours(3), |i| {
        if i % 1_000 == 7 { format!("needle {i}") } else { format!("{}", i % 50) }
    });

    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the list with its older rows", |app| {
        app.model().messages.len() == 10_000 && app.model().stored.len() == 2_000
    });
    harness.get_by_label("Screenshots and exports").click();
    settle(&mut harness);
    set_field(&mut harness, "Reports folder", &dir.0.join("reports").display().to_string());

    harness.get_by_label("Export CSV").click();
    step_until(&mut harness, "the CSV", |app| exported(app).len() == 1);
    harness.get_by_label("Export JSON").click();
    step_until(&mut harness, "the JSON", |app| exported(app).len() == 2);
    let files = exported(harness.state());
    assert!(harness.state().model().log.iter().any(|l| l.text.starts_with("Exported 12000 message(s) to ")));
    // In the reports folder, named with date, time, profile and what they hold.
    for (file, extension) in files.iter().zip(["csv", "json"]) {
        let path = std::path::Path::new(file);
        assert_eq!(path.parent(), Some(dir.0.join("reports").as_path()));
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with(&format!("_built-in-broker_messages.{extension}")) && name.len() > 19, "{name}");
    }
    // The notice names the last file, without opening the Log.
    settle(&mut harness);
    let json_name = std::path::Path::new(&files[1]).file_name().unwrap().to_str().unwrap().to_owned();
    assert!(harness.query_by_label_contains(&format!("Saved {json_name} (12000 message(s)) in ")).is_some());
    assert!(harness.query_by_label("Open folder").is_some());

    let csv = std::fs::read_to_string(&files[0]).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 12_001, "a header and every message");
    // The last column holds MQTT 5 properties: empty for these 3.1.1 messages.
    assert!(rows[1].ends_with(",PV/data,0,0,text,0,"), "the oldest first: {}", rows[1]);
    assert!(rows[12_000].ends_with(",PV/data,0,0,text,49,"), "the newest last: {}", rows[12_000]);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 12_000);
    assert_eq!(json[7]["payload"], "needle 7");

    // A searched view exports what it lists, from memory and from the file.
    set_field(&mut harness, "Search", "needle");
    step_until(&mut harness, "the search counted", |app| app.model().stored.len() == 2);
    harness.get_by_label("Export CSV").click();
    step_until(&mut harness, "the searched CSV", |app| exported(app).len() == 3);
    let csv = std::fs::read_to_string(&exported(harness.state())[2]).unwrap();
    // The payload is the column before the (empty) properties.
    let payloads: Vec<&str> = csv.lines().skip(1).map(|l| l.rsplit(',').nth(1).unwrap()).collect();
    assert_eq!(payloads.len(), 12, "{payloads:?}");
    assert_eq!(payloads[0], "needle 7");
    assert_eq!(payloads[11], "needle 11007");
}
