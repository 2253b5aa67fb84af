//! The profile editor's "Test connection" button, clicked as a student would: every step is
//! listed, and a refusal names its step and reason.

mod support;

use egui_kittest::kittest::Queryable;
use mqtt_lab::model::{Failure, SelfTest};
use support::*;

fn finished(app: &mqtt_lab::App) -> bool {
    app.self_test().is_some_and(|t| !t.running())
}

#[test]
fn testing_the_built_in_broker_profile_passes_every_step() {
    let runtime = runtime();
    let dir = ProfileDir::new("self-test-builtin");
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    harness.get_by_label("Test connection").click();
    step_until(&mut harness, "the self-test", finished);
    settle(&mut harness);
    let test: &SelfTest = harness.state().self_test().unwrap();
    assert_eq!(test.outcome, Some(Ok(())), "{test:?}");
    assert_eq!(test.steps.len(), 6);
    harness.get_by_label_contains("ok: TLS: none: plain MQTT, not encrypted");
    harness.get_by_label_contains("ok: Publish and receive: a QoS 1 message to mqtt-lab/check/");
    harness.get_by_label_contains("all steps passed.");
    assert!(
        matches!(harness.state().status(), mqtt_lab::connection::ConnectionStatus::Disconnected),
        "a test is not a connection"
    );
}

#[test]
fn a_refused_login_fails_at_the_connect_step_with_the_reason() {
    let runtime = runtime();
    let dir = ProfileDir::new("self-test-refused");
    let (_broker, mut harness) = course_login_refused(&runtime, &dir);
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    harness.get_by_label("Test connection").click();
    step_until(&mut harness, "the self-test", finished);
    settle(&mut harness);
    let test = harness.state().self_test().unwrap();
    assert_eq!(test.outcome, Some(Err(Failure::Step(mqtt_lab::check::Step::Connect))), "{test:?}");
    harness.get_by_label_contains("FAILED: MQTT CONNECT: Refused (5): not authorised.");
    harness.get_by_label_contains("failed at step \"MQTT CONNECT\"");
}
