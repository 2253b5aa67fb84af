//! mqtt-lab-bench over WebSocket (`--ws`) against our broker's `protocol websockets` listener
//! (ws and WebSocket over TLS-PSK, in-process on port 0) and WebSocket brokers we did not
//! write: Debian's Mosquitto (ws and wss) and aedes behind the `ws` package (node, from
//! interop/node). Every delivery counted exactly; a server that refuses the upgrade named; a
//! server's pings answered at once by clients that never write.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use mqtt_lab_bench::transport::{Framing, Security, parse_hex_key};
use mqtt_lab_bench::{Options, Outcome, Scenario, scenario};
use mqtt_lab_broker::Broker;
use mqtt_lab_broker::config::{Config, ListenerConfig, ListenerProtocol};
use mqtt_lab_broker::log::LogDest;
use tokio::net::TcpListener;

/// Bounds the wait for Mosquitto, node and npm (used by the shared helpers too).
const PATIENCE: Duration = Duration::from_secs(20);

#[path = "../../tests/support/mosquitto.rs"]
mod mosquitto;
use mosquitto::{Mosquitto, free_port};

#[path = "../../tests/support/dir_lock.rs"]
mod dir_lock;
#[path = "../../tests/support/node.rs"]
mod node;

fn ws(scenario: Scenario, addr: SocketAddr, count: u64) -> Options {
    let mut o = Options::new(scenario, addr);
    o.count = count;
    o.duration = Duration::from_secs(30);
    o.label = "test".into();
    o.framing = Framing::WebSocket { path: "/mqtt".into() };
    o
}

fn assert_complete(o: &Outcome, expected: u64) {
    assert_eq!((o.expected, o.received, o.lost, o.duplicated), (expected, expected, 0, 0), "{o:?}");
    assert!(o.rate > 0.0 && o.seconds > 0.0, "{o:?}");
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mqtt-lab-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Mosquitto with one websockets listener on a free port of loopback; `extra`: more lines for
/// that listener (certificates). Mosquitto 2.0.11 with only websockets listeners exits ("Unable
/// to start any listening sockets"), so a TCP one comes first; and libwebsockets takes the
/// bind address as an interface name ("127.0.0.1" fails, "lo" binds 127.0.0.1).
fn mosquitto_ws(dir: &Path, extra: &str) -> (Mosquitto, SocketAddr) {
    let (tcp, port) = (free_port(), free_port());
    let conf = dir.join("mosquitto.conf");
    let text =
        format!("listener {tcp} 127.0.0.1\nlistener {port} lo\nprotocol websockets\n{extra}allow_anonymous true\n");
    std::fs::write(&conf, text).unwrap();
    (Mosquitto::start(&conf), SocketAddr::from(([127, 0, 0, 1], port)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_in_fan_out_retained_and_conn_over_ws_against_mosquitto() {
    let dir = scratch("ws-mosquitto");
    // No queue limit: Mosquitto's default of 1,000 queued messages drops QoS 1 ones when the
    // subscriber falls behind on a loaded machine (seen once on a 2-core machine under load).
    let (mosquitto, addr) = mosquitto_ws(&dir, "max_queued_messages 0\n");
    // QoS 1: Mosquitto 2.0.11 stalls at QoS 2 with many in flight (docs/PERFORMANCE.md).
    let mut o = ws(Scenario::FanIn, addr, 2000);
    o.qos = 1;
    let out = scenario::run(&o).await.unwrap();
    assert_eq!(out.transport, "ws");
    assert_complete(&out, 8000);
    let mut o = ws(Scenario::FanOut, addr, 200);
    o.subscribers = 10;
    assert_complete(&scenario::run(&o).await.unwrap(), 2000);
    let out = scenario::run(&ws(Scenario::Retained, addr, 300)).await.unwrap();
    assert_complete(&out, 300);
    assert_eq!(out.retained, Some(300));
    let mut o = ws(Scenario::Conn, addr, 100);
    o.pid = Some(mosquitto.pid());
    let out = scenario::run(&o).await.unwrap();
    assert_eq!((out.sent, out.transport.as_str()), (100, "ws"), "{out:?}");
    assert!(out.rss_after_kb.unwrap() >= out.rss_before_kb.unwrap(), "{out:?}");
    drop(mosquitto);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A CA and a certificate for localhost signed by it, as PEM files in `dir`: (ca, cert, key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "bench-ws-ca");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    let files = (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&files.0, ca.pem()).unwrap();
    std::fs::write(&files.1, cert.pem()).unwrap();
    std::fs::write(&files.2, key.serialize_pem()).unwrap();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_against_mosquitto_checks_the_certificate_and_loses_nothing() {
    let dir = scratch("wss-mosquitto");
    let (ca, cert, key) = certificates(&dir);
    // Mosquitto started as root reads the files as the user "mosquitto".
    for f in [&dir, &ca, &cert, &key] {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = if f.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    // Unbounded queues: over TLS the subscriber falls behind, and Mosquitto drops QoS 1
    // messages past its default 1000 queued (plain TLS without WebSocket loses them too).
    let extra = format!("certfile {}\nkeyfile {}\nmax_queued_messages 0\n", cert.display(), key.display());
    let (mosquitto, addr) = mosquitto_ws(&dir, &extra);
    let mut o = ws(Scenario::FanIn, addr, 500);
    o.qos = 1;
    o.host = "localhost".into();
    o.security = Security::Tls { cafile: Some(ca), insecure: false };
    let out = scenario::run(&o).await.unwrap();
    assert_eq!(out.transport, "wss");
    assert_complete(&out, 2000);
    // Plain ws to a wss listener: no 101 ever comes.
    let mut o = ws(Scenario::Pub, addr, 10);
    o.duration = Duration::from_secs(5);
    assert!(scenario::run(&o).await.is_err());
    drop(mosquitto);
    let _ = std::fs::remove_dir_all(&dir);
}

/// aedes behind `ws`, serving only `path`, until dropped (node exits when its stdin closes).
struct Aedes(Child);

impl Aedes {
    fn start(path: &str) -> (Self, SocketAddr) {
        let mut child = node::node()
            .args(["aedes-ws.js", path])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs (Debian: nodejs)");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            let port =
                lines.next().and_then(Result::ok).and_then(|l| l.strip_prefix("listening ")?.trim().parse().ok());
            let _ = tx.send(port);
            // Keep reading so that node never blocks on a full pipe.
            lines.for_each(drop);
        });
        let port: u16 = rx.recv_timeout(PATIENCE).ok().flatten().expect("aedes-ws.js prints \"listening PORT\"");
        (Self(child), SocketAddr::from(([127, 0, 0, 1], port)))
    }
}

impl Drop for Aedes {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_in_and_fan_out_over_ws_against_aedes_and_a_wrong_path_is_named() {
    let (aedes, addr) = Aedes::start("/mqtt");
    for qos in [0, 1] {
        let mut o = ws(Scenario::FanIn, addr, 500);
        o.qos = qos;
        let out = scenario::run(&o).await.unwrap();
        assert_eq!(out.transport, "ws");
        assert_complete(&out, 2000);
    }
    let mut o = ws(Scenario::FanOut, addr, 100);
    o.subscribers = 5;
    assert_complete(&scenario::run(&o).await.unwrap(), 500);
    let mut o = ws(Scenario::Latency, addr, 100);
    (o.qos, o.rate) = (1, 1000.0);
    assert_complete(&scenario::run(&o).await.unwrap(), 100);

    let mut o = ws(Scenario::Pub, addr, 10);
    o.framing = Framing::WebSocket { path: "/elsewhere".into() };
    let e = scenario::run(&o).await.unwrap_err().to_string();
    assert!(e.contains("upgrade of /elsewhere") && e.contains("400"), "{e}");
    drop(aedes);
}

/// Our broker with one WebSocket listener on 127.0.0.1:0 (`psk`: over TLS-PSK with this
/// psk_file).
async fn our_ws_broker(psk_file: Option<PathBuf>) -> (Broker, SocketAddr) {
    let mut config = Config { allow_anonymous: Some(true), psk_file: psk_file.clone(), ..Config::default() };
    config.log.set_dest(LogDest::None);
    let broker = Broker::start(config).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = ListenerConfig {
        protocol: ListenerProtocol::WebSockets,
        psk_hint: psk_file.map(|_| "btsiot".to_owned()),
        ..ListenerConfig::default()
    };
    broker.listen(listener, &settings).unwrap();
    (broker, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_qos_and_conn_over_ws_against_our_broker() {
    let (broker, addr) = our_ws_broker(None).await;
    for qos in [0, 1, 2] {
        let mut o = ws(Scenario::FanIn, addr, 2000);
        o.qos = qos;
        let out = scenario::run(&o).await.unwrap();
        assert_eq!(out.transport, "ws");
        assert_complete(&out, 8000);
    }
    let mut o = ws(Scenario::FanOut, addr, 200);
    o.subscribers = 10;
    assert_complete(&scenario::run(&o).await.unwrap(), 2000);
    // Our own process holds the broker: its memory grows with 200 connections.
    let mut o = ws(Scenario::Conn, addr, 200);
    o.pid = Some(std::process::id());
    let out = scenario::run(&o).await.unwrap();
    assert_eq!(out.sent, 200, "{out:?}");
    assert!(out.bytes_per_connection.is_some(), "{out:?}");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_over_tls_psk_against_our_broker_and_a_wrong_key_is_named() {
    let dir = scratch("ws-psk");
    let psk_file = dir.join("pskfile");
    std::fs::write(&psk_file, "btsiot1:0123456789abcdef0123\n").unwrap();
    let (broker, addr) = our_ws_broker(Some(psk_file)).await;
    let psk = |o: &mut Options, key: &str| {
        o.security = Security::Psk { identity: "btsiot1".into(), key: parse_hex_key(key).unwrap() };
    };
    let mut o = ws(Scenario::FanIn, addr, 500);
    o.qos = 2;
    psk(&mut o, "0123456789abcdef0123");
    let out = scenario::run(&o).await.unwrap();
    assert_eq!(out.transport, "ws-psk");
    assert_complete(&out, 2000);
    let mut o = ws(Scenario::Pub, addr, 10);
    psk(&mut o, "00112233");
    let e = scenario::run(&o).await.unwrap_err().to_string();
    assert!(e.contains("pre-shared key"), "{e}");
    broker.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server that answers every upgrade with a correct 101 that chooses no subprotocol (as a
/// WebSocket server that does not know MQTT would), on 127.0.0.1:0.
async fn server_without_subprotocol() -> SocketAddr {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = Vec::new();
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                if stream.read_buf(&mut request).await.unwrap_or(0) == 0 {
                    break;
                }
            }
            let text = String::from_utf8_lossy(&request).into_owned();
            let key = text.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).unwrap_or_default();
            let accept = mqtt_lab_bench::websocket::handshake::accept_for(key.trim());
            let answer = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_chooses_no_subprotocol_is_refused_before_the_connect() {
    let addr = server_without_subprotocol().await;
    let e = scenario::run(&ws(Scenario::Pub, addr, 10)).await.unwrap_err().to_string();
    assert!(e.contains("names no subprotocol") && e.contains("\"mqtt\""), "{e}");
}

/// Reads one whole frame from a client (masked, as RFC 6455 5.3 requires of it): (first byte,
/// unmasked payload); `None` when the client closed. `wire`: bytes read past the last frame.
async fn client_frame(stream: &mut tokio::net::TcpStream, wire: &mut Vec<u8>) -> Option<(u8, Vec<u8>)> {
    use tokio::io::AsyncReadExt as _;
    loop {
        if wire.len() >= 2 {
            assert!(wire[1] & 0x80 != 0, "an unmasked client frame: {wire:02x?}");
            let (len, at) = match wire[1] & 0x7f {
                126 if wire.len() >= 4 => (usize::from(u16::from_be_bytes([wire[2], wire[3]])), 4),
                127 if wire.len() >= 10 => {
                    (usize::try_from(u64::from_be_bytes(wire[2..10].try_into().unwrap())).unwrap(), 10)
                }
                126 | 127 => (usize::MAX - 14, 10),
                n => (usize::from(n), 2),
            };
            if wire.len() >= at + 4 + len {
                let key: [u8; 4] = wire[at..at + 4].try_into().unwrap();
                let mut payload = wire[at + 4..at + 4 + len].to_vec();
                mqtt_lab_bench::websocket::frame::mask(&mut payload, key);
                let first = wire[0];
                wire.drain(..at + 4 + len);
                return Some((first, payload));
            }
        }
        if stream.read_buf(wire).await.ok()? == 0 {
            return None;
        }
    }
}

/// How long a pong may take: it is owed at once, this only bounds a failing test.
const PONG_WAIT: Duration = Duration::from_secs(5);

/// A WebSocket "broker" on 127.0.0.1:0 for one client: accepts the upgrade (subprotocol mqtt),
/// answers CONNECT with CONNACK and SUBSCRIBE with SUBACK, and after answering a packet of type
/// `ping_after` sends two pings (the second once the first is answered). Resolves to the pongs'
/// payloads, or to what went wrong.
async fn pinging_server(ping_after: u8) -> (SocketAddr, tokio::task::JoinHandle<Result<Vec<Vec<u8>>, String>>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut wire = Vec::new();
        let end = loop {
            if let Some(end) = wire.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            if stream.read_buf(&mut wire).await.map_err(|e| e.to_string())? == 0 {
                return Err("the client closed during the upgrade".into());
            }
        };
        let request = String::from_utf8_lossy(&wire[..end]).into_owned();
        wire.drain(..end + 4);
        let key = request.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).unwrap_or_default();
        let accept = mqtt_lab_bench::websocket::handshake::accept_for(key.trim());
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
        );
        stream.write_all(answer.as_bytes()).await.map_err(|e| e.to_string())?;
        // Binary frames: one MQTT packet each (the client writes CONNECT and SUBSCRIBE alone).
        loop {
            let (first, payload) =
                client_frame(&mut stream, &mut wire).await.ok_or("the client closed before the pings")?;
            let kind = payload.first().map_or(0, |b| b >> 4);
            let reply: &[u8] = match (first, kind) {
                (0x82, 1) => &[0x82, 4, 0x20, 2, 0, 0],
                (0x82, 8) => &[0x82, 5, 0x90, 3, payload[2], payload[3], 0],
                _ => return Err(format!("unexpected frame {first:#04x} with MQTT packet type {kind}")),
            };
            stream.write_all(reply).await.map_err(|e| e.to_string())?;
            if kind == ping_after {
                break;
            }
        }
        let mut pongs = Vec::new();
        for ping in [&b"still there?"[..], b"and now?"] {
            let frame = [&[0x89, u8::try_from(ping.len()).unwrap()][..], ping].concat();
            stream.write_all(&frame).await.map_err(|e| e.to_string())?;
            let pong = tokio::time::timeout(PONG_WAIT, client_frame(&mut stream, &mut wire))
                .await
                .map_err(|_| format!("no pong within {PONG_WAIT:?} (pongs before: {pongs:?})"))?
                .ok_or("the client closed instead of answering the ping")?;
            if pong.0 != 0x8A {
                return Err(format!("frame {:#04x} where a pong was due", pong.0));
            }
            pongs.push(pong.1);
        }
        Ok(pongs)
    });
    (addr, task)
}

fn ws_target(addr: SocketAddr) -> mqtt_lab_bench::client::Target {
    mqtt_lab_bench::client::Target {
        addr,
        username: None,
        password: None,
        client_prefix: String::new(),
        connector: mqtt_lab_bench::transport::Connector::plain().framed(Framing::WebSocket { path: "/mqtt".into() }),
        protocol: mqtt_lab_broker::codec::Protocol::V311,
    }
}

fn assert_answered(pongs: Result<Vec<Vec<u8>>, String>) {
    assert_eq!(pongs.unwrap(), [b"still there?".to_vec(), b"and now?".to_vec()]);
}

/// A QoS 0 subscriber never writes: the split halves' reader answers the pings itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_writes_answers_pings_at_once() {
    use mqtt_lab_bench::client::Client;
    use mqtt_lab_bench::subscriber::{Until, listen};
    let (addr, server) = pinging_server(8).await;
    let mut client = Client::connect(&ws_target(addr), "sub", 60).await.unwrap();
    client.subscribe("bench/#", mqtt_lab_broker::codec::QoS::AtMostOnce).await.unwrap();
    let (_done, publishers_done) = tokio::sync::watch::channel(false);
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    let until = Until { publishers_done, quiet: Duration::from_mins(1), deadline };
    let listening = tokio::spawn(async move {
        let tracker = mqtt_lab_bench::payload::Tracker::new(1, 1);
        listen(&mut client, tracker, false, until).await.map(|_| ()).map_err(|e| e.to_string())
    });
    let pongs = server.await.unwrap();
    listening.abort();
    assert_answered(pongs);
}

/// Soak's clients read the whole stream between their PINGREQs: that reader answers too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reading_the_whole_stream_answers_pings_at_once() {
    use tokio::io::AsyncReadExt as _;
    let (addr, server) = pinging_server(1).await;
    let mut client = mqtt_lab_bench::client::Client::connect(&ws_target(addr), "idle", 60).await.unwrap();
    let reading =
        tokio::spawn(async move { while matches!(client.stream.read_buf(&mut client.rbuf).await, Ok(n) if n > 0) {} });
    let pongs = server.await.unwrap();
    reading.abort();
    assert_answered(pongs);
}
