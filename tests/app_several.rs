//! Several connections at once, driven as a user does: the built-in broker and Debian's
//! Mosquitto open side by side, each message landing only in its own connection's list and
//! history (read with SQLite itself); closing one leaves the other connected; one profile opened
//! twice with distinct client ids; two connections with one client id explained as a takeover.

mod support;

use std::process::Command;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mqtt_lab::connection::ConnectionStatus;
use mqtt_lab::model::SubscriptionState;
use support::mosquitto::Mosquitto;
use support::*;

const BUILTIN: &str = "Built-in broker";

fn publish(port: u16, topic: &str, payload: &str) {
    let out = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1", "-t", topic, "-m", payload])
        .output()
        .expect("mosquitto_pub runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn connected(app: &mqtt_lab::App, i: usize) -> bool {
    app.model_of(i).is_some_and(|m| matches!(m.status, ConnectionStatus::Connected { .. }))
}

fn subscribed(app: &mqtt_lab::App) -> bool {
    app.model().subscriptions.list.iter().any(|s| matches!(s.state, SubscriptionState::Active(_)))
}

/// (profile, client id, topic, payload) of every row in the history file, once `n` are there.
fn history_rows(
    harness: &mut egui_kittest::Harness<'_, mqtt_lab::App>,
    dir: &ProfileDir,
    n: usize,
) -> Vec<(String, String, String, String)> {
    let start = std::time::Instant::now();
    loop {
        let db = rusqlite::Connection::open(dir.0.join("history.sqlite3")).unwrap();
        let mut query = db
            .prepare(
                "SELECT profile, coalesce(client_id, ''), topic, CAST(payload AS TEXT) FROM messages ORDER BY at_ms",
            )
            .unwrap();
        let rows: Vec<_> = query
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        if rows.len() >= n {
            return rows;
        }
        assert!(start.elapsed() < PATIENCE, "the history writer did not commit {n} rows: {rows:?}");
        harness.step();
        std::thread::yield_now();
    }
}

#[test]
fn the_built_in_broker_and_mosquitto_open_at_once_each_keep_their_own_messages() {
    let runtime = runtime();
    let dir = ProfileDir::new("several");
    let (_mosquitto, mosquitto_port) = Mosquitto::anonymous(&dir.0);

    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness);
    let builtin_port = harness.state().builtin_addr().unwrap().port();
    let builtin_id = harness.state().selected_profile().client_id.clone();

    // A profile for Mosquitto, connected beside the first: the list shows both.
    new_profile_at(&mut harness, mosquitto_port);
    let other = harness.state().selected_profile().name.clone();
    let other_id = harness.state().selected_profile().client_id.clone();
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    step_until(&mut harness, "both connected", |app| connected(app, 0) && connected(app, 1));
    assert_eq!(harness.state().connections(), (vec![BUILTIN.to_owned(), other.clone()], 1));
    assert!(harness.query_by_label_contains("Connections (2)").is_some());
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "Mosquitto's SUBACK", subscribed);

    // Each broker's message lands in its own connection's list only.
    publish(mosquitto_port, "PV/data", "2.5");
    publish(builtin_port, "PV/sunshine", "no");
    step_until(&mut harness, "one message each", |app| {
        app.model_of(0).unwrap().messages.total() == 1 && app.model_of(1).unwrap().messages.total() == 1
    });
    let first = harness.state().model_of(0).unwrap().messages.get(0).unwrap().clone();
    let second = harness.state().model_of(1).unwrap().messages.get(0).unwrap().clone();
    assert_eq!((first.topic.as_str(), &first.payload[..]), ("PV/sunshine", &b"no"[..]));
    assert_eq!((second.topic.as_str(), &second.payload[..]), ("PV/data", &b"2.5"[..]));

    // The publish form sends on the connection on view (Mosquitto's): only it hears it back.
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the form's message on Mosquitto", |app| app.model().messages.total() == 2);
    assert_eq!(harness.state().model_of(0).unwrap().messages.total(), 1);

    // The history knows which connection received what (profile and client id), in SQLite.
    let rows = history_rows(&mut harness, &dir, 3);
    let mine = |profile: &str| -> Vec<_> {
        rows.iter().filter(|r| r.0 == profile).map(|r| (r.1.clone(), r.2.clone(), r.3.clone())).collect()
    };
    assert_eq!(mine(BUILTIN), vec![(builtin_id.clone(), "PV/sunshine".into(), "no".into())]);
    assert_eq!(
        mine(&other),
        vec![(other_id.clone(), "PV/data".into(), "2.5".into()), (other_id, "PV/sunshine".into(), "yes".into())]
    );

    // Switching the view shows the other connection's list; the bar names it.
    harness.get_by_role_and_label(Role::Button, BUILTIN).click();
    settle(&mut harness);
    assert_eq!(harness.state().connections().1, 0);
    assert_eq!(harness.state().model().messages.total(), 1);
    assert!(harness.query_by_label_contains(&format!("{BUILTIN} (127.0.0.1:{builtin_port})")).is_some());

    // Closing Mosquitto's connection leaves the built-in one connected and receiving.
    harness.get_by_label(&format!("Close {other}")).click();
    settle(&mut harness);
    assert_eq!(harness.state().connections(), (vec![BUILTIN.to_owned()], 0));
    publish(builtin_port, "PV/sunshine", "yes");
    step_until(&mut harness, "the built-in connection still receiving", |app| {
        connected(app, 0) && app.model().messages.total() == 2
    });
}

#[test]
fn one_profile_opened_twice_publishes_to_itself_and_one_client_id_twice_is_a_takeover() {
    let runtime = runtime();
    let dir = ProfileDir::new("several-twice");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness);
    let id = harness.state().selected_profile().client_id.clone();

    // "Open again": a second connection of the same profile, with its own client id.
    harness.get_by_role_and_label(Role::Button, "Open again").click();
    step_until(&mut harness, "both connected", |app| connected(app, 0) && connected(app, 1));
    assert_eq!(harness.state().connections(), (vec![BUILTIN.to_owned(), format!("{BUILTIN} #2")], 1));
    assert!(
        harness.state().model().log.iter().any(|l| l.text.contains(&format!("\"{id}-2\""))),
        "the log names the second client id: {:?}",
        harness.state().model().log
    );
    // The second (not subscribed) publishes; the first (subscribed to PV/#) receives.
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the first connection hears the second", |app| {
        app.model_of(0).unwrap().messages.total() == 1
    });
    assert_eq!(harness.state().model().messages.total(), 0, "the publisher is not subscribed");
    assert!(connected(harness.state(), 0) && connected(harness.state(), 1), "distinct ids: no takeover");

    // The second subscribes and hears its own next message; the first hears it too. The
    // second's export holds its own message only, not the first's older one of the same profile
    // (which history holds under the same profile name, another client id).
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the second's SUBACK", subscribed);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "one message on the second, two on the first", |app| {
        app.model().messages.total() == 1 && app.model_of(0).unwrap().messages.total() == 2
    });
    let _ = history_rows(&mut harness, &dir, 3);
    harness.get_by_label("Screenshots and exports").click();
    settle(&mut harness);
    set_field(&mut harness, "Reports folder", &dir.0.join("reports").display().to_string());
    harness.get_by_label("Export CSV").click();
    step_until(&mut harness, "the export", |app| app.model().log.iter().any(|l| l.text.starts_with("Exported ")));
    let exported: Vec<_> = std::fs::read_dir(dir.0.join("reports")).unwrap().map(|e| e.unwrap().path()).collect();
    let csv = std::fs::read_to_string(&exported[0]).unwrap();
    assert_eq!(csv.lines().filter(|l| l.contains("PV/sunshine")).count(), 1, "{csv}");
    assert!(
        exported[0].to_string_lossy().contains("built-in-broker-2_"),
        "named after the second connection: {exported:?}"
    );
    harness.get_by_label("Screenshots and exports").click();
    settle(&mut harness);

    // Another profile with the first one's client id, on the same broker: the broker keeps one
    // connection per client id. The app says so where the connection's state is shown.
    let port = harness.state().builtin_addr().unwrap().port();
    new_profile_at(&mut harness, port);
    set_field(&mut harness, "Client id", &id);
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    step_until(&mut harness, "the first connection taken over, and why", |app| {
        app.model_of(0)
            .is_some_and(|m| matches!(&m.status, ConnectionStatus::Failed(reason) if reason.contains("takeover")))
    });
    let text = harness.state().model_of(0).unwrap().log.iter().map(|l| l.text.clone()).collect::<Vec<_>>();
    assert!(
        text.iter().any(|l| l.contains(&format!("same client id \"{id}\"")) && l.contains("MQTT-3.1.4-2")),
        "{text:?}"
    );
    // The one taken over does not take the id back (they would take turns forever).
    for _ in 0..20 {
        harness.step();
        std::thread::yield_now();
    }
    assert!(connected(harness.state(), 2), "the newer connection keeps the id");
    // Shown, its state says why.
    harness.get_by_role_and_label(Role::Button, BUILTIN).click();
    settle(&mut harness);
    assert!(harness.query_by_label_contains("takeover, MQTT-3.1.4-2").is_some(), "the reason is on screen");
}

/// A profile open twice: the second connection's topic tree is seeded from its own rows of
/// history, not from what the first one received (both are stored under the same profile).
#[test]
fn a_profile_opened_again_seeds_its_tree_from_its_own_history_only() {
    let runtime = runtime();
    let dir = ProfileDir::new("several-tree-seed");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the first connection's message", |app| app.model().messages.total() == 1);
    let _ = history_rows(&mut harness, &dir, 1);

    harness.get_by_role_and_label(Role::Button, "Open again").click();
    step_until(&mut harness, "the second connected and its tree seeded", |app| connected(app, 1) && app.tree_settled());
    assert_eq!(harness.state().tree_of(0).map(mqtt_lab::tree::TopicTree::message_count), Some(1));
    assert_eq!(
        harness.state().tree_of(1).map(mqtt_lab::tree::TopicTree::message_count),
        Some(0),
        "the first connection's message is not the second's"
    );
}

/// The simulated plant pointed at the first connection's broker (the built-in one) while the
/// selected profile is Mosquitto's: its readings reach that connection, not Mosquitto's.
#[test]
fn a_simulator_runs_against_the_broker_of_any_open_connection() {
    let runtime = runtime();
    let dir = ProfileDir::new("several-sim");
    let (_mosquitto, mosquitto_port) = Mosquitto::anonymous(&dir.0);

    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness);
    new_profile_at(&mut harness, mosquitto_port);
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    step_until(&mut harness, "both connected", |app| connected(app, 0) && connected(app, 1));
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "Mosquitto's SUBACK", subscribed);

    // The profile editor shows Mosquitto's profile (the simulators' default broker); the
    // simulators' own choice sends them to the built-in broker's connection instead.
    harness.get_by_label("Simulators").click();
    settle(&mut harness);
    harness.get_by_label("Broker").click();
    settle(&mut harness);
    harness.get_by_role_and_label(Role::Button, &format!("{BUILTIN}'s broker")).click();
    settle(&mut harness);
    harness.get_by_label("Start PV plant").click();
    step_until(&mut harness, "the plant's readings on the built-in connection", |app| {
        app.model_of(0).unwrap().messages.total() >= 2
    });
    harness.get_by_label("Stop PV plant").click();
    settle(&mut harness);
    assert_eq!(harness.state().model_of(1).unwrap().messages.total(), 0, "none on Mosquitto");
    assert!(
        harness
            .state()
            .model()
            .log
            .iter()
            .any(|l| l.text.contains(&format!("PV plant started against {BUILTIN}'s broker"))),
        "{:?}",
        harness.state().model().log
    );
}
