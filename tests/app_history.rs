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
        step_until(&mut harness, "the first message", |app| app.model.messages.total() == 1);
        set_field(&mut harness, "Topic", "PV/data");
        set_field(&mut harness, "Payload", "3.7");
        harness.get_by_role_and_label(Role::Button, "Publish").click();
        step_until(&mut harness, "the second message", |app| app.model.messages.total() == 2);
        // Closing the window drops the app: the history writer commits what is left.
    }
    assert!(dir.0.join("history.sqlite3").exists(), "a real database file");

    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the history reloaded", |app| app.model.messages.total() == 2);
    harness.run();
    assert!(harness.query_by_label_contains("PV/data  3.7").is_some(), "the newest message is listed");
    assert!(harness.query_by_label_contains("PV/sunshine  yes").is_some(), "and the one before");
    assert_eq!(harness.state().model.messages.get(0).unwrap().topic, "PV/data", "newest first");
    assert!(harness.state().model.log.iter().any(|l| l.text.starts_with("Reloaded the newest 2 message(s)")));
}
