//! Issue 25: with `SSLKEYLOGFILE` set, the real app logs its TLS-PSK session's secrets and its
//! connection bar says so. The variable is process-wide and read once, so the test runs this
//! binary again with the variable set (never `set_var` in a multi-threaded test process), and
//! that run drives the app.

mod support;

use std::path::PathBuf;
use std::process::Command;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mqtt_lab::App;
use mqtt_lab::connection::ConnectionStatus;
use support::*;

const INNER: &str = "inner_the_app_logs_keys_and_says_so";

#[test]
fn the_connection_bar_says_when_tls_keys_are_logged() {
    let dir = ProfileDir::new("keylog-app-outer");
    std::fs::create_dir_all(&dir.0).unwrap();
    let key_log = dir.0.join("keys.log");
    let run = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", INNER, "--include-ignored", "--nocapture", "--test-threads=1"])
        .env("SSLKEYLOGFILE", &key_log)
        .output()
        .expect("the test binary runs again");
    let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success() && said.contains("1 passed"), "the run with SSLKEYLOGFILE failed:\n{said}");
    let keys = std::fs::read_to_string(&key_log).expect("the app wrote the key log");
    for label in ["CLIENT_HANDSHAKE_TRAFFIC_SECRET ", "CLIENT_TRAFFIC_SECRET_0 ", "SERVER_TRAFFIC_SECRET_0 "] {
        assert!(keys.lines().any(|l| l.starts_with(label)), "no {label}line in:\n{keys}");
    }
}

/// Run by the test above with `SSLKEYLOGFILE` set; on its own it has nothing to check.
#[test]
#[ignore = "run by the_connection_bar_says_when_tls_keys_are_logged, with SSLKEYLOGFILE set"]
fn inner_the_app_logs_keys_and_says_so() {
    let key_log = PathBuf::from(std::env::var_os("SSLKEYLOGFILE").expect("SSLKEYLOGFILE is set by the outer test"));
    let runtime = runtime();
    let dir = ProfileDir::new("keylog-app-inner");
    std::fs::create_dir_all(&dir.0).unwrap();
    let psk_file = dir.0.join("pskfile");
    std::fs::write(&psk_file, "btsiot1:0123456789abcdef0123\n").unwrap();
    let config =
        mqtt_lab_broker::Config { allow_anonymous: Some(true), psk_file: Some(psk_file), ..Default::default() };
    let settings = mqtt_lab_broker::config::ListenerConfig { psk_hint: Some("btsiot".into()), ..Default::default() };
    let (_broker, port) = our_broker(&runtime, config, &settings);
    let mut harness: Harness<'_, App> = harness_with(&runtime, &dir, None);
    let name = profile_name(&harness, |n| n.contains("TLS-PSK"));
    choose_profile(&mut harness, &name);
    set_field(&mut harness, "Host", "127.0.0.1");
    set_field(&mut harness, "Port", &port.to_string());
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected over TLS-PSK", |app| {
        matches!(app.status(), ConnectionStatus::Connected { .. })
    });
    harness.get_by_label(&format!("TLS keys logged to {} (SSLKEYLOGFILE)", key_log.display()));
    round_trip(&mut harness);
}
