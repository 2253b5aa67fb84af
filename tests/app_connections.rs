//! A connection is its own thing: connected with one profile, choosing another in the picker
//! changes what the editor shows, not the connection, the top bar's name for it, where its
//! messages are recorded (the SQLite history) or what an export of the list names and holds.
//! Disconnected, it stays listed with its messages until it is closed.

mod support;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mqtt_lab::connection::ConnectionStatus;
use support::*;

const BUILTIN: &str = "Built-in broker";
const PI: &str = "Raspberry Pi (password, client id prefix)";

/// Rows per profile in the history file, read with SQLite itself once `n` rows are committed
/// (the writer commits every 500 ms at most): the app keeps running meanwhile.
fn rows_per_profile(
    harness: &mut egui_kittest::Harness<'_, mqtt_lab::App>,
    dir: &ProfileDir,
    n: i64,
) -> Vec<(String, i64)> {
    let start = std::time::Instant::now();
    loop {
        let db = rusqlite::Connection::open(dir.0.join("history.sqlite3")).unwrap();
        let total: i64 = db.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();
        if total >= n {
            let mut query =
                db.prepare("SELECT profile, count(*) FROM messages GROUP BY profile ORDER BY profile").unwrap();
            return query.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect();
        }
        assert!(start.elapsed() < PATIENCE, "the history writer did not commit {n} rows");
        harness.step();
        std::thread::yield_now();
    }
}

#[test]
fn choosing_another_profile_while_connected_leaves_the_connection_and_its_data_alone() {
    let runtime = runtime();
    let dir = ProfileDir::new("connections");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the first message", |app| app.model().messages.total() == 1);

    choose_profile(&mut harness, PI);
    assert_eq!(harness.state().selected_profile().name, PI, "the editor shows the chosen profile");
    assert_eq!(harness.state().connected_profile(), Some(BUILTIN));
    // The top bar names the connection by its own profile and address, still connected.
    assert!(
        harness.query_by_label_contains(&format!("{BUILTIN} (127.0.0.1:")).is_some(),
        "the bar names the connection"
    );
    assert!(harness.query_by_label_contains("Connected").is_some());

    // A message received now is the connection's, recorded under its profile.
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the second message", |app| app.model().messages.total() == 2);
    harness.get_by_label("Screenshots and exports").click();
    settle(&mut harness);
    set_field(&mut harness, "Reports folder", &dir.0.join("reports").display().to_string());
    harness.get_by_label("Export CSV").click();
    step_until(&mut harness, "the export", |app| app.model().log.iter().any(|l| l.text.starts_with("Exported ")));
    let exported = std::fs::read_dir(dir.0.join("reports")).unwrap().map(|e| e.unwrap().path()).collect::<Vec<_>>();
    assert_eq!(exported.len(), 1, "{exported:?}");
    let name = exported[0].file_name().unwrap().to_string_lossy().to_lowercase();
    assert!(
        name.contains("built-in") && !name.contains("raspberry"),
        "the file names the connection's profile: {name}"
    );
    let csv = std::fs::read_to_string(&exported[0]).unwrap();
    assert_eq!(csv.lines().filter(|l| l.contains("PV/sunshine")).count(), 2, "{csv}");

    // Everything was recorded under the connection's profile, none under the one selected.
    assert_eq!(rows_per_profile(&mut harness, &dir, 2), vec![(BUILTIN.to_owned(), 2)]);

    // Disconnected, the connection stays listed with what it showed, until it is closed.
    harness.get_by_role_and_label(Role::Button, "Disconnect").click();
    step_until(&mut harness, "disconnected", |app| matches!(app.status(), ConnectionStatus::Disconnected));
    assert_eq!(harness.state().connected_profile(), Some(BUILTIN));
    assert_eq!(harness.state().model().messages.total(), 2, "its messages stay on view");
    // Closed, the list shows the selected profile's history: none.
    harness.get_by_label(&format!("Close {BUILTIN}")).click();
    step_until(&mut harness, "the selected profile's (empty) history", |app| {
        app.connected_profile().is_none() && app.model().messages.is_empty()
    });
    assert!(harness.query_by_label_contains("Connections (").is_none(), "no connection is listed");
}

/// The history holds 10,003 messages; the newest 10,000 are reloaded into memory, and the oldest
/// of those shares its millisecond with the three before it, which only the file holds. An export
/// of the list writes each of the 10,003 once (a cut at "before the oldest in memory" loses the
/// three; a cut taken before the messages arrived writes them twice).
#[test]
fn an_export_writes_each_message_once_across_the_cut_between_history_and_memory() {
    use mqtt_lab::connection::{Qos, ReceivedMessage};
    use mqtt_lab::history::{self, Record};
    let runtime = runtime();
    let dir = ProfileDir::new("export-cut");
    std::fs::create_dir_all(&dir.0).unwrap();
    let t0 = std::time::SystemTime::now() - std::time::Duration::from_hours(1);
    let records: Vec<Record> = (0..10_003u64)
        .map(|i| Record {
            profile: BUILTIN.into(),
            client_id: String::new(),
            message: ReceivedMessage {
                topic: "PV/data".into(),
                payload: format!("m{i}").into(),
                qos: Qos::AtMostOnce,
                retain: false,
                dup: false,
                // Messages 0 to 3 in one millisecond, then one a millisecond.
                at: t0 + std::time::Duration::from_millis(i.saturating_sub(3)),
                properties: mqtt_lab::mqtt::PublishProperties::default(),
            },
        })
        .collect();
    history::insert(&mut history::open(&dir.0.join("history.sqlite3")).unwrap(), &records).unwrap();

    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the newest 10,000 reloaded", |app| app.model().messages.len() == 10_000);
    settle(&mut harness);
    harness.get_by_label("Screenshots and exports").click();
    settle(&mut harness);
    set_field(&mut harness, "Reports folder", &dir.0.join("reports").display().to_string());
    harness.get_by_label("Export CSV").click();
    step_until(&mut harness, "the export", |app| app.model().log.iter().any(|l| l.text.starts_with("Exported ")));
    let exported = std::fs::read_dir(dir.0.join("reports")).unwrap().map(|e| e.unwrap().path()).collect::<Vec<_>>();
    let csv = std::fs::read_to_string(&exported[0]).unwrap();
    let mut seen = vec![0u32; records.len()];
    for line in csv.lines().skip(1) {
        let payload = line.split(',').nth(6).unwrap_or_else(|| panic!("a CSV row: {line}"));
        seen[payload.trim_start_matches('m').parse::<usize>().unwrap()] += 1;
    }
    let wrong: Vec<_> = seen.iter().enumerate().filter(|(_, n)| **n != 1).collect();
    assert!(wrong.is_empty(), "(message, times exported) not once: {wrong:?}");
}
