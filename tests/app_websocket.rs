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
use egui_kittest::kittest::{NodeT as _, Queryable};
use mqtt_lab::App;
use mqtt_lab::connection::{ConnectionStatus, Direction};
use mqtt_lab::profile::{TlsMode, Transport};
use mqtt_lab_broker::codec::PacketType;
use support::pki::{Pki, make_pki};
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

/// Our broker with `protocol websockets` listeners on free ports: plain (ws://), with an rcgen
/// certificate (wss://, and one that requires a client certificate), and over TLS-PSK.
struct Ours {
    _broker: mqtt_lab_broker::Broker,
    ws: u16,
    wss: u16,
    wss_client_cert: u16,
    ws_psk: u16,
    pki: Pki,
}

fn our_ws_broker(runtime: &tokio::runtime::Runtime, dir: &Path) -> Ours {
    use mqtt_lab_broker::config::{ListenerConfig, ListenerProtocol};
    let pki = make_pki(dir);
    let psk_file = dir.join("pskfile");
    std::fs::write(&psk_file, "btsiot1:0123456789abcdef0123\n").unwrap();
    let mut config =
        mqtt_lab_broker::Config { allow_anonymous: Some(true), psk_file: Some(psk_file), ..Default::default() };
    config.log.set_dest(mqtt_lab_broker::log::LogDest::None);
    let ws = ListenerConfig { protocol: ListenerProtocol::WebSockets, ..ListenerConfig::default() };
    let wss = ListenerConfig { certfile: Some(pki.cert.clone()), keyfile: Some(pki.key.clone()), ..ws.clone() };
    let client_cert = ListenerConfig { cafile: Some(pki.ca.clone()), require_certificate: true, ..wss.clone() };
    let psk = ListenerConfig { psk_hint: Some("btsiot".into()), ..ws.clone() };
    runtime.block_on(async {
        let broker = mqtt_lab_broker::Broker::start(config).unwrap();
        let mut ports = Vec::new();
        for settings in [&ws, &wss, &client_cert, &psk] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ports.push(listener.local_addr().unwrap().port());
            broker.listen(listener, settings).unwrap();
        }
        Ours { _broker: broker, ws: ports[0], wss: ports[1], wss_client_cert: ports[2], ws_psk: ports[3], pki }
    })
}

fn path_text(p: &Path) -> String {
    p.to_str().expect("a UTF-8 temporary path").to_owned()
}

/// The app connects with `url` and `tls`, says how it is secured, and a message goes round.
fn app_round_trip(runtime: &tokio::runtime::Runtime, dir: &ProfileDir, url: &str, tls: TlsMode, secured: &str) {
    let mut harness = harness_with(runtime, dir, None);
    new_profile_with_url(&mut harness, url);
    harness.state_mut().selected_profile_mut().tls = tls;
    settle(&mut harness);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, url, |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    harness.get_by_label_contains(secured);
    round_trip(&mut harness);
    let sent = harness.state().model().packets.packets.iter().find(|p| p.direction == Direction::Sent);
    assert_eq!(sent.and_then(|p| p.kind), Some(PacketType::Connect), "{url}: MQTT bytes in the tap");
}

#[test]
fn the_app_reaches_our_broker_over_ws_wss_and_websocket_over_tls_psk() {
    let runtime = runtime();
    let dir = ProfileDir::new("ws-ours");
    let ours = our_ws_broker(&runtime, &dir.0);
    app_round_trip(
        &runtime,
        &dir,
        &format!("ws://127.0.0.1:{}/mqtt", ours.ws),
        TlsMode::None,
        "WebSocket, not encrypted",
    );
    let ca = TlsMode::SelfSignedCa { ca_file: path_text(&ours.pki.ca) };
    app_round_trip(
        &runtime,
        &dir,
        &format!("wss://127.0.0.1:{}/mqtt", ours.wss),
        ca,
        "WebSocket over TLS TLSv1.3, TLS13_",
    );
    let client = TlsMode::ClientCertificate {
        ca_file: path_text(&ours.pki.ca),
        cert_file: path_text(&ours.pki.client_cert),
        key_file: path_text(&ours.pki.client_key),
    };
    let url = format!("wss://127.0.0.1:{}/mqtt", ours.wss_client_cert);
    app_round_trip(&runtime, &dir, &url, client, "WebSocket over TLS TLSv1.3, TLS13_");
    let psk = TlsMode::Psk { identity: "btsiot1".into(), key_hex: "0123456789abcdef0123".into() };
    app_round_trip(
        &runtime,
        &dir,
        &format!("wss://127.0.0.1:{}/mqtt", ours.ws_psk),
        psk,
        "WebSocket over TLS-PSK TLSv1.3, TLS_",
    );
}

/// A profile file for `mqtt-lab check` with the given security (the profile file's own form).
fn tls_profile(dir: &Path, name: &str, url: &str, tls: &serde_json::Value, skip_verify: bool) -> PathBuf {
    let profile = serde_json::json!({
        "name": name, "host": url, "client_id": name, "connect_timeout_secs": 3,
        "tls": tls, "tls_skip_verify": skip_verify,
    });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, profile.to_string()).unwrap();
    path
}

#[test]
fn check_passes_against_our_ws_and_wss_listeners_with_every_security_option() {
    let runtime = runtime();
    let dir = ProfileDir::new("ws-ours-check");
    let ours = our_ws_broker(&runtime, &dir.0);
    let ca = path_text(&ours.pki.ca);
    let cases = [
        ("ws", ours.ws, serde_json::json!({ "mode": "none" }), false, "none: plain MQTT"),
        ("wss-ca", ours.wss, serde_json::json!({ "mode": "self_signed_ca", "ca_file": ca }), false, "TLS TLSv1.3"),
        ("wss-unverified", ours.wss, serde_json::json!({ "mode": "ca_signed" }), true, "certificate NOT verified"),
        (
            "wss-client",
            ours.wss_client_cert,
            serde_json::json!({ "mode": "client_certificate", "ca_file": ca,
                "cert_file": path_text(&ours.pki.client_cert), "key_file": path_text(&ours.pki.client_key) }),
            false,
            "TLS TLSv1.3",
        ),
        (
            "ws-psk",
            ours.ws_psk,
            serde_json::json!({ "mode": "psk", "identity": "btsiot1", "key_hex": "0123456789abcdef0123" }),
            false,
            "TLS-PSK",
        ),
    ];
    for (name, port, tls, skip_verify, secured) in cases {
        let scheme = if name == "ws" { "ws" } else { "wss" };
        let url = format!("{scheme}://127.0.0.1:{port}/mqtt");
        let (code, report) = check(&tls_profile(&dir.0, name, &url, &tls, skip_verify));
        assert_eq!(code, 0, "{name}: {report}");
        assert!(report.contains(secured), "{name}: {report}");
        assert!(report.contains("WebSocket upgrade to /mqtt: 101, subprotocol mqtt"), "{name}: {report}");
        assert!(report.contains("All steps passed."), "{name}: {report}");
    }
    // wss:// to the plain ws listener: the TLS step names it, the upgrade is not reached.
    let url = format!("wss://127.0.0.1:{}/mqtt", ours.ws);
    let (code, report) =
        check(&tls_profile(&dir.0, "wss-plain", &url, &serde_json::json!({ "mode": "ca_signed" }), true));
    assert_eq!(code, 4, "{report}");
    assert!(report.contains("WebSocket upgrade") && report.contains("not reached"), "{report}");
}

/// The label of the bar's title: "<profile> (<address>):".
fn title(harness: &Harness<'_, App>, profile: &str) -> String {
    let start = format!("{profile} (");
    let node = harness.get_by_label_contains(&start);
    let n = node.accesskit_node();
    format!("{}{}", n.label().unwrap_or_default(), n.value().unwrap_or_default())
}

/// The title shown in the bar and the log names the broker without the URL's user info or the
/// query's values; the connection is WebSocket because its settings say so, not its name.
#[test]
fn the_title_hides_secrets_and_a_tcp_profile_named_like_a_url_is_tcp() {
    let runtime = runtime();
    let dir = ProfileDir::new("ws-title");
    let mut harness = harness_with(&runtime, &dir, Some(0));
    // Port 1 refuses at once: the title is set when connecting, whatever the outcome.
    new_profile_with_url(&mut harness, "ws://student:hun/ter2@127.0.0.1:1/mqtt?token=abc123");
    let _ = failure(&mut harness);
    let shown = title(&harness, "New profile");
    assert!(shown.contains("ws://127.0.0.1:1/mqtt?token=***"), "{shown}");
    let log = format!("{:?}", harness.state().model().log);
    for secret in ["hun", "ter2", "abc123"] {
        assert!(!shown.contains(secret) && !log.contains(secret), "{secret}: {shown} / {log}");
    }

    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    let port = harness.state().builtin_addr().unwrap().port();
    new_profile_with_url(&mut harness, "127.0.0.1");
    set_field(&mut harness, "Port", &port.to_string());
    let profile = harness.state_mut().selected_profile_mut();
    (profile.name, profile.transport) = ("ws://x".into(), Transport::Tcp);
    settle(&mut harness);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected over TCP", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    assert!(title(&harness, "ws://x").contains(&format!("127.0.0.1:{port}")));
    harness.get_by_label_contains("plain TCP, not encrypted");
    assert!(harness.query_by_label_contains("WebSocket, not encrypted").is_none());
}
