//! The Topics tab of the real app, driven as a user does: a scripted burst from `mosquitto_pub`
//! counted in the tree, a node's recent messages with the diff of a changed JSON field, "Plot
//! this" on a JSON field, retained messages deleted for a whole subtree (atomically in the
//! built-in broker, by empty retained messages on Debian's Mosquitto), judged by a fresh
//! `mosquitto_sub`; and a tree seeded from history before connecting.

mod support;

use std::process::Command;
use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mqtt_lab::App;
use mqtt_lab::plot::Extractor;
use support::mosquitto::Mosquitto;
use support::*;

/// Publishes as client id `lab-<first level>` (so a broker can say who stored a retained message).
fn publish(port: u16, topic: &str, payload: &str, retain: bool) {
    let port = port.to_string();
    let id = format!("lab-{}", topic.split('/').next().unwrap_or_default());
    let mut args = vec!["-h", "127.0.0.1", "-p", &port, "-i", &id, "-q", "1", "-t", topic, "-m", payload];
    if retain {
        args.push("-r");
    }
    let out = Command::new("mosquitto_pub").args(&args).output().expect("mosquitto_pub runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The retained messages a fresh subscriber to `#` is sent: "topic payload" lines, sorted. It
/// waits for `expected` of them (`-C`), and for more only until `-W` ends it: a message that
/// should have been deleted comes with the others, right after the SUBACK.
fn retained_now(port: u16, expected: usize) -> Vec<String> {
    let (port, expected) = (port.to_string(), expected.to_string());
    let out = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port, "-t", "#", "-v", "--retained-only", "-C", &expected, "-W", "20"])
        .output()
        .expect("mosquitto_sub runs");
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// Subscribes the connection on view to `#` through the sidebar's form.
fn subscribe_all(harness: &mut egui_kittest::Harness<'_, App>) {
    set_field(harness, "Filter", "#");
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(harness, "the SUBACK", |app| {
        app.model().subscriptions.list.iter().any(|s| matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });
}

fn count_of(app: &App, topic: &str) -> u64 {
    let tree = app.tree();
    tree.find(topic).and_then(|id| tree.node(id)).map_or(0, |n| n.count())
}

/// Selects the tree row of `topic`, expanding its ancestors through their arrows first.
fn select(harness: &mut egui_kittest::Harness<'_, App>, topic: &str) {
    let levels: Vec<&str> = topic.split('/').collect();
    for n in 1..levels.len() {
        let parent = levels[..n].join("/");
        if let Some(arrow) = harness.query_by_label(&format!("Expand {parent}")) {
            arrow.click();
            settle(harness);
        }
    }
    harness.get_by_role_and_label(Role::Button, topic).click();
    settle(harness);
}

/// The burst, the tree, a node's diff and "Plot this", then a retained subtree deleted; on the
/// built-in broker (exact and atomic) or on Mosquitto (empty retained messages).
fn burst_and_delete(harness: &mut egui_kittest::Harness<'static, App>, port: u16, builtin: bool) {
    // Retained first (the subscription gets them), then live traffic.
    publish(port, "lab/a/x", "1", true);
    publish(port, "lab/a/y", "{\"value\":1}", true);
    publish(port, "lab/b", "keep", true);
    subscribe_all(harness);
    for v in ["1.5", "2.5", "3.5"] {
        publish(port, "PV/data", v, false);
    }
    publish(port, "lab/lamp", "{\"control\":\"PWM\",\"value\":10,\"unit\":\"%\"}", false);
    publish(port, "lab/lamp", "{\"control\":\"PWM\",\"value\":50,\"unit\":\"%\"}", false);
    step_until(harness, "the burst in the tree", |app| {
        count_of(app, "PV/data") == 3 && count_of(app, "lab/lamp") == 2 && count_of(app, "lab/b") == 1
    });
    let tree = harness.state().tree();
    let lab = tree.node(tree.find("lab").unwrap()).unwrap();
    assert_eq!((lab.subtree_count(), lab.retained_under()), (5, 3), "lab's subtree: 3 retained (x, y, b), 2 lamp");
    let pv = tree.node(tree.find("PV/data").unwrap()).unwrap();
    assert_eq!((pv.preview(), pv.qos()), ("3.5", Some(0)), "the last value, and QoS as delivered (subscribed at 0)");

    harness.get_by_role_and_label(Role::Button, "Topics").click();
    settle(harness);
    assert!(harness.query_by_label_contains("8 messages, 3 retained").is_some(), "the summary counts the burst");

    // A JSON node: its recent messages, the diff naming the changed field, then "Plot this".
    select(harness, "lab/lamp");
    // The recent messages come from history, read off the UI thread: frames until they are in.
    let start = std::time::Instant::now();
    while harness.query_by_label("~ $.value: 10 → 50").is_none() {
        assert!(start.elapsed() < PATIENCE, "the diff names the changed field and its values");
        harness.step();
        std::thread::yield_now();
    }
    assert!(harness.query_by_label_contains("$.control").is_none(), "unchanged fields are not listed");
    harness.get_by_label("JSON field").click();
    settle(harness);
    harness.get_by_role_and_label(Role::Button, "$.value").click();
    settle(harness);
    harness.get_by_role_and_label(Role::Button, "Plot this").click();
    settle(harness);
    let plot = &harness
        .state()
        .profiles()
        .iter()
        .find(|p| Some(p.name.as_str()) == harness.state().connected_profile())
        .unwrap()
        .plot;
    assert!(
        plot.iter().any(|d| d.filter == "lab/lamp" && d.extractor == Extractor::Json { path: "$.value".into() }),
        "a series for the lamp's value: {plot:?}"
    );

    // Delete the retained messages under lab/a: the question says how many and how.
    harness.get_by_role_and_label(Role::Button, "Topics").click();
    settle(harness);
    select(harness, "lab/a");
    // The built-in broker counts what it stores under the node (read off the UI thread).
    if builtin {
        let start = std::time::Instant::now();
        while harness.query_by_label("It stores 2 retained messages under lab/a/#.").is_none() {
            assert!(start.elapsed() < PATIENCE, "the broker's count under lab/a");
            harness.step();
            std::thread::yield_now();
        }
    }
    harness.get_by_role_and_label(Role::Button, "Delete retained…").click();
    settle(harness);
    let question = if builtin {
        "The broker stores 2 retained messages under lab/a/#: it clears them at once."
    } else {
        "2 retained messages under lab/a/# will be deleted."
    };
    assert!(harness.query_by_label(question).is_some(), "the question counts them and says how");
    if !builtin {
        assert!(harness.query_by_label_contains("empty retained message").is_some(), "the question says how");
    }
    harness.get_by_role_and_label(Role::Button, "Confirm delete").click();
    let said = if builtin { "deleted 2 retained message(s) under lab/a/#" } else { "each of 2 topic(s) under lab/a/#" };
    step_until(harness, "the delete's result", |app| app.model().log.iter().any(|l| l.text.contains(said)));
    // On Mosquitto the empty retained messages come back to our `#` subscription: once they
    // have, the broker has stored the deletes.
    if !builtin {
        step_until(harness, "the empty retained messages back", |app| count_of(app, "lab/a/x") == 2);
    }
    // Published last, retained: once it is in, the deletes before it are too.
    publish(port, "zz/marker", "end", true);
    assert_eq!(
        retained_now(port, 2),
        vec!["lab/b keep".to_owned(), "zz/marker end".to_owned()],
        "only lab/b's retained message is left (and the marker)"
    );
    let tree = harness.state().tree();
    assert_eq!(tree.node(tree.find("lab").unwrap()).unwrap().retained_under(), 1, "the tree knows too");
}

#[test]
fn the_tree_counts_a_burst_and_deletes_a_retained_subtree_in_the_built_in_broker() {
    let runtime = runtime();
    let dir = ProfileDir::new("topics-builtin");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness);
    let port = harness.state().builtin_addr().unwrap().port();
    burst_and_delete(&mut harness, port, true);

    // What only the built-in broker knows: lab/b's subscribers (the app itself, QoS 0 on `#`)
    // and who stored its retained message (the client id `publish` gave mosquitto_pub).
    select(&mut harness, "lab/b");
    let start = std::time::Instant::now();
    while harness.query_by_label_contains("Retained by lab-lab at ").is_none() {
        assert!(start.elapsed() < PATIENCE, "the broker's facts about lab/b");
        harness.step();
        std::thread::yield_now();
    }
    let id = harness.state().selected_profile().client_id.clone();
    assert!(harness.query_by_label(&id).is_some(), "the app's own client id among the subscribers");
    assert!(harness.query_by_label_contains("1 live subscribers").is_some());

    // Another client subscribes while the node is shown: the facts are read again on their own.
    let port = port.to_string();
    let mut watcher = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port, "-i", "watcher", "-t", "lab/#", "-W", "60"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("mosquitto_sub runs");
    let start = std::time::Instant::now();
    while harness.query_by_label_contains("2 live subscribers").is_none() {
        assert!(start.elapsed() < PATIENCE, "the new subscriber shown without selecting the node again");
        harness.step();
        std::thread::yield_now();
    }
    assert!(harness.query_by_label("watcher").is_some(), "its client id among the subscribers");
    let _ = watcher.kill();
    let _ = watcher.wait();
}

#[test]
fn the_tree_deletes_a_retained_subtree_on_mosquitto_with_empty_retained_messages() {
    let runtime = runtime();
    let dir = ProfileDir::new("topics-mosquitto");
    let (_mosquitto, port) = Mosquitto::anonymous(&dir.0);
    let mut harness = harness_with(&runtime, &dir, None);
    new_profile_at(&mut harness, port);
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    step_until(&mut harness, "connected", |app| {
        matches!(app.status(), mqtt_lab::connection::ConnectionStatus::Connected { .. })
    });
    burst_and_delete(&mut harness, port, false);
}

#[test]
fn the_tree_is_seeded_from_history_before_connecting() {
    let runtime = runtime();
    let dir = ProfileDir::new("topics-seed");
    stored_history(&dir, 40, Duration::from_hours(1), |i| format!("{}.5", i % 7));
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the history's topics", |app| count_of(app, "PV/data") == 40);
    harness.get_by_role_and_label(Role::Button, "Topics").click();
    settle(&mut harness);
    select(&mut harness, "PV/data");
    assert!(harness.query_by_label_contains("40 messages").is_some(), "the detail counts history's rows");
    assert_eq!(harness.state().tree().node(harness.state().tree().find("PV/data").unwrap()).unwrap().preview(), "4.5");
}
