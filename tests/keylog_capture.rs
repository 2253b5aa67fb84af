//! Issue 25, "Decrypt a real capture": Debian's `tshark` captures the loopback traffic of the
//! app's connection code (`transport::connect`, what the relay and `mqtt-lab check` use) talking
//! certificate TLS and TLS-PSK to our broker with a key log file, then decodes the capture with
//! `-o tls.keylog_file:` and must find each MQTT PUBLISH with its payload; without the key log,
//! the same capture shows no MQTT at all: it was encrypted.
//!
//! tshark needs the right to capture on `lo` (root, or `dumpcap` with `cap_net_raw`); without
//! it, or without tshark, the test says so and fails.

mod support;

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mqtt_lab::connection::transport::{self, Target};
use mqtt_lab::connection::{Security, Tls, TlsVersion};
use support::pki::make_pki;
use support::{PATIENCE, ProfileDir, runtime};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const TOPIC: &str = "lab/keylog";

/// A running `tshark -i lo`, stopped (SIGINT, by its id) when dropped, even by a failing test.
struct Capture(Option<Child>);

impl Capture {
    fn stop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `tshark -i lo` on `ports`, writing `file`; returned once packets reach the file. tshark says
/// "Capturing on" a little before dumpcap sees packets, so a probe port is captured too and
/// connected to until its connections show in the file.
fn start_capture(ports: &[u16], file: &Path) -> Capture {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a probe port on loopback");
    let probe_port = probe.local_addr().expect("the probe's address").port();
    let filter = ports.iter().chain([&probe_port]).map(|p| format!("tcp port {p}")).collect::<Vec<_>>().join(" or ");
    let mut child = Command::new("tshark")
        .args(["-i", "lo", "-f", &filter, "-w"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tshark runs (apt-get install tshark)");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut said = String::new();
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).expect("tshark's stderr");
        said.push_str(&line);
        assert!(n > 0, "tshark stopped before capturing (no right to capture on lo?): {said}");
        if line.contains("Capturing on") {
            break;
        }
    }
    // Keep draining stderr so tshark never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let capture = Capture(Some(child));
    let seen = format!("tcp.port == {probe_port}");
    let start = Instant::now();
    while read_capture(file, &["-Y", &seen]).is_empty() {
        assert!(start.elapsed() < PATIENCE, "tshark never captured the probe's connections on lo");
        drop(std::net::TcpStream::connect(("127.0.0.1", probe_port)));
        std::thread::sleep(Duration::from_millis(50));
    }
    capture
}

/// Runs `tshark -r file` with `args`; its standard output.
fn read_capture(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark").arg("-r").arg(file).args(args).output().expect("tshark runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until the file holds the broker's end (FIN or RST) of `connections` connections, then
/// stops tshark with SIGINT, which writes the file out whole.
fn stop_capture(mut capture: Capture, file: &Path, ports: &[u16], connections: usize) {
    let from_broker = ports.iter().map(|p| format!("tcp.srcport == {p}")).collect::<Vec<_>>().join(" || ");
    let ends = format!("(tcp.flags.fin == 1 || tcp.flags.reset == 1) && ({from_broker})");
    let start = Instant::now();
    while read_capture(file, &["-Y", &ends]).lines().count() < connections {
        assert!(
            start.elapsed() < PATIENCE,
            "the capture never held the ends of {connections} connections:\n{}",
            Command::new("tshark").arg("-r").arg(file).output().map(|o| format!("{o:?}")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    capture.stop();
}

/// An MQTT 3.1.1 string or binary field: its length, then its bytes.
fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u16::try_from(bytes.len()).unwrap().to_be_bytes());
    out.extend_from_slice(bytes);
}

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128, "one-byte remaining length");
    let mut out = vec![first, u8::try_from(body.len()).unwrap()];
    out.extend_from_slice(body);
    out
}

/// Connects with the app's transport, sends CONNECT, waits for CONNACK, publishes `payload`
/// at QoS 0, disconnects and waits for the broker to close. Returns the session's description.
async fn publish_once(target: &Target, client_id: &str, payload: &str) -> String {
    let (mut stream, session) = transport::connect(target).await.expect("the handshake completes");
    let session = session.expect("a secured session");
    let mut connect = Vec::new();
    field(&mut connect, b"MQTT");
    connect.extend_from_slice(&[4, 0x02, 0, 30]);
    field(&mut connect, client_id.as_bytes());
    stream.write_all(&packet(0x10, &connect)).await.unwrap();
    let mut connack = [0u8; 4];
    stream.read_exact(&mut connack).await.expect("a CONNACK");
    assert_eq!(connack, [0x20, 2, 0, 0], "the broker accepted the CONNECT");
    let mut publish = Vec::new();
    field(&mut publish, TOPIC.as_bytes());
    publish.extend_from_slice(payload.as_bytes());
    stream.write_all(&packet(0x30, &publish)).await.unwrap();
    stream.write_all(&[0xe0, 0]).await.unwrap();
    stream.flush().await.unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    session.to_string()
}

/// One connection of the test: how it is secured and the payload it publishes.
struct Case {
    name: &'static str,
    port: u16,
    security: Security,
    version: TlsVersion,
    payload: String,
}

fn target(case: &Case, key_log: Option<PathBuf>) -> Target {
    Target {
        host: "127.0.0.1".into(),
        port: case.port,
        connect_timeout: Duration::from_secs(10),
        security: case.security.clone(),
        tls_version: case.version,
        websocket: None,
        key_log,
    }
}

#[test]
fn a_loopback_capture_decrypts_with_the_key_log_and_not_without() {
    let runtime = runtime();
    let dir = ProfileDir::new("keylog-capture");
    let pki = make_pki(&dir.0.join("pki"));
    let psk_file = dir.0.join("pskfile");
    std::fs::write(&psk_file, "btsiot1:0123456789abcdef0123\n").unwrap();
    let key_log = dir.0.join("keys.log");
    let _ = std::fs::remove_file(&key_log);
    let mut config =
        mqtt_lab_broker::Config { allow_anonymous: Some(true), psk_file: Some(psk_file), ..Default::default() };
    config.log.set_dest(mqtt_lab_broker::log::LogDest::None);
    let (broker, tls_port, psk_port) = runtime.block_on(async {
        let broker = mqtt_lab_broker::Broker::start(config).unwrap();
        let tls = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let psk = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ports = (tls.local_addr().unwrap().port(), psk.local_addr().unwrap().port());
        let certificate = mqtt_lab_broker::config::ListenerConfig {
            certfile: Some(pki.cert.clone()),
            keyfile: Some(pki.key.clone()),
            ..Default::default()
        };
        broker.listen(tls, &certificate).unwrap();
        let pre_shared =
            mqtt_lab_broker::config::ListenerConfig { psk_hint: Some("btsiot".into()), ..Default::default() };
        broker.listen(psk, &pre_shared).unwrap();
        (broker, ports.0, ports.1)
    });
    let nonce = std::process::id();
    let tls = Security::Tls(Tls { ca_file: Some(pki.ca.display().to_string()), ..Tls::default() });
    let psk = Security::Psk { identity: "btsiot1".into(), key: hex_key("0123456789abcdef0123") };
    let case = |name, port, security: &Security, version| Case {
        name,
        port,
        security: security.clone(),
        version,
        payload: format!("{name}-secret-{nonce}"),
    };
    let cases = [
        case("tls13", tls_port, &tls, TlsVersion::V1_3),
        case("tls12", tls_port, &tls, TlsVersion::V1_2),
        case("psk13", psk_port, &psk, TlsVersion::V1_3),
        case("psk12", psk_port, &psk, TlsVersion::V1_2),
    ];

    let capture = dir.0.join("lo.pcapng");
    let tshark = start_capture(&[tls_port, psk_port], &capture);
    for case in &cases {
        let described = runtime.block_on(publish_once(&target(case, Some(key_log.clone())), case.name, &case.payload));
        assert!(
            described.ends_with(&format!("; TLS keys logged to {} (SSLKEYLOGFILE)", key_log.display())),
            "{}: the session says where its keys go: {described}",
            case.name
        );
    }
    // A connection without a key log adds no line to the file.
    let lines = std::fs::read_to_string(&key_log).unwrap().lines().count();
    let plain = target(&cases[0], None);
    let described = runtime.block_on(publish_once(&plain, "unlogged", "unlogged-payload"));
    assert!(!described.contains("SSLKEYLOGFILE"), "{described}");
    assert_eq!(std::fs::read_to_string(&key_log).unwrap().lines().count(), lines, "nothing logged without a key log");
    stop_capture(tshark, &capture, &[tls_port, psk_port], cases.len() + 1);
    drop(broker);

    let decode_as = [format!("tls.port=={tls_port},mqtt"), format!("tls.port=={psk_port},mqtt")];
    let fields = ["-T", "fields", "-e", "mqtt.msgtype", "-e", "mqtt.topic", "-e", "mqtt.msg"];
    let keylog_option = format!("tls.keylog_file:{}", key_log.display());
    let mut with_keys: Vec<&str> = vec!["-o", &keylog_option];
    for d in &decode_as {
        with_keys.extend(["-d", d.as_str()]);
    }
    let without_keys = with_keys[2..].to_vec();
    with_keys.extend(["-Y", "mqtt"]);
    with_keys.extend(fields);
    let decrypted = read_capture(&capture, &with_keys);
    eprintln!("tshark with the key log:\n{decrypted}");
    for case in &cases {
        let hex = case.payload.bytes().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
        let line = format!("3\t{TOPIC}\t{hex}");
        assert!(decrypted.lines().any(|l| l == line), "{}: no PUBLISH {line:?} in:\n{decrypted}", case.name);
    }
    assert!(!decrypted.contains("unlogged"), "the unlogged connection stays encrypted:\n{decrypted}");

    let mut clear = without_keys;
    clear.extend(["-Y", "mqtt"]);
    clear.extend(fields);
    let encrypted = read_capture(&capture, &clear);
    assert_eq!(encrypted, "", "without the key log no MQTT can be read");
    let tls_records = read_capture(&capture, &["-Y", "tls.record.content_type == 23"]).lines().count();
    assert!(tls_records >= 2 * cases.len(), "the capture holds the encrypted records ({tls_records})");
}

fn hex_key(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}
