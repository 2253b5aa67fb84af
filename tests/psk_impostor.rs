//! A TLS-PSK profile trusts nobody but a server that uses its pre-shared key (issue 18). Run the
//! way a student runs it, `mqtt-lab check PROFILE_FILE`, in each TLS version setting, against
//! dishonest and honest peers made with `openssl s_server` (which prints whatever it receives),
//! and against our broker and Debian's Mosquitto with the course's psk_hint/psk_file listener.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::ProfileDir;
use support::mosquitto::{Mosquitto, free_port};
use support::s_server::{SServer, self_signed};

const IDENTITY: &str = "btsiot1";
const KEY: &str = "0123456789abcdef0123";
/// What the CONNECT carries; none of it may reach a server that did not use the key.
const CLIENT_ID: &str = "btsiot-impostor";
const USER: &str = "student-user";
const PASSWORD: &str = "student-secret-pw";
/// The profile's TLS version settings: "TLS 1.2 or 1.3", "TLS 1.2 only", "TLS 1.3 only".
const VERSIONS: [&str; 3] = ["any", "1.2", "1.3"];

const REFUSAL: &str = "the server did not use the pre-shared key: it is not the broker you configured, \
                       or its psk_file has no entry for this identity";

/// A TLS-PSK profile for 127.0.0.1:`port`, as the app exports it.
fn profile(dir: &Path, port: u16, version: &str, key: &str) -> PathBuf {
    let profile = serde_json::json!({
        "name": format!("psk-{port}-{version}"),
        "host": "127.0.0.1",
        "port": port,
        "client_id": CLIENT_ID,
        "username": USER,
        "password": PASSWORD,
        "connect_timeout_secs": 2,
        "tls_version": version,
        "tls": { "mode": "psk", "identity": IDENTITY, "key_hex": key },
    });
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("psk-{port}-{version}.json"));
    std::fs::write(&path, profile.to_string()).unwrap();
    path
}

/// `mqtt-lab check PROFILE_FILE`: its exit code and report.
fn check(profile: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mqtt-lab")).arg("check").arg(profile).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn assert_no_connect(seen: &str, what: &str) {
    for secret in ["MQTT", CLIENT_ID, USER, PASSWORD] {
        assert!(!seen.contains(secret), "{what}: the server received {secret:?}:\n{seen}");
    }
}

#[test]
fn a_server_with_only_a_certificate_is_refused_at_the_tls_step_and_never_sees_the_connect() {
    let dir = ProfileDir::new("psk-impostor-check");
    let (cert, key) = self_signed(&dir.0);
    let mut impostor = SServer::certificate_only(&cert, &key);
    for (n, version) in VERSIONS.into_iter().enumerate() {
        let (code, out) = check(&profile(&dir.0, impostor.port(), version, KEY));
        assert_eq!(code, 4, "TLS {version}: the TLS step fails:\n{out}");
        assert!(out.contains("FAIL  TLS") && out.contains(REFUSAL), "TLS {version}:\n{out}");
        assert!(out.contains("-     MQTT CONNECT         not reached"), "TLS {version}:\n{out}");
        assert_no_connect(&impostor.after_connections(n + 1), version);
    }
}

#[test]
fn the_observation_sees_the_connect_when_the_server_uses_the_key() {
    // The control of the test above: a server that holds the key gets the CONNECT, and s_server
    // shows it. It is no MQTT broker, so no CONNACK comes (exit 5).
    let dir = ProfileDir::new("psk-impostor-control");
    let (cert, cert_key) = self_signed(&dir.0);
    let psk_only = SServer::psk_only(IDENTITY, KEY);
    // A certificate as well as the key: the client's TLS 1.3 suites and its TLS 1.2 suites
    // (no RSA-PSK) lead it to the PSK, which it then uses.
    let with_certificate = SServer::certificate_and_psk(&cert, &cert_key, IDENTITY, KEY);
    for mut server in [psk_only, with_certificate] {
        for (n, version) in VERSIONS.into_iter().enumerate() {
            let (code, out) = check(&profile(&dir.0, server.port(), version, KEY));
            let tls = if version == "1.2" { "TLS-PSK TLSv1.2, " } else { "TLS-PSK TLSv1.3, " };
            assert!(out.contains(&format!("ok    TLS                  {tls}")), "TLS {version}:\n{out}");
            assert_eq!(code, 5, "TLS {version}: no CONNACK from s_server:\n{out}");
            let seen = server.after_connections(n + 1);
            assert_eq!(seen.matches("MQTT").count(), n + 1, "TLS {version}:\n{seen}");
            assert!(seen.contains(USER) && seen.contains(PASSWORD), "TLS {version}:\n{seen}");
        }
    }
}

#[test]
fn a_server_with_another_key_is_refused_in_words() {
    let dir = ProfileDir::new("psk-impostor-other-key");
    let mut other = SServer::psk_only(IDENTITY, "00112233445566778899");
    for (n, version) in VERSIONS.into_iter().enumerate() {
        let (code, out) = check(&profile(&dir.0, other.port(), version, KEY));
        assert_eq!(code, 4, "TLS {version}:\n{out}");
        assert!(out.contains("check the PSK identity and key against the broker's psk_file"), "TLS {version}:\n{out}");
        assert_no_connect(&other.after_connections(n + 1), version);
    }
}

#[test]
fn our_broker_and_mosquitto_with_the_right_key_pass_in_every_version() {
    let dir = ProfileDir::new("psk-impostor-brokers");
    std::fs::create_dir_all(&dir.0).unwrap();
    let psk_file = dir.0.join("pskfile");
    std::fs::write(&psk_file, format!("{IDENTITY}:{KEY}\n")).unwrap();

    let runtime = support::runtime();
    let config =
        mqtt_lab_broker::Config { allow_anonymous: Some(true), psk_file: Some(psk_file.clone()), ..Default::default() };
    let settings = mqtt_lab_broker::config::ListenerConfig { psk_hint: Some("btsiot".into()), ..Default::default() };
    let (_broker, ours) = support::our_broker(&runtime, config, &settings);

    let port = free_port();
    let conf = dir.0.join("mosquitto.conf");
    let text =
        format!("listener {port} 127.0.0.1\npsk_hint btsiot\npsk_file {}\nallow_anonymous true\n", psk_file.display());
    std::fs::write(&conf, text).unwrap();
    let _mosquitto = Mosquitto::start(&conf);

    for (name, port) in [("ours", ours), ("Mosquitto", port)] {
        for version in VERSIONS {
            let (code, out) = check(&profile(&dir.0, port, version, KEY));
            assert_eq!(code, 0, "{name}, TLS {version}:\n{out}");
            let tls = if version == "1.2" { "TLS-PSK TLSv1.2, " } else { "TLS-PSK TLSv1.3, " };
            assert!(out.contains(tls) && out.contains("came back in"), "{name}, TLS {version}:\n{out}");
        }
    }
}
