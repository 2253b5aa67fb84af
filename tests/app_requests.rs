//! MQTT 5 publishing, templates, request/response and auto-reply rules in the real app, with
//! Mosquitto's own clients as the other party, against the built-in broker and Debian's
//! Mosquitto 2.0.11: properties typed in the publish form reach a subscriber, a request is
//! answered and timed in the Requests list, a rule answers a request with its correlation data,
//! a favourite's `{{counter}}` counts, and a message breaking a rule is refused in words.

mod support;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{Queryable, by};
use mqtt_lab::App;
use mqtt_lab::model::SubscriptionState;
use mqtt_lab::mqtt::{Outgoing, Qos, UserProperty};
use mqtt_lab::profile::Favourite;
use support::mqtt5::*;
use support::*;

/// The first message queued for the [`listener`] session `id`, as Mosquitto's JSON (with its
/// MQTT 5 properties).
fn heard(port: u16, id: &str, topic: &str) -> serde_json::Value {
    let line = queued(port, id, topic, 1, "%j");
    serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("mosquitto_sub's JSON {line:?}: {e}"))
}

/// Subscribes to `filter` with the sidebar's form and waits for the SUBACK.
fn subscribe(harness: &mut Harness<'static, App>, filter: &str) {
    set_field(harness, "Filter", filter);
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    let filter = filter.to_owned();
    step_until(harness, "the SUBACK", move |app| {
        app.model()
            .subscriptions
            .list
            .iter()
            .any(|s| s.filter == filter && matches!(s.state, SubscriptionState::Active(_)))
    });
}

/// Steps the app until a label containing `text` shows (bounded like `step_until`).
fn step_until_shown(harness: &mut Harness<'static, App>, text: &str) {
    let start = std::time::Instant::now();
    while harness.query_all(by().label_contains(text)).next().is_none() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {text:?}; log: {:?}", harness.state().model().log);
        harness.step();
        std::thread::yield_now();
    }
}

/// Opens the publish form's MQTT 5 properties.
fn open_properties(harness: &mut Harness<'static, App>) {
    if harness.query_by_label("Response topic").is_none() {
        press(harness, "MQTT 5 properties");
    }
}

#[test]
fn properties_typed_in_the_publish_form_reach_the_subscriber() {
    let mut setup = connected("req-properties", &Broker::BuiltIn, egui::vec2(1280.0, 720.0));
    let harness = &mut setup.harness;
    subscribe(harness, "lab/#");
    set_field(harness, "Topic", "lab/props");
    set_field(harness, "Payload", "hello");
    open_properties(harness);
    set_field(harness, "Content type", "text/plain");
    set_field(harness, "Correlation data", "ca fe 01");
    press(harness, "hex");
    // The table's rows have hint texts, no labels a test can find: filled as typed.
    harness.state_mut().publish_form_mut().properties.user_properties =
        vec![mqtt_lab::mqtt::UserProperty::new("room", "B12")];
    settle(harness);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(harness, "the message", |app| app.model().messages.total() == 1);
    let m = harness.state().model().messages.get(0).unwrap().clone();
    assert_eq!((m.topic.as_str(), &m.payload[..]), ("lab/props", &b"hello"[..]));
    assert_eq!(m.properties.content_type.as_deref(), Some("text/plain"));
    assert_eq!(m.properties.correlation_data.as_deref(), Some(&[0xca, 0xfe, 0x01][..]));
    assert_eq!(m.properties.user_properties, vec![UserProperty::new("room", "B12")]);
}

/// "Send request" on `broker`; Mosquitto's clients answer as the responder would, copying the
/// correlation data from the request they read.
fn request_answered(name: &str, mosquitto: bool) {
    let mut setup =
        connected(name, if mosquitto { &Broker::Mosquitto } else { &Broker::BuiltIn }, egui::vec2(1280.0, 720.0));
    let (harness, port) = (&mut setup.harness, setup.port);
    listener(port, "responder", "lab/req");
    set_field(harness, "Topic", "lab/req");
    set_field(harness, "Payload", "status?");
    // QoS 1, so the broker queues the request for the offline `responder` session.
    harness.state_mut().publish_form_mut().qos = Qos::AtLeastOnce;
    open_properties(harness);
    set_field(harness, "Response topic", "lab/resp");
    press(harness, "Send request");
    step_until(harness, "the response topic's SUBACK", |app| {
        app.model()
            .subscriptions
            .list
            .iter()
            .any(|s| s.filter == "lab/resp" && matches!(s.state, SubscriptionState::Active(_)))
    });
    let request = heard(port, "responder", "lab/req");
    assert_eq!(request["payload"], "status?");
    let properties = &request["properties"];
    assert_eq!(properties["response-topic"], "lab/resp", "{request}");
    let correlation = properties["correlation-data"].as_str().expect("correlation data in the request").to_owned();
    assert!(correlation.starts_with("req-1-"), "generated correlation data: {correlation}");
    mosquitto_client(
        "mosquitto_pub",
        port,
        &["-t", "lab/resp", "-m", "all fine", "-D", "publish", "correlation-data", &correlation],
    );
    step_until_shown(harness, "request 1 answered in ");
    assert!(harness.query_by_label_contains("ms: all fine").is_some());
    press(harness, "Requests");
    assert!(
        harness.query_by_label_contains(&format!("1. lab/req, correlation {correlation}")).is_some(),
        "the Requests list names the request and its correlation data"
    );
    // Under the publish form and in the list.
    assert_eq!(harness.query_all(by().label_contains("request 1 answered in ")).count(), 2);
}

#[test]
fn a_request_is_answered_and_timed_on_the_builtin_broker() {
    request_answered("req-builtin", false);
}

#[test]
fn a_request_is_answered_and_timed_on_mosquitto() {
    request_answered("req-mosquitto", true);
}

/// A rule answers a `mosquitto_pub` request on its response topic with its correlation data.
fn rule_answers(name: &str, mosquitto: bool) {
    let mut setup =
        connected(name, if mosquitto { &Broker::Mosquitto } else { &Broker::BuiltIn }, egui::vec2(1280.0, 720.0));
    let (harness, port) = (&mut setup.harness, setup.port);
    press(harness, "Auto-replies");
    press(harness, "Add rule");
    set_field(harness, "Rule 1 filter", "lab/req");
    set_field(harness, "Rule 1 reply payload", "pong {{request.payload}}");
    // QoS 1, so the broker queues the reply for the offline `asker` session.
    press(harness, "Rule 1 reply QoS");
    press(harness, "1 (at least once)");
    assert!(harness.query_by_label_contains("The filter is not valid").is_none());
    press(harness, "Save rules");
    step_until(harness, "the rule's SUBACK", |app| {
        app.model()
            .subscriptions
            .list
            .iter()
            .any(|s| s.filter == "lab/req" && matches!(s.state, SubscriptionState::Active(_)))
    });
    assert!(
        harness.state().model().log.iter().any(|l| l.text == "Subscribed to lab/req for auto-reply \"rule 1\"."),
        "the log says why it subscribed"
    );
    assert_eq!(harness.state().selected_profile().auto_replies.len(), 1, "saved with the profile");

    listener(port, "asker", "lab/resp");
    mosquitto_client(
        "mosquitto_pub",
        port,
        &[
            "-t",
            "lab/req",
            "-m",
            "ping",
            "-D",
            "publish",
            "response-topic",
            "lab/resp",
            "-D",
            "publish",
            "correlation-data",
            "abc",
        ],
    );
    step_until(harness, "the auto-reply", |app| {
        app.model().log.iter().any(|l| l.text == "Auto-reply to lab/req: published on lab/resp.")
    });
    let reply = heard(port, "asker", "lab/resp");
    assert_eq!(reply["payload"], "pong ping", "{reply}");
    assert_eq!(reply["properties"]["correlation-data"], "abc", "{reply}");
}

#[test]
fn an_auto_reply_rule_answers_a_mosquitto_request_on_the_builtin_broker() {
    rule_answers("rule-builtin", false);
}

#[test]
fn an_auto_reply_rule_answers_a_mosquitto_request_on_mosquitto() {
    rule_answers("rule-mosquitto", true);
}

#[test]
fn a_favourite_with_a_counter_sends_1_then_2_and_the_form_previews_variables() {
    let mut setup = connected("req-counter", &Broker::BuiltIn, egui::vec2(1280.0, 720.0));
    let harness = &mut setup.harness;
    harness.state_mut().selected_profile_mut().favourites.push(Favourite {
        name: "Count".into(),
        message: Outgoing::new("lab/count", "n={{counter}}", Qos::AtMostOnce, false),
    });
    subscribe(harness, "lab/#");
    harness.get_by_label("Count").click();
    step_until(harness, "the first", |app| app.model().messages.total() == 1);
    harness.get_by_label("Count").click();
    step_until(harness, "the second", |app| app.model().messages.total() == 2);
    let mut payloads: Vec<String> = (0..2)
        .map(|i| String::from_utf8_lossy(&harness.state().model().messages.get(i).unwrap().payload).into_owned())
        .collect();
    payloads.sort();
    assert_eq!(payloads, ["n=1", "n=2"]);
    assert_eq!(
        &harness.state().selected_profile().favourites.last().unwrap().message.payload[..],
        b"n={{counter}}",
        "the favourite keeps its variables"
    );

    set_field(harness, "Topic", "lab/form");
    set_field(harness, "Payload", "form {{counter}}");
    assert!(harness.query_by_label("Will send: form 1").is_some(), "the preview shows the next send");
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(harness, "the form's message", |app| app.model().messages.total() == 3);
    settle(harness);
    assert!(harness.query_by_label("Will send: form 2").is_some(), "the form's counter counts on");
    set_field(harness, "Payload", "{{nope}}");
    assert!(harness.query_by_label_contains("Variables: in the payload, unknown variable {{nope}}").is_some());
}

#[test]
fn a_message_breaking_a_rule_is_refused_in_words_and_not_sent() {
    let mut setup = connected("req-refused", &Broker::BuiltIn, egui::vec2(1280.0, 720.0));
    let harness = &mut setup.harness;
    subscribe(harness, "lab/#");
    set_field(harness, "Topic", "lab/x");
    open_properties(harness);
    set_field(harness, "Response topic", "lab/+");
    assert!(
        harness
            .query_by_label("The response topic \"lab/+\" must be a topic name, without wildcards [MQTT-3.3.2-14].")
            .is_some(),
        "the rule is named"
    );
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    harness.get_by_role_and_label(Role::Button, "Send request").click();
    settle(harness);
    let publishes =
        |app: &App| app.model().taps.iter().filter(|t| t.bytes.first().is_some_and(|b| b >> 4 == 3)).count();
    assert_eq!(publishes(harness.state()), 0, "no PUBLISH went out");
    // The same form with the mistake mended is sent: the refusal was the only thing in the way.
    set_field(harness, "Response topic", "lab/answers");
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(harness, "the message", |app| app.model().messages.total() == 1);
    assert!(publishes(harness.state()) >= 1);
}

#[test]
fn the_new_sections_fit_a_laptop_screen() {
    for size in [egui::vec2(1024.0, 640.0), egui::vec2(1280.0, 720.0), egui::vec2(1920.0, 1080.0)] {
        let mut setup = connected(&format!("req-layout-{}", size.x), &Broker::BuiltIn, size);
        let harness = &mut setup.harness;
        open_properties(harness);
        set_field(harness, "Response topic", "lab/resp");
        for label in ["Publish", "Send request", "Response topic", "Payload", "Topic", "Correlation data"] {
            inside(harness, size, label);
        }
        press(harness, "Auto-replies");
        press(harness, "Add rule");
        press(harness, "Requests");
        for label in ["Save rules", "Rule 1 filter", "No requests yet"] {
            harness.get_by_label_contains(label).scroll_to_me();
            settle(harness);
            inside(harness, size, label);
        }
        // For review: target/tmp/layout/requests_<width>.png.
        let image = harness.render().expect("the software renderer draws the window");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("layout");
        std::fs::create_dir_all(&dir).unwrap();
        image.save(dir.join(format!("requests_{}.png", size.x))).unwrap();
    }
}

#[test]
fn an_unanswered_request_is_marked_after_the_timeout() {
    let mut setup = connected("req-timeout", &Broker::BuiltIn, egui::vec2(1280.0, 720.0));
    let harness = &mut setup.harness;
    press(harness, "Requests");
    set_field(harness, "Request timeout (s)", "0");
    assert!(harness.query_by_label_contains("The timeout must be a whole number of seconds from 1 to 3600").is_some());
    set_field(harness, "Request timeout (s)", "1");
    set_field(harness, "Topic", "lab/nobody");
    open_properties(harness);
    set_field(harness, "Response topic", "lab/never");
    press(harness, "Send request");
    step_until_shown(harness, "request 1 waiting for an answer on lab/never");
    step_until_shown(harness, "request 1: no answer after 1 s");
}

#[test]
fn two_rules_answering_each_other_are_stopped_by_the_loop_guard_and_resumed() {
    let mut setup = connected("req-loop", &Broker::BuiltIn, egui::vec2(1280.0, 900.0));
    let (harness, port) = (&mut setup.harness, setup.port);
    press(harness, "Auto-replies");
    for (n, (filter, topic)) in [("lab/ping", "lab/pong"), ("lab/pong", "lab/ping")].into_iter().enumerate() {
        press(harness, "Add rule");
        set_field(harness, &format!("Rule {} filter", n + 1), filter);
        set_field(harness, &format!("Rule {} reply topic", n + 1), topic);
        set_field(harness, &format!("Rule {} reply payload", n + 1), "again");
    }
    press(harness, "Save rules");
    step_until(harness, "both rules' SUBACKs", |app| {
        let subs = &app.model().subscriptions.list;
        subs.len() == 2 && subs.iter().all(|s| matches!(s.state, SubscriptionState::Active(_)))
    });
    mosquitto_client("mosquitto_pub", port, &["-t", "lab/ping", "-m", "go"]);
    step_until(harness, "the loop guard", |app| {
        app.model()
            .log
            .iter()
            .any(|l| l.text.contains("stopped: it would answer more than 10 messages within a second"))
    });
    step_until_shown(harness, "Stopped by the loop guard");
    let resume = if harness.query_by_label("Resume rule 1").is_some() { "Resume rule 1" } else { "Resume rule 2" };
    press(harness, resume);
    assert!(harness.query_by_label_contains("Stopped by the loop guard").is_none(), "running again");
    assert!(harness.state().model().log.iter().any(|l| l.text.ends_with("resumed.")));
}
