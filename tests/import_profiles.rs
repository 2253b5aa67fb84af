//! Profiles imported from MQTT.fx and MQTTX (issue 25): the hand-written fixtures in
//! tests/fixtures/import/ become profiles field by field, what cannot be mapped is in the
//! report (never a password), the saved files are the owner's only, and each imported profile
//! connects: `mqtt-lab check` passes against one of our brokers (plain, TLS with a CA file,
//! TLS with a client certificate and MQTT 5, WebSocket with its path).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use mqtt_lab::connection::TlsVersion;
use mqtt_lab::mqtt::{MqttVersion, Qos};
use mqtt_lab::profile::import::{self, Import, Source};
use mqtt_lab::profile::{Profile, ProfileStore, TlsMode, Transport, file_stem};
use mqtt_lab_broker::config::{ListenerConfig, ListenerProtocol};
use support::mosquitto::{Mosquitto, free_port};
use support::pki::{Pki, make_pki};
use support::{ProfileDir, our_broker, runtime};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name)
}

fn mqttfx() -> Import {
    import::read_file(&fixture("mqttfx-config.xml")).unwrap()
}

fn mqttx() -> Import {
    import::read_file(&fixture("mqttx-export.json")).unwrap()
}

/// The unmapped fields of profile `i` as (field, value, reason).
fn unmapped(import: &Import, i: usize) -> Vec<(String, String, String)> {
    import.profiles[i].unmapped.iter().map(|u| (u.field.clone(), u.value.clone(), u.reason.clone())).collect()
}

fn has(list: &[(String, String, String)], field: &str, value: &str) -> bool {
    list.iter().any(|(f, v, _)| f == field && v == value)
}

#[test]
fn mqtt_fx_profiles_are_mapped_field_by_field() {
    let import = mqttfx();
    assert_eq!(import.source, Source::MqttFx);
    assert_eq!(import.profiles.len(), 2);
    let plain = &import.profiles[0].profile;
    assert_eq!((plain.name.as_str(), plain.host.as_str(), plain.port), ("Pi in class B12", "192.168.1.20", 1883));
    assert_eq!(plain.client_id, "MQTT_FX_Client_B12");
    assert_eq!((plain.username.as_deref(), plain.password.as_deref()), (Some("btsiot1"), Some("btsiotpass1")));
    assert_eq!((plain.clean_session, plain.connect_timeout_secs, plain.keep_alive_secs), (true, 15, 30));
    assert!(!plain.auto_reconnect);
    assert_eq!(plain.version, MqttVersion::V311);
    assert_eq!(plain.tls, TlsMode::None);
    let will = plain.last_will.as_ref().expect("the will");
    assert_eq!(
        (will.topic.as_str(), will.message.as_str(), will.qos, will.retain),
        ("lamp/status", "offline", Qos::AtLeastOnce, true)
    );
    assert_eq!(plain.favourites.len(), 1);
    let lamp_on = &plain.favourites[0];
    assert_eq!((lamp_on.name.as_str(), lamp_on.message.topic.as_str()), ("Lamp on", "lamp/set"));
    assert_eq!(
        (&lamp_on.message.payload[..], lamp_on.message.qos, lamp_on.message.retain),
        (&br#"{"on": true}"#[..], Qos::AtLeastOnce, false)
    );
    assert_eq!(plain.topic_history, ["lamp/set", "PV/data"]);
    assert!(import.profiles[0].problems.is_empty(), "{:?}", import.profiles[0].problems);

    let tls = &import.profiles[1].profile;
    assert_eq!((tls.name.as_str(), tls.host.as_str(), tls.port), ("Pi over TLS", "raspberrypi.local", 8883));
    assert_eq!(tls.tls, TlsMode::SelfSignedCa { ca_file: "/home/student/mqtt/ca.pem".into() });
    assert_eq!(tls.tls_version, TlsVersion::V1_2);
    assert_eq!((tls.version, tls.clean_session, tls.auto_reconnect), (MqttVersion::V31, false, true));
    assert_eq!((tls.username.as_deref(), tls.password.as_deref()), (None, None), "no password unless the file has one");
}

#[test]
fn mqtt_fx_fields_without_a_place_are_reported() {
    let import = mqttfx();
    let plain = unmapped(&import, 0);
    for (field, value) in [
        ("connectionOptions.maxInflight", "10"),
        ("connectionOptions.useProxy", "true"),
        ("connectionOptions.proxyHost", "proxy.school.lan"),
        ("connectionOptions.proxyPort", "3128"),
        ("preDefinedMessages.message[0].payloadType", "JSON"),
        ("recentSubscriptionTopics.topic[0]", "lamp/#"),
    ] {
        assert!(has(&plain, field, value), "{field} = {value} is reported: {plain:#?}");
    }
    assert!(
        !plain.iter().any(|(f, _, _)| f.contains("userName")
            || f.contains("lastWill")
            || f.contains("pemFormatted")
            || f == "brokerPort"),
        "mapped fields are not listed: {plain:#?}"
    );
    assert!(has(&unmapped(&import, 1), "connectionOptions.maxInflight", "10"));
    assert!(
        import.unmapped.iter().any(|u| u.field == "configuration.applicationSettings.checkForUpdates"),
        "settings outside the profiles are listed too: {:?}",
        import.unmapped
    );
    let report = import.report(&[]);
    assert!(report.contains("not imported: connectionOptions.proxyHost = proxy.school.lan"), "{report}");
    assert!(!report.contains("btsiotpass1"), "never the password:\n{report}");
}

#[test]
fn mqttx_connections_are_mapped_field_by_field() {
    let import = mqttx();
    assert_eq!(import.source, Source::Mqttx);
    assert_eq!(import.profiles.len(), 3);
    let plain = &import.profiles[0].profile;
    assert_eq!((plain.name.as_str(), plain.host.as_str(), plain.port), ("Plant (mqtt)", "192.168.1.20", 1883));
    assert_eq!(
        (plain.client_id.as_str(), plain.keep_alive_secs, plain.connect_timeout_secs),
        ("mqttx_plant_01", 45, 12)
    );
    assert_eq!((plain.username.as_deref(), plain.password.as_deref()), (Some("btsiot1"), Some("btsiotpass1")));
    assert_eq!((plain.transport, plain.tls.clone(), plain.version), (Transport::Tcp, TlsMode::None, MqttVersion::V311));
    let will = plain.last_will.as_ref().expect("the will");
    assert_eq!(
        (will.topic.as_str(), will.message.as_str(), will.qos, will.retain),
        ("PV/status", "offline", Qos::AtLeastOnce, true)
    );

    let tls = &import.profiles[1].profile;
    assert_eq!(
        tls.tls,
        TlsMode::ClientCertificate {
            ca_file: "/home/student/pki/ca.pem".into(),
            cert_file: "/home/student/pki/client.pem".into(),
            key_file: "/home/student/pki/client.key".into(),
        }
    );
    assert_eq!((tls.version, tls.port, tls.auto_reconnect, tls.tls_skip_verify), (MqttVersion::V5, 8883, false, false));
    assert_eq!((tls.username.as_deref(), tls.password.as_deref()), (None, None), "empty credentials stay empty");
    assert_eq!(tls.last_will, None, "MQTTX's empty will is no will");
    assert_eq!(
        (tls.mqtt5.session_expiry, tls.mqtt5.receive_maximum, tls.mqtt5.topic_alias_maximum),
        (300, Some(20), 5)
    );
    assert!(tls.mqtt5.request_response_information);
    assert_eq!(tls.mqtt5.user_properties.len(), 1);
    assert_eq!(
        (tls.mqtt5.user_properties[0].name.as_str(), tls.mqtt5.user_properties[0].value.as_str()),
        ("room", "B12")
    );

    let ws = &import.profiles[2].profile;
    assert_eq!((ws.transport, ws.websocket_path.as_str(), ws.port), (Transport::WebSocket, "/mqtt/ws", 8083));
    assert_eq!((ws.username.as_deref(), ws.tls.clone()), (None, TlsMode::None));
    for imported in &import.profiles {
        assert!(imported.problems.is_empty(), "{}: {:?}", imported.profile.name, imported.problems);
    }
}

#[test]
fn mqttx_fields_without_a_place_are_reported_and_secrets_hidden() {
    let import = mqttx();
    let plain = unmapped(&import, 0);
    assert!(has(&plain, "pushPropsContentType", "application/json"), "{plain:#?}");
    assert!(has(&plain, "subscriptions.0", "PV/# (QoS 1)"), "{plain:#?}");
    assert!(has(&plain, "messages", "2 messages"), "{plain:#?}");
    assert!(plain.iter().any(|(f, _, r)| f == "id" && r == "MQTTX's own record keeping"), "{plain:#?}");
    assert!(
        !plain.iter().any(|(f, _, _)| (f.starts_with("will.") && f != "will.id") || f == "path" || f == "ssl"),
        "mapped: {plain:#?}"
    );
    let tls = unmapped(&import, 1);
    assert!(has(&tls, "clientIdWithTime", "true"), "{tls:#?}");
    assert!(has(&tls, "properties.authenticationMethod", "SCRAM-SHA-1"), "{tls:#?}");
    assert!(has(&tls, "properties.authenticationData", "(hidden)"), "{tls:#?}");
    assert!(
        !tls.iter().any(|(f, _, _)| f.contains("sessionExpiryInterval")
            || f == "authenticationMethod"
            || f.starts_with("will")),
        "mapped, or the same value written twice: {tls:#?}"
    );
    let report = import.report(&[]);
    assert!(!report.contains("btsiotpass1") && !report.contains("c2VjcmV0"), "never a secret:\n{report}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn imported_profiles_are_saved_for_their_owner_only_and_overwrite_nothing() {
    let dir = ProfileDir::new("import-save");
    let store = ProfileStore::at(dir.0.clone());
    let import = mqttx();
    let first = import.save(&store).unwrap();
    let again = import.save(&store).unwrap();
    assert_eq!(first[0].name, "Plant (mqtt)");
    assert_eq!(again[0].name, "Plant (mqtt) (imported)", "a second import takes new names");
    let (all, errors) = store.load_all();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(all.len(), 6);
    let back = all.iter().find(|p| p.name == "Pi (mqtts, certificates)").unwrap();
    assert_eq!(back, &import.profiles[1].profile, "saved as mapped");
    #[cfg(unix)]
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        assert_eq!(mode(&entry.unwrap().path()), 0o600, "profiles hold passwords");
    }
    assert!(import.report(&again).contains("saved as \"Plant (mqtt) (imported)\""));
}

/// Points an imported profile at 127.0.0.1:`port` (the classroom host is not here) with this
/// test's PKI, saves it as the app would and runs `mqtt-lab check` on the file.
fn check(dir: &Path, mut profile: Profile, port: u16, pki: Option<&Pki>) -> (i32, String) {
    profile.host = "127.0.0.1".into();
    profile.port = port;
    let path_of = |p: &Path| p.display().to_string();
    if let Some(pki) = pki {
        profile.tls = match profile.tls {
            TlsMode::SelfSignedCa { .. } => TlsMode::SelfSignedCa { ca_file: path_of(&pki.ca) },
            TlsMode::ClientCertificate { .. } => TlsMode::ClientCertificate {
                ca_file: path_of(&pki.ca),
                cert_file: path_of(&pki.client_cert),
                key_file: path_of(&pki.client_key),
            },
            other => other,
        };
    }
    ProfileStore::at(dir.to_owned()).save(&profile).unwrap();
    let file = dir.join(format!("{}.json", file_stem(&profile.name)));
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
    let out = Command::new(env!("CARGO_BIN_EXE_mqtt-lab")).arg("check").arg(&file).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn broker(
    runtime: &tokio::runtime::Runtime,
    pki: Option<(&Pki, bool)>,
    protocol: ListenerProtocol,
) -> (mqtt_lab_broker::Broker, u16) {
    let config = mqtt_lab_broker::Config { allow_anonymous: Some(true), ..Default::default() };
    let settings = ListenerConfig {
        certfile: pki.map(|(p, _)| p.cert.clone()),
        keyfile: pki.map(|(p, _)| p.key.clone()),
        cafile: pki.filter(|(_, require)| *require).map(|(p, _)| p.ca.clone()),
        require_certificate: pki.is_some_and(|(_, require)| require),
        protocol,
        ..Default::default()
    };
    our_broker(runtime, config, &settings)
}

fn assert_passes((code, report): (i32, String), what: &str) {
    assert_eq!(code, 0, "{what}: {report}");
    assert!(report.contains("All steps passed."), "{what}: {report}");
}

#[test]
fn every_imported_profile_passes_mqtt_lab_check() {
    let runtime = runtime();
    let dir = ProfileDir::new("import-check");
    let pki = make_pki(&dir.0.join("pki"));
    let (fx, x) = (mqttfx(), mqttx());
    let (_plain, plain_port) = broker(&runtime, None, ListenerProtocol::Mqtt);
    let (_tls, tls_port) = broker(&runtime, Some((&pki, false)), ListenerProtocol::Mqtt);
    let (_mtls, mtls_port) = broker(&runtime, Some((&pki, true)), ListenerProtocol::Mqtt);
    let (_ws, ws_port) = broker(&runtime, None, ListenerProtocol::WebSockets);
    let store = dir.0.join("profiles");
    assert_passes(check(&store, fx.profiles[0].profile.clone(), plain_port, None), "MQTT.fx plain with will");
    assert_passes(check(&store, fx.profiles[1].profile.clone(), tls_port, Some(&pki)), "MQTT.fx TLS with CA file");
    assert_passes(check(&store, x.profiles[0].profile.clone(), plain_port, None), "MQTTX mqtt");
    let (code, report) = check(&store, x.profiles[1].profile.clone(), mtls_port, Some(&pki));
    assert_passes((code, report.clone()), "MQTTX mqtts with certificates");
    assert!(report.contains("MQTT 5"), "{report}");
    let (code, report) = check(&store, x.profiles[2].profile.clone(), ws_port, None);
    assert_passes((code, report.clone()), "MQTTX ws with path");
    assert!(report.contains("ws://127.0.0.1:") && report.contains("/mqtt/ws"), "{report}");
}

/// Debian's Mosquitto with a password file for the course's user: the credentials MQTT.fx's
/// file had are the ones sent (a wrong or missing password is refused at MQTT CONNECT).
#[test]
fn the_imported_credentials_log_in_to_mosquitto_with_a_password_file() {
    let dir = ProfileDir::new("import-mosquitto");
    std::fs::create_dir_all(&dir.0).unwrap();
    let passwords = dir.0.join("passwd");
    let made =
        Command::new("mosquitto_passwd").arg("-b").arg("-c").arg(&passwords).args(["btsiot1", "btsiotpass1"]).status();
    assert!(made.unwrap().success(), "mosquitto_passwd writes the password file");
    let port = free_port();
    let conf = dir.0.join("mosquitto.conf");
    let text = format!("listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n", passwords.display());
    std::fs::write(&conf, text).unwrap();
    let _mosquitto = Mosquitto::start(&conf);
    let store = dir.0.join("profiles");
    let plain = mqttfx().profiles[0].profile.clone();
    assert_passes(check(&store, plain.clone(), port, None), "MQTT.fx profile with its password");
    let without = Profile { name: "without password".into(), password: None, ..plain };
    let (code, report) = check(&store, without, port, None);
    assert_eq!(code, 5, "refused at MQTT CONNECT without the password: {report}");
}
