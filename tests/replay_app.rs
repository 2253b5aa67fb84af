//! The Replay section of the real app: messages received and kept in history are replayed from a
//! history range into the built-in broker, with a topic prefix added and no pauses, and come back
//! to the app under their new topics; in a loop it goes on until stopped; the section fits
//! laptop screens.

mod support;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use support::*;

fn topics(app: &mqtt_lab::App) -> Vec<String> {
    (0..app.model().messages.len()).filter_map(|i| app.model().messages.get(i)).map(|m| m.topic.clone()).collect()
}

#[test]
fn a_history_range_replays_into_a_broker_with_its_topics_rewritten() {
    let runtime = runtime();
    let dir = ProfileDir::new("replay-app");
    let mut harness = app_harness(&runtime, &dir);
    set_field(&mut harness, "Filter", "#");
    connect_and_subscribe(&mut harness);
    for i in 0..3 {
        set_field(&mut harness, "Payload", &format!("reading {i}"));
        harness.get_by_role_and_label(Role::Button, "Publish").click();
        step_until(&mut harness, "the message back", |app| app.model().messages.total() == i + 1);
    }
    harness.get_by_label("Replay").click();
    settle(&mut harness);
    harness.get_by_label("History range").click();
    settle(&mut harness);
    set_field(&mut harness, "Topic filter", "PV/#");
    set_field(&mut harness, "Add prefix", "again/");
    set_field(&mut harness, "Speed", "0");
    harness.get_by_label("Start replay").click();
    step_until(&mut harness, "the replayed messages", |app| {
        topics(app).iter().filter(|t| t.starts_with("again/PV/")).count() == 3 && !app.replay_running()
    });
    assert_eq!(harness.state().replay_progress(), Some((3, Some(3))));
    let log = &harness.state().model().log;
    assert!(log.iter().any(|l| l.text == "Replay: 3 message(s) sent."), "{log:?}");
    harness.get_by_label_contains("sent 3 of 3");

    // In a loop at the recorded pace until "Stop replay": a second round starts, then it stops.
    harness.get_by_label("Loop until stopped").click();
    set_field(&mut harness, "Speed", "1");
    harness.get_by_label("Start replay").click();
    step_until(&mut harness, "the second round", |app| app.replay_progress().is_some_and(|(sent, _)| sent > 3));
    assert_eq!(harness.state().replay_progress().map(|(_, total)| total), Some(None), "no end in a loop");
    harness.get_by_label("Stop replay").click();
    step_until(&mut harness, "the replay stopped", |app| !app.replay_running());
    let log = &harness.state().model().log;
    assert!(log.iter().any(|l| l.text.starts_with("Replay: stopped after ")), "{log:?}");

    // A file that is not there: the reason under the buttons, nothing started.
    harness.get_by_label("JSON-lines file").click();
    settle(&mut harness);
    set_field(&mut harness, "Recording file", &dir.0.join("none.jsonl").display().to_string());
    harness.get_by_label("Start replay").click();
    step_until(&mut harness, "the refusal", |app| !app.replay_running());
    settle(&mut harness);
    harness.get_by_label_contains("none.jsonl: No such file");
}

#[test]
fn the_replay_section_fits_a_laptop_screen() {
    let runtime = runtime();
    for size in [egui::vec2(1024.0, 640.0), egui::vec2(1280.0, 720.0), egui::vec2(1920.0, 1080.0)] {
        let dir = ProfileDir::new(&format!("replay-layout-{}", size.x));
        let mut harness = harness_sized(&runtime, &dir, size);
        step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
        harness.get_by_label("Replay").scroll_to_me();
        settle(&mut harness);
        harness.get_by_label("Replay").click();
        settle(&mut harness);
        for label in ["Recording file", "Choose…", "Into", "Speed", "Loop until stopped", "Add prefix", "Retain flag"]
        {
            harness.get_by_label(label).scroll_to_me();
            settle(&mut harness);
            inside(&harness, size, label);
        }
        keep_image(&mut harness, size, "file");
        harness.get_by_label("History range").click();
        settle(&mut harness);
        for label in ["History of", "Topic filter", "From (local time)", "To (local time)", "Start replay"] {
            harness.get_by_label(label).scroll_to_me();
            settle(&mut harness);
            inside(&harness, size, label);
        }
        keep_image(&mut harness, size, "history");
    }
}

/// The section as drawn, for review (target/tmp/replay/; not compared: times and ports vary).
fn keep_image(harness: &mut egui_kittest::Harness<'_, mqtt_lab::App>, size: egui::Vec2, name: &str) {
    let image = harness.render().expect("the software renderer draws the window");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay");
    std::fs::create_dir_all(&dir).unwrap();
    image.save(dir.join(format!("replay_{name}_{}x{}.png", size.x, size.y))).unwrap();
}
