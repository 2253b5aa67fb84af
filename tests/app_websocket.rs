//! MQTT over WebSocket from the real app: a profile pointed at a ws:// URL (pasted into the host
//! field) talks to aedes behind the `ws` package, a WebSocket broker we did not write, started by
//! the test from `interop/node`; the Packets tab shows MQTT packets, not frames. A wrong path and
//! a plain MQTT port fail in words, in the app and in `mqtt-lab check`.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mqtt_lab::App;
use mqtt_lab::connection::{ConnectionStatus, Direction};
use mqtt_lab::profile::Transport;
use mqtt_lab_broker::codec::PacketType;
use support::*;

/// aedes over ws on a free port of 127.0.0.1, serving upgrades to `/mqtt` only; it stops when
/// its stdin closes (dropped here).
struct Aedes {
    child: Child,
    port: u16,
}

impl Aedes {
    fn start() -> Self {
        let mut child = node::node()
            .args(["aedes-ws.js", "/mqtt"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs (Debian: nodejs)");
        let stdout = child.stdout.take().expect("node's stdout");
        // The first line, or the end if node fails at once: never waits past node's exit.
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("aedes-ws.js did not start: {line:?}"));
        Self { child, port }
    }
}

impl Drop for Aedes {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new profile whose host field got `url` pasted into it.
fn new_profile_with_url(harness: &mut Harness<'_, App>, url: &str) {
    harness.get_by_label("Profile settings").click();
    settle(harness);
    harness.get_by_label("New profile").click();
    settle(harness);
    set_field(harness, "Host", url);
}

/// Connects and waits for the failure (a new one, not the last attempt's).
fn failure(harness: &mut Harness<'_, App>) -> String {
    let before = harness.state().status().clone();
    harness.get_by_label("Connect").click();
    step_until(harness, "the failure", |app| {
        matches!(app.status(), ConnectionStatus::Failed(_)) && *app.status() != before
    });
    let ConnectionStatus::Failed(reason) = harness.state().status() else { unreachable!() };
    reason.clone()
}

#[test]
fn a_pasted_ws_url_connects_to_aedes_and_the_inspector_shows_mqtt_packets() {
    let aedes = Aedes::start();
    let runtime = runtime();
    let dir = ProfileDir::new("ws-aedes");
    let mut harness = harness_with(&runtime, &dir, None);
    new_profile_with_url(&mut harness, &format!("ws://127.0.0.1:{}/mqtt", aedes.port));
    let profile = harness.state().selected_profile().clone();
    assert_eq!(
        (profile.host.as_str(), profile.port, profile.transport, profile.websocket_path.as_str()),
        ("127.0.0.1", aedes.port, Transport::WebSocket, "/mqtt"),
        "the URL fills the fields"
    );
    assert_eq!(harness.get_by_label("Port").value(), Some(aedes.port.to_string()), "the port field follows");
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected over WebSocket", |app| {
        matches!(app.status(), ConnectionStatus::Connected { .. })
    });
    round_trip(&mut harness);
    let message = harness.state().model().messages.get(0).expect("the message");
    assert_eq!((message.topic.as_str(), &message.payload[..]), ("PV/sunshine", &b"yes"[..]));

    // The tap saw MQTT bytes: the first chunk sent is a CONNECT (0x10), not a frame (0x82).
    let packets = &harness.state().model().packets.packets;
    let kinds = |direction| packets.iter().filter(move |p| p.direction == direction).filter_map(|p| p.kind);
    assert_eq!(kinds(Direction::Sent).next(), Some(PacketType::Connect));
    assert_eq!(kinds(Direction::Received).next(), Some(PacketType::ConnAck));
    assert!(kinds(Direction::Sent).any(|k| k == PacketType::Publish));
    assert!(kinds(Direction::Received).any(|k| k == PacketType::Publish));
    harness.get_by_role_and_label(Role::Button, "Packets").click();
    settle(&mut harness);
    harness.get_by_label_contains("sent      CONNECT").click();
    settle(&mut harness);
    assert!(harness.query_by_label_contains("Protocol name: \"MQTT\" (bytes 4-7)").is_some());
}

#[test]
fn a_wrong_path_and_a_plain_mqtt_port_fail_in_words() {
    let aedes = Aedes::start();
    let runtime = runtime();
    let dir = ProfileDir::new("ws-wrong");
    let mut harness = harness_with(&runtime, &dir, Some(0));
    new_profile_with_url(&mut harness, &format!("ws://127.0.0.1:{}/nothing-here", aedes.port));
    let reason = failure(&mut harness);
    assert!(reason.contains("refused the WebSocket upgrade to /nothing-here"), "{reason}");
    assert!(reason.contains("HTTP 400") && reason.contains("check the path"), "{reason}");

    // The built-in broker's port speaks MQTT, not WebSocket.
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    let mqtt_port = harness.state().builtin_addr().unwrap().port();
    set_field(&mut harness, "Host", &format!("ws://127.0.0.1:{mqtt_port}/mqtt"));
    let reason = failure(&mut harness);
    assert!(reason.contains("this port does not speak WebSocket (is it the MQTT port?)"), "{reason}");
}

/// A profile file for `mqtt-lab check`, its host a URL as a student would write it.
fn url_profile(dir: &Path, name: &str, url: &str) -> PathBuf {
    let profile = serde_json::json!({ "name": name, "host": url, "client_id": name, "connect_timeout_secs": 3 });
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

#[test]
fn check_reports_the_upgrade_as_its_own_step() {
    let aedes = Aedes::start();
    let dir = ProfileDir::new("ws-check");
    let (code, report) = check(&url_profile(&dir.0, "ws-ok", &format!("ws://127.0.0.1:{}/mqtt", aedes.port)));
    assert_eq!(code, 0, "{report}");
    let upgrade = report.lines().position(|l| l.contains("WebSocket upgrade to /mqtt: 101, subprotocol mqtt"));
    let tls = report.lines().position(|l| l.contains("TLS") && l.contains("plain MQTT"));
    let connect = report.lines().position(|l| l.contains("MQTT CONNECT"));
    assert!(tls < upgrade && upgrade < connect && tls.is_some(), "{report}");
    assert!(report.contains(&format!("ws://127.0.0.1:{}/mqtt", aedes.port)), "{report}");

    let (code, report) = check(&url_profile(&dir.0, "ws-wrong", &format!("ws://127.0.0.1:{}/other", aedes.port)));
    assert_eq!(code, 8, "{report}");
    assert!(report.contains("Failed at step \"WebSocket upgrade\""), "{report}");
    assert!(report.contains("refused the WebSocket upgrade to /other"), "{report}");
    assert!(report.contains("MQTT CONNECT") && report.contains("not reached"), "{report}");
}

/// The transport row, the path and the URL under it, and a wss:// CA file, at 1024x640 and
/// 1280x720: wholly inside the window, and the side panel no wider than with TCP.
#[test]
fn the_websocket_fields_fit_a_laptop_screen() {
    let runtime = runtime();
    for size in [egui::vec2(1024.0, 640.0), egui::vec2(1280.0, 720.0)] {
        let dir = ProfileDir::new(&format!("ws-layout-{}", size.x));
        let mut harness = harness_sized(&runtime, &dir, size);
        new_profile_with_url(&mut harness, "wss://broker.example.org:8884/mqtt");
        let panel_width = |h: &Harness<'_, App>| h.get_by_label("Save profile").rect().right();
        harness.get_by_label("Security").scroll_to_me();
        settle(&mut harness);
        harness.get_by_label("Security").click();
        settle(&mut harness);
        harness.get_by_label("Self-signed CA").click();
        settle(&mut harness);
        set_field(&mut harness, "CA file", "/home/student/course/certs/ca.crt");
        let with_websocket = panel_width(&harness);
        for label in ["Transport", "WebSocket", "Path", "wss://broker.example.org:8884/mqtt", "CA file"] {
            harness.get_by_label(label).scroll_to_me();
            settle(&mut harness);
            inside(&harness, size, label);
        }
        if size.x < 1100.0 {
            let image = harness.render().expect("the software renderer draws the window");
            let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("layout");
            std::fs::create_dir_all(&out).unwrap();
            image.save(out.join("layout_websocket_1024.png")).unwrap();
        }
        harness.get_by_label("TCP").click();
        settle(&mut harness);
        assert!(harness.query_by_label("Path").is_none(), "the path belongs to WebSocket");
        assert!(
            (panel_width(&harness) - with_websocket).abs() < 1.0,
            "the panel keeps its width at {size:?}: {} vs {with_websocket}",
            panel_width(&harness)
        );
    }
}
