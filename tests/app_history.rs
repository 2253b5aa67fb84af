//! History that survives a restart: the real app receives messages, is closed, and a new app on
//! the same data directory shows them again without connecting (a real SQLite file).

mod support;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use support::*;

#[test]
fn messages_come_back_after_closing_and_reopening_the_app() {
    let runtime = runtime();
    let dir = ProfileDir::new("history-restart");
    {
        let mut harness = app_harness(&runtime, &dir);
        connect_and_subscribe(&mut harness); // PV/#
        harness.get_by_role_and_label(Role::Button, "Publish").click(); // PV/sunshine "yes"
        step_until(&mut harness, "the first message", |app| app.model().messages.total() == 1);
        set_field(&mut harness, "Topic", "PV/data");
        set_field(&mut harness, "Payload", "3.7");
        harness.get_by_role_and_label(Role::Button, "Publish").click();
        step_until(&mut harness, "the second message", |app| app.model().messages.total() == 2);
        // Closing the window drops the app: the history writer commits what is left.
    }
    assert!(dir.0.join("history.sqlite3").exists(), "a real database file");

    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the history reloaded", |app| app.model().messages.total() == 2);
    settle(&mut harness);
    assert!(harness.query_by_label_contains("PV/data  3.7").is_some(), "the newest message is listed");
    assert!(harness.query_by_label_contains("PV/sunshine  yes").is_some(), "and the one before");
    assert_eq!(harness.state().model().messages.get(0).unwrap().topic, "PV/data", "newest first");
    assert!(harness.state().model().log.iter().any(|l| l.text.starts_with("Reloaded the newest 2 message(s)")));
}

#[test]
fn the_history_panel_shows_the_size_and_clears_one_profile_after_a_confirmation() {
    let runtime = runtime();
    let dir = ProfileDir::new("history-clear");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness); // PV/#
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "two messages stored", |app| {
        app.history_stats().is_some_and(|s| s.of("Built-in broker") == 2)
    });
    harness.get_by_label("History").click();
    settle(&mut harness);
    assert!(harness.query_by_label_contains("message(s); 2 of them from Built-in broker.").is_some());
    assert!(harness.query_by_label_contains("On disk: ").is_some());

    // A limit typed and applied is kept in the history file.
    set_field(&mut harness, "Keep days", "30");
    harness.get_by_label("Apply limits").click();
    step_until(&mut harness, "the limit saved", |app| {
        app.history_stats().is_some_and(|s| s.retention.max_age_days == 30)
    });

    harness.get_by_label("Clear this profile's history").click();
    settle(&mut harness);
    assert!(harness.query_by_label("Delete the 2 stored message(s) of Built-in broker?").is_some());
    harness.get_by_label("Keep them").click();
    settle(&mut harness);
    assert_eq!(harness.state().history_stats().unwrap().of("Built-in broker"), 2, "nothing deleted");
    harness.get_by_label("Clear this profile's history").click();
    settle(&mut harness);
    harness.get_by_label("Yes, delete").click();
    step_until(&mut harness, "the history cleared", |app| {
        app.history_stats().is_some_and(|s| s.of("Built-in broker") == 0)
    });
    assert_eq!(harness.state().model().messages.len(), 0, "the list is emptied too");
    assert!(harness.state().model().log.iter().any(|l| l.text == "History: 2 message(s) of Built-in broker deleted."));
}

#[test]
fn the_message_list_pages_older_messages_from_the_database() {
    use std::time::Duration;

    let runtime = runtime();
    let dir = ProfileDir::new("history-paging");
    // 25,000 stored messages of the profile, in a real history file, before the app starts.
    stored_history(&dir, 25_000, Duration::from_hours(2), |i| {
        if i == 42 { "needle-42".to_owned() } else { format!("{}", i % 50) }
    });

    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the newest reloaded and the rest counted", |app| {
        app.model().messages.len() == 10_000 && app.model().stored.len() == 15_000
    });
    settle(&mut harness);
    assert!(harness.query_by_label("10000 recent, 15000 older in history").is_some());

    // The oldest messages are only in the database: a search finds them there, page by page.
    set_field(&mut harness, "Search", "needle");
    step_until(&mut harness, "the stored match read", |app| {
        app.model().stored.len() == 1 && app.model().stored.held() == 1
    });
    settle(&mut harness);
    assert!(harness.query_by_label_contains("PV/data  needle-42").is_some(), "the stored row is listed");
    assert_eq!(harness.state().model().messages.len(), 10_000, "memory holds only the newest");
}
