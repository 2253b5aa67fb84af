//! The real app, driven through egui_kittest the way a student clicks through the course's first
//! exercise: connect to the built-in broker, subscribe to PV/sunshine, publish "yes", see it;
//! and the connection's other paths (mute, favourites, decoders, refusals, MQTT 3.1).

mod support;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mqtt_lab::connection::ConnectionStatus;
use support::*;

#[test]
fn a_student_publishes_yes_on_pv_sunshine_and_sees_it_arrive() {
    let runtime = runtime();
    let dir = ProfileDir::new("first-exercise");
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    assert!(
        harness.state().selected_profile().builtin_broker,
        "the built-in broker's profile is selected on first start"
    );

    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));

    set_field(&mut harness, "Filter", "PV/sunshine");
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the SUBACK", |app| {
        app.model()
            .subscriptions
            .list
            .iter()
            .any(|s| s.filter == "PV/sunshine" && matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });

    set_field(&mut harness, "Topic", "PV/sunshine");
    set_field(&mut harness, "Payload", "yes");
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the message", |app| app.model().messages.total() == 1);
    assert!(harness.query_by_label_contains("PV/sunshine  yes").is_some(), "the message is in the list");
    let sub = &harness.state().model().subscriptions.list[0];
    assert_eq!(sub.count, 1, "the subscription counts it");
    assert!(
        harness.state().model().taps.iter().any(|t| t.bytes.first() == Some(&0x10)),
        "the relay tapped the CONNECT"
    );
}

#[test]
fn muting_a_subscription_hides_its_messages() {
    let runtime = runtime();
    let dir = ProfileDir::new("mute");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness); // the default filter PV/#
    harness.get_by_role_and_label(Role::Button, "Publish").click(); // the default PV/sunshine "yes"
    step_until(&mut harness, "the message", |app| app.model().messages.total() == 1);
    assert!(harness.query_by_label_contains("PV/sunshine  yes").is_some());
    harness.get_by_label("Mute").click();
    harness.step();
    harness.step();
    assert!(harness.query_by_label_contains("PV/sunshine  yes").is_none(), "muted: hidden");
    assert_eq!(harness.state().model().subscriptions.list[0].count, 1, "still counted");
}

#[test]
fn a_connection_to_a_port_where_no_broker_listens_fails_in_words() {
    let runtime = runtime();
    let dir = ProfileDir::new("refused");
    let mut harness = harness_with(&runtime, &dir, None);
    // A profile for a remote broker, pointed at this machine only.
    let name = profile_name(&harness, |n| n.starts_with("Raspberry Pi (password"));
    choose_profile(&mut harness, &name);
    set_field(&mut harness, "Host", "127.0.0.1");
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    set_field(&mut harness, "Port", &port.to_string());
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the failure", |app| matches!(app.status(), ConnectionStatus::Failed(_)));
    let ConnectionStatus::Failed(reason) = harness.state().status() else { unreachable!() };
    assert!(reason.contains("refused the connection: no broker listens on that port"), "{reason}");
}

#[test]
fn a_favourite_publishes_with_one_click() {
    let runtime = runtime();
    let dir = ProfileDir::new("favourite");
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    set_field(&mut harness, "Filter", "lamp/cmd");
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the SUBACK", |app| {
        app.model().subscriptions.list.iter().any(|s| matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });
    harness.get_by_label("LED 50 %").click();
    step_until(&mut harness, "the command", |app| app.model().messages.total() == 1);
    let m = harness.state().model().messages.get(0).unwrap().clone();
    assert_eq!((m.topic.as_str(), &m.payload[..]), ("lamp/cmd", &br#"{"control":"PWM","value":50,"unit":"%"}"#[..]));
}

#[test]
fn hex_payloads_publish_as_bytes_and_the_detail_pane_decodes_them() {
    let runtime = runtime();
    let dir = ProfileDir::new("decoders");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness);
    harness.get_by_label("Hex").click();
    harness.step();
    set_field(&mut harness, "Payload", "ff 00 41");
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the message", |app| app.model().messages.total() == 1);
    assert_eq!(&harness.state().model().messages.get(0).unwrap().payload[..], &[0xff, 0x00, 0x41]);
    harness.get_by_label_contains("(QoS 0, 3 bytes)").click();
    settle(&mut harness);
    harness.get_by_label("Hex dump").click();
    settle(&mut harness);
    assert!(harness.query_by_label_contains("00000000  ff 00 41").is_some(), "the hex dump shows the bytes");
    harness.get_by_label("Base64").click();
    settle(&mut harness);
    assert!(harness.query_by_label_contains("/wBB").is_some());
}

#[test]
fn a_refused_connection_is_explained_in_words_with_the_prefix_hint() {
    let runtime = runtime();
    let dir = ProfileDir::new("refused-5");
    let (_broker, mut harness) = course_login_refused(&runtime, &dir);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the refusal", |app| matches!(app.status(), ConnectionStatus::Failed(_)));
    let ConnectionStatus::Failed(reason) = harness.state().status() else { unreachable!() };
    assert!(reason.starts_with("Refused (5): not authorised."), "{reason}");
    assert!(reason.contains("client id prefix"), "the course's btsiot- client id gets the prefix hint: {reason}");
    assert!(harness.query_by_label_contains("Failed: Refused (5)").is_some(), "shown next to the connect button");
}

#[test]
fn an_mqtt_3_1_profile_connects_as_mqtt_3_1() {
    let runtime = runtime();
    let dir = ProfileDir::new("v31");
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    harness.get_by_label("3.1").click();
    settle(&mut harness);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    step_until(&mut harness, "the broker's log line", |app| {
        app.broker_log().iter().any(|l| l.contains("New client connected"))
    });
    let line = harness.state().broker_log().iter().find(|l| l.contains("New client connected")).unwrap().clone();
    assert!(line.contains("(p1, c1, k60)"), "the broker saw MQTT 3.1: {line}");
    let connect = harness.state().model().taps.iter().find(|t| t.bytes.first() == Some(&0x10)).unwrap();
    assert_eq!(&connect.bytes[2..10], b"\x00\x06MQIsdp", "the inspector sees the CONNECT as sent");
    round_trip(&mut harness);
}

/// The profile's user name, password and last will go out in the CONNECT exactly as set, and the
/// password never reaches the log.
#[test]
fn credentials_and_the_last_will_are_in_the_connect_packet() {
    use mqtt_lab_broker::codec::{Decoded, Packet, Protocol, QoS, decode};
    let runtime = runtime();
    let dir = ProfileDir::new("will");
    let mut harness = app_harness(&runtime, &dir);
    set_credentials_and_will(&mut harness, "btsiot/lamp/status");
    harness.get_by_label("Will retain").click();
    settle(&mut harness);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    let connect =
        harness.state().model().taps.iter().find(|t| t.bytes.first() == Some(&0x10)).expect("the CONNECT was tapped");
    let Ok(Decoded::Packet(Packet::Connect(c), _)) = decode(&connect.bytes, usize::MAX, Protocol::V311) else {
        panic!("a CONNECT")
    };
    assert_eq!(c.username.as_deref(), Some("btsiot1"));
    assert_eq!(c.password.as_deref(), Some(&b"btsiotpass1"[..]));
    let will = c.will.expect("the will is in the CONNECT");
    assert_eq!(will.topic.as_str(), "btsiot/lamp/status");
    assert_eq!(&will.payload[..], b"offline");
    assert_eq!((will.qos, will.retain), (QoS::AtMostOnce, true));
    assert!(harness.state().model().log.iter().all(|l| !l.text.contains("btsiotpass1")), "no password in the log");
}
