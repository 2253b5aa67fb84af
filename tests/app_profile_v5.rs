//! MQTT 5 profiles as a student makes and uses them: version 5 picked in the real app's editor,
//! its settings typed and saved to the profile file; and `mqtt-lab check` run on an MQTT 5
//! profile against our broker and Debian's Mosquitto, where a Maximum Packet Size the
//! broker honours shows that the CONNECT's properties reached it.

mod support;

use std::path::Path;
use std::process::Command;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mqtt_lab::profile::{MqttVersion, Profile, UserProperty};
use support::mosquitto::{Mosquitto, free_port};
use support::*;

/// Clicks the widget `label` as a user does: scrolled into view first (the editor is taller
/// than a 640-point window).
fn press(harness: &mut egui_kittest::Harness<'_, mqtt_lab::App>, label: &str) {
    harness.get_by_label(label).scroll_to_me();
    settle(harness);
    harness.get_by_label(label).click();
    settle(harness);
}

#[test]
fn version_5_is_picked_filled_in_and_saved_to_the_profile_file() {
    let runtime = runtime();
    let dir = ProfileDir::new("profile-v5");
    // The smallest window the app supports: the editor scrolls.
    let mut harness = harness_sized(&runtime, &dir, egui::vec2(1024.0, 640.0));
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    harness.get_by_label("New profile").click();
    settle(&mut harness);
    set_field(&mut harness, "Name", "Lab five");
    assert!(harness.query_by_label("MQTT 5").is_none(), "3.1.1 shows no MQTT 5 section");
    harness.get_by_role_and_label(Role::RadioButton, "5").click();
    settle(&mut harness);
    harness.get_by_label("Clean start");
    set_field(&mut harness, "Session expiry (s)", "3600");
    press(&mut harness, "Add user property");
    set_field(&mut harness, "Property 1", "room");
    set_field(&mut harness, "Value 1", "B12");
    set_field(&mut harness, "Receive maximum", "0");
    harness.get_by_label_contains("Receive Maximum 0 is a Protocol Error [MQTT 5.0 section 3.1.2.11.3]");
    set_field(&mut harness, "Receive maximum", "20");
    assert!(harness.query_by_label_contains("Receive Maximum 0").is_none(), "the message goes with the mistake");
    press(&mut harness, "Add user property");
    set_field(&mut harness, "Property 2", "spare");
    harness.get_all_by_label("Remove").nth(1).unwrap().scroll_to_me();
    settle(&mut harness);
    harness.get_all_by_label("Remove").nth(1).unwrap().click();
    settle(&mut harness);
    assert!(harness.query_by_label("Property 2").is_none(), "removed");
    press(&mut harness, "Last will");
    set_field(&mut harness, "Will topic", "lab/status");
    set_field(&mut harness, "Will delay (s)", "30");
    set_field(&mut harness, "Will correlation data", "cafe");
    press(&mut harness, "hex");
    harness.get_by_label("Save profile").scroll_to_me();
    settle(&mut harness);
    harness.get_by_label("Save profile").click();
    step_until(&mut harness, "the save", |app| app.model().log.iter().any(|l| l.text == "Saved profile Lab five."));

    let text = std::fs::read_to_string(dir.0.join("lab-five.json")).unwrap();
    assert!(text.contains(r#""version": "5""#), "{text}");
    assert!(text.contains(r#""session_expiry_secs": 3600"#), "{text}");
    let saved: Profile = serde_json::from_str(&text).unwrap();
    assert_eq!(saved.version, MqttVersion::V5);
    assert_eq!(saved.mqtt5.session_expiry, 3600);
    assert_eq!(saved.mqtt5.receive_maximum, Some(20));
    assert_eq!(saved.mqtt5.user_properties, [UserProperty::new("room", "B12")]);
    let will = saved.last_will.as_ref().unwrap();
    assert_eq!(will.delay_secs, 30);
    assert_eq!(will.properties.correlation_data.as_deref(), Some(&[0xca, 0xfe][..]), "typed as hex");
    let settings = saved.connect_settings(None).unwrap();
    assert_eq!((settings.v5.session_expiry, settings.v5.receive_maximum), (3600, Some(20)));
    assert_eq!(settings.will.unwrap().delay_secs, 30);
}

/// An MQTT 5 profile for `mqtt-lab check`, as the app saves one; `max_packet`: its Maximum
/// Packet Size, if any.
fn v5_profile(dir: &Path, name: &str, port: u16, max_packet: Option<u32>) -> std::path::PathBuf {
    let mut mqtt5 = serde_json::json!({
        "session_expiry_secs": 300,
        "receive_maximum": 10,
        "request_problem_information": false,
        "user_properties": [{ "name": "course", "value": "btsiot" }],
    });
    if let Some(size) = max_packet {
        mqtt5["maximum_packet_size"] = size.into();
    }
    let profile = serde_json::json!({
        "name": name,
        "host": "127.0.0.1",
        "port": port,
        "client_id": "lab5",
        "version": "5",
        "connect_timeout_secs": 3,
        "mqtt5": mqtt5,
    });
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, profile.to_string()).unwrap();
    path
}

/// `mqtt-lab check PROFILE_FILE`: its exit code and report.
fn check(profile: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mqtt-lab")).arg("check").arg(profile).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Passes with the profile's properties; with a Maximum Packet Size smaller than the test
/// message, the broker must not send it back [MQTT-3.1.2-25], so the round trip fails: the
/// property was in the CONNECT.
fn check_v5_against(port: u16, dir: &ProfileDir, broker: &str) {
    let (code, report) = check(&v5_profile(&dir.0, &format!("v5-{broker}"), port, None));
    assert_eq!(code, 0, "{broker}: {report}");
    assert!(report.contains("MQTT CONNECT") && report.contains("MQTT 5"), "{broker}: {report}");
    assert!(report.contains("All steps passed."), "{broker}: {report}");

    let (code, report) = check(&v5_profile(&dir.0, &format!("v5-small-{broker}"), port, Some(40)));
    assert_eq!(code, 7, "{broker}: the message back is larger than 40 bytes: {report}");
    assert!(report.contains("Failed at step \"Publish and receive\""), "{broker}: {report}");
}

#[test]
fn check_speaks_mqtt5_with_our_broker() {
    let runtime = runtime();
    let dir = ProfileDir::new("check-v5-ours");
    let (_broker, port) =
        our_broker(&runtime, mqtt_lab_broker::Config::default(), &mqtt_lab_broker::config::ListenerConfig::default());
    check_v5_against(port, &dir, "ours");
}

#[test]
fn check_speaks_mqtt5_with_mosquitto() {
    let dir = ProfileDir::new("check-v5-mosquitto");
    std::fs::create_dir_all(&dir.0).unwrap();
    let port = free_port();
    let conf = dir.0.join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\n")).unwrap();
    let _mosquitto = Mosquitto::start(&conf);
    check_v5_against(port, &dir, "mosquitto");
}

#[test]
fn the_mqtt5_example_profile_passes_the_self_test_on_the_built_in_broker() {
    let runtime = runtime();
    let dir = ProfileDir::new("self-test-v5");
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    let name = profile_name(&harness, |n| n.contains("MQTT 5"));
    choose_profile(&mut harness, &name);
    assert_eq!(harness.state().selected_profile().version, MqttVersion::V5);
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    harness.get_by_label("Clean start");
    harness.get_by_label("Test connection").click();
    step_until(&mut harness, "the self-test", |app| app.self_test().is_some_and(|t| !t.running()));
    settle(&mut harness);
    let test = harness.state().self_test().unwrap();
    assert_eq!(test.outcome, Some(Ok(())), "{test:?}");
    harness.get_by_label_contains("ok: MQTT CONNECT: accepted (CONNACK 0x00 (Success))");
}
