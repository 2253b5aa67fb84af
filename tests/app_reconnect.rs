//! A broker restart in the middle of a lab: the app notices, tries again with backoff, subscribes
//! again, and sends the QoS 1 message typed while the broker was down.

mod support;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mqtt_lab::connection::{ConnectionStatus, Qos};
use mqtt_lab::model::SubscriptionState;
use mqtt_lab_broker::config::ListenerConfig;
use support::*;

#[test]
fn after_a_broker_restart_the_app_resubscribes_and_sends_what_was_held() {
    let runtime = runtime();
    let dir = ProfileDir::new("reconnect");
    let (broker, port) = our_broker(&runtime, mqtt_lab_broker::Config::default(), &ListenerConfig::default());
    let mut harness = harness_with(&runtime, &dir, None);
    new_profile_at(&mut harness, port);
    assert!(harness.state().selected_profile().auto_reconnect, "new profiles reconnect by default");
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    harness.get_by_role_and_label(Role::Button, "Subscribe").click(); // PV/#
    step_until(&mut harness, "the SUBACK", |app| {
        app.model().subscriptions.list.iter().any(|s| matches!(s.state, SubscriptionState::Active(_)))
    });

    // The broker stops (a clean session: it forgets the subscription).
    runtime.block_on(broker.shutdown());
    step_until(&mut harness, "the loss noticed", |app| matches!(app.status(), ConnectionStatus::Reconnecting { .. }));
    assert!(harness.query_by_label_contains("Reconnecting (attempt").is_some(), "shown beside the button");

    // A QoS 1 message published meanwhile waits in the app.
    harness.state_mut().publish_form_mut().qos = Qos::AtLeastOnce;
    harness.get_by_role_and_label(Role::Button, "Publish").click(); // PV/sunshine "yes"
    step_until(&mut harness, "the message held", |app| {
        app.model().log.iter().any(|l| l.text.starts_with("Offline: the message to PV/sunshine waits"))
    });

    // The broker comes back on the same port; the backoff's next attempt finds it.
    let (_broker, _) = our_broker_at(&runtime, mqtt_lab_broker::Config::default(), &ListenerConfig::default(), port);
    step_until(&mut harness, "reconnected, resubscribed, and the held message back", |app| {
        matches!(app.status(), ConnectionStatus::Connected { .. }) && app.model().messages.total() == 1
    });
    assert!(harness.state().model().log.iter().any(|l| l.text.starts_with("Subscribing again to 1 filter")));
    settle(&mut harness);
    assert!(harness.query_by_label_contains("PV/sunshine  yes").is_some(), "the held message went out and came back");
}

#[test]
fn a_broker_that_never_answers_the_tls_handshake_times_out_in_words() {
    let runtime = runtime();
    let dir = ProfileDir::new("tls-stall");
    // A listener that accepts and then says nothing: a plain port mistaken for TLS, or a hung broker.
    let silent = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    runtime.spawn(async move {
        while let Ok((socket, _)) = silent.accept().await {
            keep.lock().unwrap().push(socket);
        }
    });
    let mut harness = harness_with(&runtime, &dir, None);
    new_profile_at(&mut harness, port);
    let profile = harness.state_mut().selected_profile_mut();
    profile.tls = mqtt_lab::profile::TlsMode::Psk { identity: "btsiot".into(), key_hex: "00112233".into() };
    profile.connect_timeout_secs = 1;
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the timeout", |app| matches!(app.status(), ConnectionStatus::Failed(_)));
    let ConnectionStatus::Failed(reason) = harness.state().status() else { unreachable!() };
    assert!(reason.contains("the TLS handshake got no answer within 1 s"), "{reason}");
}
