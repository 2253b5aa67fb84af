//! TLS-PSK (the course's port 8883) and certificate TLS from the real app, against our broker's
//! PSK and TLS listeners on free ports.

mod support;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mqtt_lab::App;
use mqtt_lab::connection::ConnectionStatus;
use support::pki::{Pki, make_pki};
use support::*;

/// Our broker with the course's TLS-PSK listener (psk_hint btsiot, psk_file), on a free port.
fn psk_broker(runtime: &tokio::runtime::Runtime, dir: &ProfileDir) -> (mqtt_lab_broker::Broker, u16) {
    std::fs::create_dir_all(&dir.0).unwrap();
    let psk_file = dir.0.join("mosqui_pskfile");
    std::fs::write(&psk_file, "btsiot1:0123456789abcdef0123\n").unwrap();
    let config =
        mqtt_lab_broker::Config { allow_anonymous: Some(true), psk_file: Some(psk_file), ..Default::default() };
    let settings = mqtt_lab_broker::config::ListenerConfig { psk_hint: Some("btsiot".into()), ..Default::default() };
    our_broker(runtime, config, &settings)
}

fn select_psk_profile(harness: &mut Harness<'_, App>, port: u16) {
    let name = profile_name(harness, |n| n.contains("TLS-PSK"));
    choose_profile(harness, &name);
    set_field(harness, "Host", "127.0.0.1");
    set_field(harness, "Port", &port.to_string());
}

#[test]
fn the_course_tls_psk_profile_connects_publishes_and_receives() {
    let runtime = runtime();
    let dir = ProfileDir::new("psk");
    let (_broker, port) = psk_broker(&runtime, &dir);
    let mut harness = harness_with(&runtime, &dir, None);
    select_psk_profile(&mut harness, port);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected over TLS-PSK", |app| {
        matches!(app.status(), ConnectionStatus::Connected { .. })
    });
    harness.get_by_label_contains("TLS-PSK TLSv1.3, TLS_");
    round_trip(&mut harness);
}

#[test]
fn a_wrong_psk_key_fails_in_words() {
    let runtime = runtime();
    let dir = ProfileDir::new("psk-wrong");
    let (_broker, port) = psk_broker(&runtime, &dir);
    let mut harness = harness_with(&runtime, &dir, None);
    select_psk_profile(&mut harness, port);
    if let mqtt_lab::profile::TlsMode::Psk { key_hex, .. } = &mut harness.state_mut().selected_profile_mut().tls {
        *key_hex = "0123456789abcdef0124".into();
    }
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the failure", |app| matches!(app.status(), ConnectionStatus::Failed(_)));
    let ConnectionStatus::Failed(reason) = harness.state().status() else { unreachable!() };
    assert!(
        reason.contains("the broker refused the pre-shared key: check the PSK identity") && reason.contains("psk_file"),
        "{reason}"
    );
    assert!(!reason.contains("0124"), "the key is never shown");
}

#[test]
fn a_server_that_does_not_use_the_psk_is_refused_in_words_before_the_connect() {
    // Issue 18: a server with a certificate and no PSK, where the TLS-PSK profile points.
    let runtime = runtime();
    let dir = ProfileDir::new("psk-impostor");
    let (cert, key) = s_server::self_signed(&dir.0);
    let mut impostor = s_server::SServer::certificate_only(&cert, &key);
    let mut harness = harness_with(&runtime, &dir, None);
    select_psk_profile(&mut harness, impostor.port());
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the refusal", |app| matches!(app.status(), ConnectionStatus::Failed(_)));
    let words = "the server did not use the pre-shared key: it is not the broker you configured, \
                 or its psk_file has no entry for this identity";
    let ConnectionStatus::Failed(reason) = harness.state().status() else { unreachable!() };
    assert!(reason.contains(words), "{reason}");
    // The connection bar and the log say so.
    harness.get_by_label_contains(&format!("Failed: 127.0.0.1:{}: {words}", impostor.port()));
    assert!(harness.state().model().log.iter().any(|l| l.text.contains(words)), "{:?}", harness.state().model().log);
    let seen = impostor.after_connections(1);
    assert!(!seen.contains("MQTT") && !seen.contains("btsiot1"), "the CONNECT reached the impostor:\n{seen}");
}

fn tls_broker(
    runtime: &tokio::runtime::Runtime,
    pki: &Pki,
    require_certificate: bool,
) -> (mqtt_lab_broker::Broker, u16) {
    let config = mqtt_lab_broker::Config { allow_anonymous: Some(true), ..Default::default() };
    let settings = mqtt_lab_broker::config::ListenerConfig {
        certfile: Some(pki.cert.clone()),
        keyfile: Some(pki.key.clone()),
        cafile: require_certificate.then(|| pki.ca.clone()),
        require_certificate,
        ..Default::default()
    };
    our_broker(runtime, config, &settings)
}

/// A new profile pointed at 127.0.0.1:`port` with the given security.
fn tls_profile(harness: &mut Harness<'_, App>, port: u16, tls: mqtt_lab::profile::TlsMode) {
    new_profile_at(harness, port);
    harness.state_mut().selected_profile_mut().tls = tls;
    settle(harness);
}

#[test]
fn a_self_signed_ca_profile_connects_over_tls() {
    let runtime = runtime();
    let dir = ProfileDir::new("tls-ca");
    let pki = make_pki(&dir.0);
    let (_broker, port) = tls_broker(&runtime, &pki, false);
    let mut harness = harness_with(&runtime, &dir, None);
    tls_profile(&mut harness, port, mqtt_lab::profile::TlsMode::SelfSignedCa { ca_file: String::new() });
    set_field(&mut harness, "CA file", pki.ca.to_str().unwrap());
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected over TLS", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    // The version and cipher stand next to the connection state, and verification was on.
    harness.get_by_label_contains("TLS TLSv1.3, TLS13_");
    assert!(harness.query_by_label_contains("UNSAFE").is_none());
    round_trip(&mut harness);
}

#[test]
fn a_client_certificate_gets_through_require_certificate() {
    let runtime = runtime();
    let dir = ProfileDir::new("tls-client");
    let pki = make_pki(&dir.0);
    let (_broker, port) = tls_broker(&runtime, &pki, true);
    let mut harness = harness_with(&runtime, &dir, None);
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let tls = mqtt_lab::profile::TlsMode::ClientCertificate {
        ca_file: path(&pki.ca),
        cert_file: path(&pki.client_cert),
        key_file: path(&pki.client_key),
    };
    tls_profile(&mut harness, port, tls);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected with a client certificate", |app| {
        matches!(app.status(), ConnectionStatus::Connected { .. })
    });
}

#[test]
fn a_broker_with_an_unknown_ca_is_refused_with_advice() {
    let runtime = runtime();
    let dir = ProfileDir::new("tls-untrusted");
    let pki = make_pki(&dir.0);
    let (_broker, port) = tls_broker(&runtime, &pki, false);
    let mut harness = harness_with(&runtime, &dir, None);
    tls_profile(&mut harness, port, mqtt_lab::profile::TlsMode::CaSigned);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the refusal", |app| matches!(app.status(), ConnectionStatus::Failed(_)));
    let ConnectionStatus::Failed(reason) = harness.state().status() else { unreachable!() };
    assert!(reason.contains("not signed by a trusted CA") || reason.contains("no trusted root"), "{reason}");
}

#[test]
fn do_not_verify_connects_to_an_unknown_ca_and_says_it_is_unsafe() {
    let runtime = runtime();
    let dir = ProfileDir::new("tls-unverified");
    let pki = make_pki(&dir.0);
    let (_broker, port) = tls_broker(&runtime, &pki, false);
    let mut harness = harness_with(&runtime, &dir, None);
    tls_profile(&mut harness, port, mqtt_lab::profile::TlsMode::CaSigned);
    harness.get_by_label("Do not verify the broker's certificate (unsafe)").click();
    settle(&mut harness);
    // The editor warns as soon as the switch is on...
    harness.get_by_label_contains("UNSAFE: anyone between you and the broker");
    harness.get_by_label("Connect").click();
    step_until(
        &mut harness,
        "connected without verification",
        |app| matches!(app.status(), ConnectionStatus::Connected { session: Some(s), .. } if s.unverified),
    );
    // ...and the connection state says so for as long as it lasts.
    harness.get_by_label("UNSAFE: certificate not verified");
    round_trip(&mut harness);
}
