//! The real app, driven through egui_kittest the way a student clicks through the course's first
//! exercise: connect to the built-in broker, subscribe to PV/sunshine, publish "yes", see it.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mqtt_lab::connection::ConnectionStatus;
use mqtt_lab::embedded::EmbeddedStatus;
use mqtt_lab::{App, AppOptions};

/// Bounds a wait that only a failing test reaches.
const PATIENCE: Duration = Duration::from_secs(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("test-io").enable_all().build().unwrap()
}

/// A fresh profile directory for one test, removed when dropped.
struct ProfileDir(std::path::PathBuf);

impl ProfileDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mqtt-lab-app-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for ProfileDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn harness_with(
    runtime: &tokio::runtime::Runtime,
    dir: &ProfileDir,
    embedded_port: Option<u16>,
) -> Harness<'static, App> {
    let handle = runtime.handle().clone();
    let options = AppOptions { embedded_port, profile_dir: Some(dir.0.clone()) };
    Harness::builder()
        .with_size(egui::vec2(1300.0, 900.0))
        .build_eframe(move |cc| App::new(&cc.egui_ctx, handle, &options))
}

fn app_harness(runtime: &tokio::runtime::Runtime, dir: &ProfileDir) -> Harness<'static, App> {
    // The built-in broker on a free port: tests never use fixed ports.
    harness_with(runtime, dir, Some(0))
}

/// Steps the app until `done` holds; the worker threads run meanwhile. Panics with `what`.
fn step_until(harness: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}; log: {:?}", harness.state().model.log);
        harness.step();
        // Let the I/O threads run between frames, as a real frame interval would.
        std::thread::yield_now();
    }
    harness.step();
}

fn set_field(harness: &mut Harness<'_, App>, label: &str, text: &str) {
    let field = harness.get_by_label(label);
    field.focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness.get_by_label(label).type_text(text);
    // Let the layout settle (a validation message may come or go) before the next click.
    harness.run();
}

/// Waits for the built-in broker, connects, and subscribes with the filter in the form.
fn connect_and_subscribe(harness: &mut Harness<'_, App>) {
    step_until(harness, "the built-in broker", |app| matches!(app.embedded_status, Some(EmbeddedStatus::Running(_))));
    harness.get_by_label("Connect").click();
    step_until(harness, "connected", |app| matches!(app.model.status, ConnectionStatus::Connected { .. }));
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(harness, "the SUBACK", |app| {
        app.model.subscriptions.list.iter().any(|s| matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });
}

#[test]
fn a_student_publishes_yes_on_pv_sunshine_and_sees_it_arrive() {
    let runtime = runtime();
    let dir = ProfileDir::new("first-exercise");
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the built-in broker", |app| {
        matches!(app.embedded_status, Some(EmbeddedStatus::Running(_)))
    });
    assert!(harness.state().profile().builtin_broker, "the built-in broker's profile is selected on first start");

    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.model.status, ConnectionStatus::Connected { .. }));

    set_field(&mut harness, "Filter", "PV/sunshine");
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the SUBACK", |app| {
        app.model
            .subscriptions
            .list
            .iter()
            .any(|s| s.filter == "PV/sunshine" && matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });

    set_field(&mut harness, "Topic", "PV/sunshine");
    set_field(&mut harness, "Payload", "yes");
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the message", |app| app.model.messages.total() == 1);
    assert!(harness.query_by_label_contains("PV/sunshine  yes").is_some(), "the message is in the list");
    let sub = &harness.state().model.subscriptions.list[0];
    assert_eq!(sub.count, 1, "the subscription counts it");
    assert!(harness.state().model.taps.iter().any(|t| t.bytes.first() == Some(&0x10)), "the relay tapped the CONNECT");
}

#[test]
fn muting_a_subscription_hides_its_messages() {
    let runtime = runtime();
    let dir = ProfileDir::new("mute");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness); // the default filter PV/#
    harness.get_by_role_and_label(Role::Button, "Publish").click(); // the default PV/sunshine "yes"
    step_until(&mut harness, "the message", |app| app.model.messages.total() == 1);
    assert!(harness.query_by_label_contains("PV/sunshine  yes").is_some());
    harness.get_by_label("Mute").click();
    harness.step();
    harness.step();
    assert!(harness.query_by_label_contains("PV/sunshine  yes").is_none(), "muted: hidden");
    assert_eq!(harness.state().model.subscriptions.list[0].count, 1, "still counted");
}

#[test]
fn a_connection_to_a_port_where_no_broker_listens_fails_in_words() {
    let runtime = runtime();
    let dir = ProfileDir::new("refused");
    let mut harness = harness_with(&runtime, &dir, None);
    // A profile for a remote broker, pointed at this machine only.
    let index = harness.state().profiles.iter().position(|p| p.name.starts_with("Raspberry Pi (password")).unwrap();
    harness.state_mut().selected = index;
    harness.step();
    set_field(&mut harness, "Host", "127.0.0.1");
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    set_field(&mut harness, "Port", &port.to_string());
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the failure", |app| matches!(app.model.status, ConnectionStatus::Failed(_)));
    let ConnectionStatus::Failed(reason) = &harness.state().model.status else { unreachable!() };
    assert!(reason.contains("refused the connection: no broker listens on that port"), "{reason}");
}

#[test]
fn a_favourite_publishes_with_one_click() {
    let runtime = runtime();
    let dir = ProfileDir::new("favourite");
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the built-in broker", |app| {
        matches!(app.embedded_status, Some(EmbeddedStatus::Running(_)))
    });
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.model.status, ConnectionStatus::Connected { .. }));
    set_field(&mut harness, "Filter", "lamp/cmd");
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the SUBACK", |app| {
        app.model.subscriptions.list.iter().any(|s| matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });
    harness.get_by_label("LED 50 %").click();
    step_until(&mut harness, "the command", |app| app.model.messages.total() == 1);
    let m = harness.state().model.messages.get(0).unwrap().clone();
    assert_eq!((m.topic.as_str(), &m.payload[..]), ("lamp/cmd", &br#"{"control":"PWM","value":50,"unit":"%"}"#[..]));
}

#[test]
fn a_saved_profile_is_there_after_a_restart() {
    let runtime = runtime();
    let dir = ProfileDir::new("restart");
    {
        let mut harness = app_harness(&runtime, &dir);
        harness.get_by_label("Profile settings").click();
        harness.step();
        set_field(&mut harness, "Name", "My Pi");
        set_field(&mut harness, "User name", "btsiot1");
        harness.get_by_label("Save profile").click();
        step_until(&mut harness, "the save", |app| app.model.log.iter().any(|l| l.text == "Saved profile My Pi."));
    }
    let harness = app_harness(&runtime, &dir);
    let mine = harness.state().profiles.iter().find(|p| p.name == "My Pi").expect("the saved profile");
    assert_eq!(mine.username.as_deref(), Some("btsiot1"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.0.join("my-pi.json")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
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
    step_until(&mut harness, "the message", |app| app.model.messages.total() == 1);
    assert_eq!(&harness.state().model.messages.get(0).unwrap().payload[..], &[0xff, 0x00, 0x41]);
    harness.get_by_label_contains("(QoS 0, 3 bytes)").click();
    harness.run();
    harness.get_by_label("Hex dump").click();
    harness.run();
    assert!(harness.query_by_label_contains("00000000  ff 00 41").is_some(), "the hex dump shows the bytes");
    harness.get_by_label("Base64").click();
    harness.run();
    assert!(harness.query_by_label_contains("/wBB").is_some());
}

#[test]
fn a_refused_connection_is_explained_in_words_with_the_prefix_hint() {
    let runtime = runtime();
    let dir = ProfileDir::new("refused-5");
    // A broker that refuses anonymous clients, as the course's Raspberry Pi does.
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = mqtt_lab_broker::Config { allow_anonymous: Some(false), ..mqtt_lab_broker::Config::default() };
    config.log.set_dest(mqtt_lab_broker::log::LogDest::None);
    let _broker = runtime.block_on(async {
        let broker = mqtt_lab_broker::Broker::start(config).unwrap();
        broker.listen(listener, &mqtt_lab_broker::config::ListenerConfig::default()).unwrap();
        broker
    });
    let mut harness = harness_with(&runtime, &dir, None);
    let index = harness.state().profiles.iter().position(|p| p.name.starts_with("Raspberry Pi (password")).unwrap();
    harness.state_mut().selected = index;
    harness.step();
    set_field(&mut harness, "Host", "127.0.0.1");
    set_field(&mut harness, "Port", &port.to_string());
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the refusal", |app| matches!(app.model.status, ConnectionStatus::Failed(_)));
    let ConnectionStatus::Failed(reason) = &harness.state().model.status else { unreachable!() };
    assert!(reason.starts_with("Refused (5): not authorised."), "{reason}");
    assert!(reason.contains("client id prefix"), "the course's btsiot- client id gets the prefix hint: {reason}");
    assert!(harness.query_by_label_contains("Failed: Refused (5)").is_some(), "shown next to the connect button");
}

#[test]
fn export_leaves_the_password_out_and_import_adds_the_profile() {
    let runtime = runtime();
    let dir = ProfileDir::new("transfer");
    let mut harness = app_harness(&runtime, &dir);
    harness.get_by_label("Profile settings").click();
    harness.run();
    set_field(&mut harness, "User name", "btsiot1");
    set_field(&mut harness, "Password", "btsiotpass1");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("shared-profile.json");
    set_field(&mut harness, "File", file.to_str().unwrap());
    harness.get_by_role_and_label(Role::Button, "Export").click();
    step_until(&mut harness, "the export", |app| app.model.log.iter().any(|l| l.text.starts_with("Exported")));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("btsiot1") && !text.contains("btsiotpass1"), "{text}");
    let before = harness.state().profiles.len();
    harness.get_by_role_and_label(Role::Button, "Import").click();
    step_until(&mut harness, "the import", |app| app.profiles.len() == before + 1);
    let imported = harness.state().profile().clone();
    assert!(imported.name.ends_with("(imported)"), "{}", imported.name);
    assert_eq!((imported.username.as_deref(), imported.password), (Some("btsiot1"), None));
}

#[test]
fn a_new_profile_is_created_edited_and_saved() {
    let runtime = runtime();
    let dir = ProfileDir::new("new-profile");
    let mut harness = app_harness(&runtime, &dir);
    let before = harness.state().profiles.len();
    harness.get_by_label("Profile settings").click();
    harness.run();
    harness.get_by_label("New profile").click();
    harness.run();
    assert_eq!(harness.state().profiles.len(), before + 1);
    assert_eq!(harness.state().profile().name, "New profile");
    set_field(&mut harness, "Name", "Classroom Pi");
    set_field(&mut harness, "Host", "127.0.0.1");
    set_field(&mut harness, "Port", "1884");
    harness.get_by_label("Save profile").click();
    step_until(&mut harness, "the save", |app| app.model.log.iter().any(|l| l.text == "Saved profile Classroom Pi."));
    let saved: mqtt_lab::profile::Profile =
        serde_json::from_str(&std::fs::read_to_string(dir.0.join("classroom-pi.json")).unwrap()).unwrap();
    assert_eq!((saved.host.as_str(), saved.port), ("127.0.0.1", 1884), "the typed port is saved too");
    assert!(saved.client_id.starts_with("mqtt-lab-"));
}

#[test]
fn an_mqtt_3_1_profile_connects_as_mqtt_3_1() {
    let runtime = runtime();
    let dir = ProfileDir::new("v31");
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the built-in broker", |app| {
        matches!(app.embedded_status, Some(EmbeddedStatus::Running(_)))
    });
    harness.get_by_label("Profile settings").click();
    harness.run();
    harness.get_by_label("3.1").click();
    harness.run();
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.model.status, ConnectionStatus::Connected { .. }));
    step_until(&mut harness, "the broker's log line", |app| {
        app.broker_log.iter().any(|l| l.contains("New client connected"))
    });
    let line = harness.state().broker_log.iter().find(|l| l.contains("New client connected")).unwrap().clone();
    assert!(line.contains("(p1, c1, k60)"), "the broker saw MQTT 3.1: {line}");
    let connect = harness.state().model.taps.iter().find(|t| t.bytes.first() == Some(&0x10)).unwrap();
    assert_eq!(&connect.bytes[2..10], b"\x00\x06MQIsdp", "the inspector sees the CONNECT as sent");
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the SUBACK", |app| {
        app.model.subscriptions.list.iter().any(|s| matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the message", |app| app.model.messages.total() == 1);
}

/// Our broker with the course's TLS-PSK listener (psk_hint btsiot, psk_file), on a free port.
fn psk_broker(runtime: &tokio::runtime::Runtime, dir: &ProfileDir) -> (mqtt_lab_broker::Broker, u16) {
    std::fs::create_dir_all(&dir.0).unwrap();
    let psk_file = dir.0.join("mosqui_pskfile");
    std::fs::write(&psk_file, "btsiot1:0123456789abcdef0123\n").unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = mqtt_lab_broker::Config {
        allow_anonymous: Some(true),
        psk_file: Some(psk_file),
        ..mqtt_lab_broker::Config::default()
    };
    config.log.set_dest(mqtt_lab_broker::log::LogDest::None);
    let settings = mqtt_lab_broker::config::ListenerConfig { psk_hint: Some("btsiot".into()), ..Default::default() };
    let broker = runtime.block_on(async {
        let broker = mqtt_lab_broker::Broker::start(config).unwrap();
        broker.listen(listener, &settings).unwrap();
        broker
    });
    (broker, port)
}

fn select_psk_profile(harness: &mut Harness<'_, App>, port: u16) {
    let index = harness.state().profiles.iter().position(|p| p.name.contains("TLS-PSK")).unwrap();
    harness.state_mut().selected = index;
    harness.step();
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
        matches!(app.model.status, ConnectionStatus::Connected { .. })
    });
    assert!(
        harness.state().model.log.iter().any(|l| l.text.starts_with("TLS-PSK session: TLSv1.3")),
        "{:?}",
        harness.state().model.log
    );
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the SUBACK", |app| {
        app.model.subscriptions.list.iter().any(|s| matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the message", |app| app.model.messages.total() == 1);
}

#[test]
fn a_wrong_psk_key_fails_in_words() {
    let runtime = runtime();
    let dir = ProfileDir::new("psk-wrong");
    let (_broker, port) = psk_broker(&runtime, &dir);
    let mut harness = harness_with(&runtime, &dir, None);
    select_psk_profile(&mut harness, port);
    let selected = harness.state().selected;
    if let mqtt_lab::profile::TlsMode::Psk { key_hex, .. } = &mut harness.state_mut().profiles[selected].tls {
        *key_hex = "0123456789abcdef0124".into();
    }
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the failure", |app| matches!(app.model.status, ConnectionStatus::Failed(_)));
    let ConnectionStatus::Failed(reason) = &harness.state().model.status else { unreachable!() };
    assert!(reason.contains("TLS-PSK handshake failed") && reason.contains("psk_file"), "{reason}");
    assert!(!reason.contains("0124"), "the key is never shown");
}

/// A classroom CA, a broker certificate for 127.0.0.1, and a client certificate, as PEM files.
struct Pki {
    ca: std::path::PathBuf,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    client_cert: std::path::PathBuf,
    client_key: std::path::PathBuf,
}

fn make_pki(dir: &ProfileDir) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Classroom CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params.distinguished_name.push(DnType::CommonName, "btsiot-student");
    let client = client_params.signed_by(&client_key, &ca).unwrap();
    let write = |name: &str, text: String| {
        let path = dir.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    Pki {
        ca: write("ca.pem", ca.pem()),
        cert: write("server.pem", cert.pem()),
        key: write("server.key", key.serialize_pem()),
        client_cert: write("client.pem", client.pem()),
        client_key: write("client.key", client_key.serialize_pem()),
    }
}

fn tls_broker(
    runtime: &tokio::runtime::Runtime,
    pki: &Pki,
    require_certificate: bool,
) -> (mqtt_lab_broker::Broker, u16) {
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = mqtt_lab_broker::Config { allow_anonymous: Some(true), ..mqtt_lab_broker::Config::default() };
    config.log.set_dest(mqtt_lab_broker::log::LogDest::None);
    let settings = mqtt_lab_broker::config::ListenerConfig {
        certfile: Some(pki.cert.clone()),
        keyfile: Some(pki.key.clone()),
        cafile: require_certificate.then(|| pki.ca.clone()),
        require_certificate,
        ..Default::default()
    };
    let broker = runtime.block_on(async {
        let broker = mqtt_lab_broker::Broker::start(config).unwrap();
        broker.listen(listener, &settings).unwrap();
        broker
    });
    (broker, port)
}

/// A new profile pointed at 127.0.0.1:`port` with the given security.
fn tls_profile(harness: &mut Harness<'_, App>, port: u16, tls: mqtt_lab::profile::TlsMode) {
    harness.get_by_label("Profile settings").click();
    harness.run();
    harness.get_by_label("New profile").click();
    harness.run();
    set_field(harness, "Host", "127.0.0.1");
    set_field(harness, "Port", &port.to_string());
    let selected = harness.state().selected;
    harness.state_mut().profiles[selected].tls = tls;
    harness.run();
}

#[test]
fn a_self_signed_ca_profile_connects_over_tls() {
    let runtime = runtime();
    let dir = ProfileDir::new("tls-ca");
    let pki = make_pki(&dir);
    let (_broker, port) = tls_broker(&runtime, &pki, false);
    let mut harness = harness_with(&runtime, &dir, None);
    tls_profile(&mut harness, port, mqtt_lab::profile::TlsMode::SelfSignedCa { ca_file: String::new() });
    set_field(&mut harness, "CA file", pki.ca.to_str().unwrap());
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected over TLS", |app| {
        matches!(app.model.status, ConnectionStatus::Connected { .. })
    });
    assert!(
        harness.state().model.log.iter().any(|l| l.text.starts_with("TLS session: TLSv1_3")),
        "{:?}",
        harness.state().model.log
    );
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the SUBACK", |app| {
        app.model.subscriptions.list.iter().any(|s| matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the message", |app| app.model.messages.total() == 1);
}

#[test]
fn a_client_certificate_gets_through_require_certificate() {
    let runtime = runtime();
    let dir = ProfileDir::new("tls-client");
    let pki = make_pki(&dir);
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
        matches!(app.model.status, ConnectionStatus::Connected { .. })
    });
}

#[test]
fn a_broker_with_an_unknown_ca_is_refused_with_advice() {
    let runtime = runtime();
    let dir = ProfileDir::new("tls-untrusted");
    let pki = make_pki(&dir);
    let (_broker, port) = tls_broker(&runtime, &pki, false);
    let mut harness = harness_with(&runtime, &dir, None);
    tls_profile(&mut harness, port, mqtt_lab::profile::TlsMode::CaSigned);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the refusal", |app| matches!(app.model.status, ConnectionStatus::Failed(_)));
    let ConnectionStatus::Failed(reason) = &harness.state().model.status else { unreachable!() };
    assert!(reason.contains("not signed by a trusted CA") || reason.contains("no trusted root"), "{reason}");
}
