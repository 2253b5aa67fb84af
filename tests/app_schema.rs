//! The course's schema in the app: a known topic offers a form that writes a valid payload, the
//! payload being typed is checked, and received payloads that break the schema are flagged.

mod support;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use support::*;

#[test]
fn the_led_form_writes_the_course_payload_and_broken_payloads_are_flagged() {
    let runtime = runtime();
    let dir = ProfileDir::new("schema-form");
    let mut harness = app_harness(&runtime, &dir);
    set_field(&mut harness, "Filter", "lamp/#");
    connect_and_subscribe(&mut harness);
    set_field(&mut harness, "Topic", "lamp/cmd");
    assert!(harness.query_by_label("Course message (clients -> ESP32):").is_some());
    // "yes" is no LED command: the form's value replaces it, so the slider shows what is sent.
    assert_eq!(harness.state().publish_form().payload, r#"{"control":"PWM","value":50,"unit":"%"}"#);

    // The brightness slider, moved one step with the keyboard, writes the payload.
    harness.get_by_role_and_label(Role::Slider, "Brightness").focus();
    settle(&mut harness);
    harness.key_press(egui::Key::ArrowRight);
    settle(&mut harness);
    assert_eq!(harness.state().publish_form().payload, r#"{"control":"PWM","value":51,"unit":"%"}"#);
    assert!(harness.query_by_label("Matches led-command.schema.json").is_some());
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the command back", |app| app.model().messages.total() == 1);
    settle(&mut harness);
    assert!(harness.query_by_label_contains("breaks the schema").is_none(), "a valid command is not flagged");

    // 150 % breaks the schema: said while typing, and still sent (to test the firmware).
    set_field(&mut harness, "Payload", r#"{"control":"PWM","value":150,"unit":"%"}"#);
    assert!(
        harness
            .query_by_label_contains(
                "Breaks the schema: /value: 150 is greater than the maximum of 100 (led-command.schema.json)"
            )
            .is_some()
    );
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the broken command back", |app| app.model().messages.total() == 2);
    settle(&mut harness);
    assert!(harness.query_by_label("breaks the schema (1 rule(s))").is_some(), "the received row is flagged");
}
