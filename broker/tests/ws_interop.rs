//! MQTT over WebSocket with clients no one here wrote: MQTT.js (run by node,
//! interop/node/ws-client.js) and Python's paho-mqtt with `transport="websockets"`
//! (support/paho_ws.py), against our broker's `protocol websockets` listener over ws:// and
//! wss:// (and MQTT.js over WebSocket over TLS-PSK), MQTT 3.1, 3.1.1 and 5; the same scenario
//! against aedes (a WebSocket broker we did not write) is the control. Each client runs one
//! scenario and prints what it received; the test judges the broker by those lines: QoS 0/1/2
//! round trips at the granted QoS, a 70000-byte payload (the client sends it in a frame with a
//! 64-bit length), a retained message delivered with the retain flag to a later subscriber, and
//! a will published when its client is killed (SIGKILL: its socket dropped, no DISCONNECT).

mod support;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use mqtt_lab_broker::config::{Config, ListenerConfig};
use support::{TempDir, TestBroker, node::node, python::python};

/// A `protocol websockets` listener as mosquitto.conf says it, with `extra` lines (TLS files):
/// parsed, so the test uses the broker's own reading of the options students copy.
fn ws_listener(extra: &str) -> ListenerConfig {
    let text = format!("listener 9001\nprotocol websockets\n{extra}");
    let config = Config::parse(&text, Path::new("ws.conf")).unwrap_or_else(|e| panic!("{text}: {e}"));
    config.listeners.into_iter().next().expect("the config has its listener")
}

async fn ws_broker(extra: &str) -> TestBroker {
    let listener = ws_listener(extra);
    TestBroker::with(move |c| c.listeners.push(listener)).await
}

/// A CA and a server certificate for 127.0.0.1 signed by it, made by rcgen for this test.
struct Pki {
    ca: PathBuf,
    conf: String,
}

fn make_pki(dir: &TempDir) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "MQTT Lab WebSocket test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let cert = dir.file("server.pem", &server.pem());
    let key = dir.file("server.key", &key.serialize_pem());
    let conf = format!("certfile {}\nkeyfile {}\n", cert.display(), key.display());
    Pki { ca: dir.file("ca.pem", &ca.pem()), conf }
}

/// Which client library runs the scenario.
#[derive(Debug, Clone, Copy)]
enum Client {
    MqttJs,
    Paho,
}

/// Runs the scenario: `version` 3, 4 or 5 (MQTT 3.1, 3.1.1, 5); `tls` the CA file of wss://
/// (or, for MQTT.js, `psk:IDENTITY:HEXKEY`). The scripts bound every wait (20 s) and exit, so
/// the blocking call ends.
async fn run(client: Client, url: String, version: u8, tls: Option<&Path>) -> Vec<String> {
    let mut cmd = match client {
        Client::MqttJs => {
            let mut cmd = node();
            cmd.arg("ws-client.js");
            cmd
        }
        Client::Paho => {
            let mut cmd = Command::new(python());
            cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/paho_ws.py"));
            cmd
        }
    };
    cmd.arg(&url).arg(version.to_string());
    if let Some(tls) = tls {
        cmd.arg(tls);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap();
    let out = out.unwrap_or_else(|e| panic!("{client:?} does not start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{client:?} v{version} on {url} failed ({}):\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

fn msg(client: &str, topic: &str, payload: &str, len: usize, qos: u8, retain: bool) -> String {
    format!(
        r#"{{"event":"msg","client":"{client}","topic":"{topic}","payload":"{payload}","len":{len},"qos":{qos},"retain":{retain}}}"#
    )
}

fn received<'a>(lines: &'a [String], client: &str) -> Vec<&'a str> {
    let mut got: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with(r#"{"event":"msg""#) && l.contains(&format!(r#""client":"{client}""#)))
        .collect();
    got.sort_unstable();
    got
}

/// What every client must have seen, whatever the library and protocol version.
fn judge(lines: &[String], broker_logs: &dyn Fn() -> String) {
    let context = || format!("client said:\n{}\nbroker logged:\n{}", lines.join("\n"), broker_logs());
    let mut want = vec![
        msg("sub", "lab/q0", "zero", 4, 0, false),
        msg("sub", "lab/q1", "one", 3, 1, false),
        msg("sub", "lab/q2", "two", 3, 2, false),
        msg("sub", "lab/big", "bbbbbbbbbbbbbbbb...", 70000, 1, false),
        // Forwarded live to an existing subscription: the retain flag is cleared.
        msg("sub", "lab/retained", "kept", 4, 1, false),
        // The killed client's will, at its QoS.
        msg("sub", "lab/will", "gone", 4, 1, false),
    ];
    want.sort_unstable();
    assert_eq!(received(lines, "sub"), want, "{}", context());
    // Sent from the store to a new subscription: the retain flag is set.
    assert_eq!(received(lines, "late"), [msg("late", "lab/retained", "kept", 4, 1, true)], "{}", context());
    for (client, granted) in [("sub", 2), ("late", 1)] {
        let suback = format!(r#"{{"event":"suback","client":"{client}","granted":[{granted}]}}"#);
        assert!(lines.contains(&suback), "{suback} missing: {}", context());
    }
    assert_eq!(lines.last().map(String::as_str), Some(r#"{"event":"done"}"#), "{}", context());
}

async fn over_ws(client: Client, version: u8) {
    let broker = ws_broker("").await;
    let lines = run(client, format!("ws://127.0.0.1:{}/mqtt", broker.port()), version, None).await;
    judge(&lines, &|| broker.logs());
    broker.stop().await;
}

async fn over_wss(client: Client, version: u8) {
    let dir = TempDir::new("ws-interop-tls");
    let pki = make_pki(&dir);
    let broker = ws_broker(&pki.conf).await;
    let lines = run(client, format!("wss://127.0.0.1:{}/mqtt", broker.port()), version, Some(&pki.ca)).await;
    judge(&lines, &|| broker.logs());
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_js_over_ws_mqtt_3_1_1() {
    over_ws(Client::MqttJs, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_js_over_ws_mqtt_5() {
    over_ws(Client::MqttJs, 5).await;
}

/// MQTT.js asks for the `mqttv3.1` subprotocol for MQTT 3.1 (protocol name MQIsdp).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_js_over_ws_mqtt_3_1_with_the_mqttv3_1_subprotocol() {
    over_ws(Client::MqttJs, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_js_over_wss_mqtt_3_1_1() {
    over_wss(Client::MqttJs, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_js_over_wss_mqtt_5() {
    over_wss(Client::MqttJs, 5).await;
}

/// paho spells the header `Sec-Websocket-Protocol`: header names are case-insensitive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paho_over_ws_mqtt_3_1_1() {
    over_ws(Client::Paho, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paho_over_ws_mqtt_5() {
    over_ws(Client::Paho, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paho_over_ws_mqtt_3_1() {
    over_ws(Client::Paho, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paho_over_wss_mqtt_3_1_1() {
    over_wss(Client::Paho, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paho_over_wss_mqtt_5() {
    over_wss(Client::Paho, 5).await;
}

/// aedes over ws (interop/node/aedes-ws.js): a WebSocket broker we did not write, stopped when
/// dropped (its stdin closes and it is killed).
struct Aedes {
    child: Child,
    port: u16,
}

impl Aedes {
    fn start() -> Self {
        let mut child = node()
            .arg("aedes-ws.js")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs aedes-ws.js");
        let stdout = child.stdout.take().expect("piped");
        // The first line, "listening PORT", comes once it accepts; EOF if it fails to start.
        let line = std::io::BufReader::new(stdout).lines().next().and_then(Result::ok).unwrap_or_default();
        let port = line.strip_prefix("listening ").and_then(|p| p.trim().parse().ok());
        let port = port.unwrap_or_else(|| panic!("aedes-ws.js did not start: {line:?}"));
        Self { child, port }
    }
}

impl Drop for Aedes {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The control experiment: the scenario and its judge pass against aedes (MQTT 3.1.1 only), so
/// what they assert is MQTT over WebSocket, not a habit of our broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_passes_against_aedes_a_broker_we_did_not_write() {
    for client in [Client::MqttJs, Client::Paho] {
        // A fresh one each: a run leaves lab/retained stored.
        let aedes = Aedes::start();
        let lines = run(client, format!("ws://127.0.0.1:{}/mqtt", aedes.port), 4, None).await;
        judge(&lines, &|| "(aedes)".to_owned());
    }
}

/// The PSK file's key for `btsiot1`.
const PSK_KEY: &str = "0123456789abcdef0123";

/// A `protocol websockets` listener over TLS-PSK, the key from `psk_file`.
async fn psk_broker(dir: &TempDir) -> TestBroker {
    let psk_file = dir.file("pskfile", &format!("btsiot1:{PSK_KEY}\n"));
    let listener = ws_listener("psk_hint btsiot\n");
    TestBroker::with(move |c| {
        c.psk_file = Some(psk_file);
        c.listeners.push(listener);
    })
    .await
}

/// WebSocket over TLS-PSK (which Mosquitto cannot serve): MQTT.js with node's PSK support
/// (TLS 1.2). paho is left out: Python's ssl module has PSK only from 3.13.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_js_over_websocket_over_tls_psk() {
    for version in [4, 5] {
        let dir = TempDir::new("ws-interop-psk");
        let broker = psk_broker(&dir).await;
        let url = format!("wss://127.0.0.1:{}/mqtt", broker.port());
        let psk = format!("psk:btsiot1:{PSK_KEY}");
        let lines = run(Client::MqttJs, url, version, Some(Path::new(&psk))).await;
        judge(&lines, &|| broker.logs());
        broker.stop().await;
    }
}

/// A wrong key gets no MQTT session: the TLS handshake fails, and the broker says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_js_with_a_wrong_psk_is_refused() {
    let dir = TempDir::new("ws-interop-psk-wrong");
    let broker = psk_broker(&dir).await;
    let mut cmd = node();
    cmd.args(["ws-client.js", &format!("wss://127.0.0.1:{}/mqtt", broker.port()), "4"]);
    cmd.arg(format!("psk:btsiot1:{}", "f".repeat(PSK_KEY.len())));
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success() && !stdout.contains("connack"), "a wrong key connected:\n{stdout}");
    broker.wait_for_log("handshake").await;
    broker.stop().await;
}
