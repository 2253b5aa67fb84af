//! MQTT 5 in the real app, against the built-in broker and Debian's Mosquitto 2.0.11, with
//! Mosquitto's own clients as the other party: what the broker granted in CONNACK, subscription
//! options typed in the form (identifier, no local, retain handling), a message's properties in
//! the list and the detail pane, "Reply", refusals in words, and a message expiry that the broker
//! applies to a message queued for an offline session.

mod support;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mqtt_lab::App;
use mqtt_lab::connection::ConnectionStatus;
use mqtt_lab::model::SubscriptionState;
use support::mqtt5::*;
use support::*;

const SIZE: egui::Vec2 = egui::vec2(1280.0, 720.0);

/// Fills the subscribe form (MQTT 5 options open) and subscribes; waits for the SUBACK.
fn subscribe(harness: &mut Harness<'static, App>, filter: &str, options: impl FnOnce(&mut Harness<'static, App>)) {
    set_field(harness, "Filter", filter);
    if harness.query_by_label("No local").is_none() {
        harness.get_by_label("MQTT 5 options").scroll_to_me();
        settle(harness);
        harness.get_by_label("MQTT 5 options").click();
        settle(harness);
    }
    options(harness);
    harness.get_by_role_and_label(Role::Button, "Subscribe").scroll_to_me();
    settle(harness);
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    let filter = filter.to_owned();
    step_until(harness, "the SUBACK", move |app| {
        app.model().subscriptions.list.iter().any(|s| s.filter == filter && s.state != SubscriptionState::Pending)
    });
}

#[test]
fn connack_panel_subscription_identifier_properties_in_the_detail_pane_and_reply() {
    // The runtime, broker and files live as long as `setup`.
    let mut setup = connected("detail", &Broker::BuiltIn, SIZE);
    let (harness, port) = (&mut setup.harness, setup.port);
    // What the built-in broker granted, in the sidebar.
    press(harness, "Server granted (CONNACK)");
    harness.get_by_label("Receive maximum");
    harness.get_by_label("Server keep alive");
    let granted = match harness.state().status() {
        ConnectionStatus::Connected { granted: Some(g), .. } => g.clone(),
        other => panic!("an MQTT 5 connection reports its CONNACK: {other:?}"),
    };
    let receive_max = granted.receive_maximum.expect("our broker sends Receive Maximum").to_string();
    assert!(harness.query_by_label(&receive_max).is_some(), "the panel shows {receive_max}");

    subscribe(harness, "lab/#", |h| set_field(h, "Subscription identifier", "7"));
    harness.get_by_label("id 7");
    mosquitto_client(
        "mosquitto_pub",
        port,
        &[
            "-t",
            "lab/req",
            "-m",
            "on",
            "-q",
            "1",
            "-D",
            "publish",
            "user-property",
            "room",
            "B12",
            "-D",
            "publish",
            "response-topic",
            "lab/resp",
            "-D",
            "publish",
            "correlation-data",
            "abc",
            "-D",
            "publish",
            "content-type",
            "text/plain",
        ],
    );
    step_until(harness, "the request", |app| app.model().messages.total() == 1);
    let m = harness.state().model().messages.get(0).cloned().expect("the message");
    assert_eq!(m.properties.subscription_ids, vec![7], "the identifier typed in the form came back");
    assert_eq!(m.properties.user_properties[0].value, "B12");
    assert_eq!(m.properties.correlation_data.as_deref(), Some(&b"abc"[..]));
    // The row names the properties in short; the detail pane lists them all.
    harness.get_by_label_contains("reply to lab/resp");
    harness.get_by_label_contains("lab/req  on").click();
    settle(harness);
    harness.get_by_label("User properties (1)");
    harness.get_by_label("B12");
    harness.get_by_label("Response Topic");
    harness.get_by_label("abc (3 bytes)");
    // Reply: the publish form answers it, and Mosquitto's client receives the answer with the
    // request's correlation data.
    listener(port, "answer-listener", "lab/resp");
    harness.get_by_role_and_label(Role::Button, "Reply").click();
    settle(harness);
    assert_eq!(harness.state().publish_form().topic, "lab/resp");
    set_field(harness, "Payload", "done");
    // QoS 1, so the broker keeps the answer for the listener's offline session.
    harness.get_all_by_label("QoS").last().unwrap().click();
    settle(harness);
    harness.get_by_label("1 (at least once)").click();
    settle(harness);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    settle(harness);
    assert_eq!(queued(port, "answer-listener", "lab/resp", 1, "%p|%D").trim(), "done|abc");
}

/// A SUBSCRIBE the ACL forbids, and a QoS 1 PUBLISH it forbids, as the user sees them. Our broker
/// refuses the subscription with SUBACK 0x87; Mosquitto 2.0.11 grants it and delivers nothing
/// (tests/connection_v5.rs shows both at the protocol level). Both refuse the PUBLISH with
/// PUBACK 0x87, shown in words under the publish form.
fn refusals_in_words(broker: &Broker) {
    let name = if matches!(broker, Broker::Ours) { "refusals-ours" } else { "refusals-mosquitto" };
    let mut setup = connected(name, broker, SIZE);
    let harness = &mut setup.harness;
    subscribe(harness, "locked/in", |_| {});
    if matches!(broker, Broker::Ours) {
        harness.get_by_label_contains("refused: 0x87 Not authorized");
    } else {
        harness.get_by_label("(QoS 0)");
    }
    set_field(harness, "Topic", "locked/out");
    harness.get_all_by_label("QoS").last().unwrap().click();
    settle(harness);
    harness.get_by_label("1 (at least once)").click();
    settle(harness);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(harness, "the PUBACK refusal", |app| app.model().publish_refusal.is_some());
    settle(harness);
    harness.get_by_label_contains("The broker refused the message to locked/out: 0x87 Not authorized");
}

#[test]
fn refusals_in_words_from_our_broker() {
    refusals_in_words(&Broker::Ours);
}

#[test]
fn refusals_in_words_from_mosquitto() {
    refusals_in_words(&Broker::Mosquitto);
}

/// Retain handling 2 gets no retained message, only live ones; No Local gets none of the app's
/// own messages, which another client does receive.
fn retain_handling_and_no_local(broker: &Broker) {
    let name = if matches!(broker, Broker::BuiltIn) { "options-ours" } else { "options-mosquitto" };
    let mut setup = connected(name, broker, SIZE);
    let (harness, port) = (&mut setup.harness, setup.port);
    mosquitto_client("mosquitto_pub", port, &["-t", "lab/state", "-m", "retained", "-r", "-q", "1"]);
    subscribe(harness, "lab/state", |h| {
        h.get_by_label("Retain handling").click();
        settle(h);
        h.get_by_label("2: never send retained").click();
        settle(h);
    });
    mosquitto_client("mosquitto_pub", port, &["-t", "lab/state", "-m", "live", "-q", "1"]);
    step_until(harness, "the live message", |app| app.model().messages.total() == 1);
    assert_eq!(&harness.state().model().messages.get(0).unwrap().payload[..], b"live", "no retained message came");

    // No Local: the app's own message on lab/echo stays away; a message to lab/marker sent
    // after it on the same connection shows the broker has routed it.
    listener(port, "echo-listener", "lab/echo");
    subscribe(harness, "lab/echo", |h| press(h, "No local"));
    press(harness, "No local");
    subscribe(harness, "lab/marker", |_| {});
    publish_qos_1(harness);
    for (topic, payload) in [("lab/echo", "mine"), ("lab/marker", "after")] {
        set_field(harness, "Topic", topic);
        set_field(harness, "Payload", payload);
        harness.get_by_role_and_label(Role::Button, "Publish").click();
        settle(harness);
    }
    step_until(harness, "the marker", |app| app.model().messages.total() == 2);
    let topics: Vec<String> = (0..2).map(|i| harness.state().model().messages.get(i).unwrap().topic.clone()).collect();
    assert!(!topics.contains(&"lab/echo".to_owned()), "No Local: the app got its own message: {topics:?}");
    assert_eq!(queued(port, "echo-listener", "lab/echo", 1, "%p").trim(), "mine", "another client did get it");
}

#[test]
fn retain_handling_2_and_no_local_on_our_broker() {
    retain_handling_and_no_local(&Broker::BuiltIn);
}

#[test]
fn retain_handling_2_and_no_local_on_mosquitto() {
    retain_handling_and_no_local(&Broker::Mosquitto);
}

/// A message expiry of 1 s typed in the publish form: queued for an offline session, it is gone
/// when the session returns 2 s later, while one with 60 s arrives. (The wait is a lower bound
/// the broker's clock must pass, not a race: a slower machine only makes it more certain.)
fn message_expiry_on_a_queued_message(broker: &Broker) {
    let name = if matches!(broker, Broker::BuiltIn) { "expiry-ours" } else { "expiry-mosquitto" };
    let mut setup = connected(name, broker, SIZE);
    let (harness, port) = (&mut setup.harness, setup.port);
    listener(port, "expiry-listener", "lab/exp");
    set_field(harness, "Topic", "lab/exp");
    publish_qos_1(harness);
    press(harness, "MQTT 5 properties");
    for (payload, expiry) in [("short", "1"), ("long", "60")] {
        set_field(harness, "Payload", payload);
        set_field(harness, "Message expiry (s)", expiry);
        harness.get_by_role_and_label(Role::Button, "Publish").click();
        settle(harness);
    }
    step_until(harness, "both published", |app| app.model().published == 2);
    // PUBACKs: both are queued at the broker once the app holds nothing in flight.
    mosquitto_client("mosquitto_pub", port, &["-t", "lab/exp-sync", "-m", "x", "-q", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let got = queued(port, "expiry-listener", "lab/exp", 1, "%p %E");
    let (payload, left) = got.trim().split_once(' ').expect("payload and expiry");
    assert_eq!(payload, "long", "the 1 s message expired while queued");
    let left: u32 = left.parse().unwrap();
    assert!((50..60).contains(&left), "the broker counts the time queued down: {left} s left");
}

#[test]
fn message_expiry_on_a_queued_message_with_our_broker() {
    message_expiry_on_a_queued_message(&Broker::BuiltIn);
}

#[test]
fn message_expiry_on_a_queued_message_with_mosquitto() {
    message_expiry_on_a_queued_message(&Broker::Mosquitto);
}

/// "Save as favourite" keeps the message's MQTT 5 properties, and the favourite's button sends
/// them.
#[test]
fn a_favourite_keeps_its_properties() {
    let mut setup = connected("favourite", &Broker::BuiltIn, SIZE);
    let harness = &mut setup.harness;
    subscribe(harness, "lab/#", |_| {});
    set_field(harness, "Topic", "lab/fav");
    set_field(harness, "Payload", "kept");
    press(harness, "MQTT 5 properties");
    set_field(harness, "Content type", "text/plain");
    press(harness, "Add message user property");
    set_field(harness, "Message property 1", "room");
    set_field(harness, "Message value 1", "B12");
    press(harness, "Save as favourite");
    let saved = harness.state().selected_profile().favourites.last().cloned().expect("the favourite");
    assert_eq!(saved.message.properties.content_type.as_deref(), Some("text/plain"));
    press(harness, &saved.name);
    step_until(harness, "the favourite's message", |app| app.model().messages.total() == 1);
    let m = harness.state().model().messages.get(0).cloned().unwrap();
    assert_eq!((m.topic.as_str(), &m.payload[..]), ("lab/fav", &b"kept"[..]));
    assert_eq!(m.properties.content_type.as_deref(), Some("text/plain"));
    assert_eq!(m.properties.user_properties[0].value, "B12");
}
