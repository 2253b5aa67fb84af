//! The broker's `protocol websockets` listeners with exact bytes: the upgrade, MQTT packets
//! split across frames and joined in one, ping/pong and close, ws over TLS (rcgen certificate)
//! and over TLS-PSK, `http_dir`, and each refusal with its HTTP status or close code and its
//! log line.

mod support;

use std::sync::Arc;

use bytes::BytesMut;
use mqtt_lab_broker::codec::v5::{Properties, ReasonCode};
use mqtt_lab_broker::codec::{Decoded, Packet, Protocol, QoS, QosPid, SubAckCode, Subscribe, TopicFilter, decode};
use mqtt_lab_broker::config::{ListenerConfig, ListenerProtocol};
use support::{PATIENCE, TempDir, TestBroker, connect_packet, publish, topic};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const MASK: [u8; 4] = [0xA1, 0x05, 0x7F, 0x33];

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

fn ws_listener() -> ListenerConfig {
    ListenerConfig { protocol: ListenerProtocol::WebSockets, ..ListenerConfig::on_port(0, None) }
}

async fn ws_broker(edit: impl FnOnce(&mut mqtt_lab_broker::Config, &mut ListenerConfig)) -> TestBroker {
    TestBroker::with(|c| {
        let mut l = ws_listener();
        edit(c, &mut l);
        c.listeners.push(l);
    })
    .await
}

fn request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// A client frame: masked unless told otherwise.
fn frame(b0: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let bit = if masked { 0x80 } else { 0 };
    let mut f = vec![b0];
    match payload.len() {
        n if n < 126 => f.push(bit | n as u8),
        n if n <= 0xFFFF => {
            f.push(bit | 0x7E);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(bit | 0x7F);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        f.extend_from_slice(&MASK);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

fn binary(payload: &[u8]) -> Vec<u8> {
    frame(0x82, payload, true)
}

fn bytes(p: &Packet) -> Vec<u8> {
    p.to_bytes(Protocol::V311).unwrap().to_vec()
}

fn subscribe(filter: &str, qos: QoS) -> Vec<u8> {
    let filters = vec![(TopicFilter::new(filter).unwrap(), qos.into())];
    bytes(&Packet::Subscribe(Subscribe { pid: support::pid(1), properties: Properties::default(), filters }))
}

/// A WebSocket client that scripts its frames byte by byte.
struct Ws {
    stream: Box<dyn Io>,
    buf: BytesMut,
    /// MQTT bytes from the server's binary frames.
    mqtt: BytesMut,
    /// Payloads of the pongs received.
    pongs: Vec<Vec<u8>>,
}

impl Ws {
    fn over(stream: impl Io + 'static) -> Self {
        Self { stream: Box::new(stream), buf: BytesMut::new(), mqtt: BytesMut::new(), pongs: Vec::new() }
    }

    async fn more(&mut self) -> bool {
        let read = tokio::time::timeout(PATIENCE, self.stream.read_buf(&mut self.buf)).await.expect("nothing in time");
        matches!(read, Ok(n) if n > 0)
    }

    /// Sends `request`; returns the server's HTTP answer head and body as text.
    async fn http(&mut self, request: &str) -> String {
        self.stream.write_all(request.as_bytes()).await.unwrap();
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end + 4]).into_owned();
                if head.starts_with("HTTP/1.1 101") {
                    let _ = self.buf.split_to(end + 4);
                    return head;
                }
            }
            if !self.more().await {
                return String::from_utf8_lossy(&self.buf).into_owned();
            }
        }
    }

    /// Upgrades, offering `protocols`; checks the accept key and returns the answer.
    async fn upgrade(&mut self, protocols: &str) -> String {
        let head = self.http(&request("/mqtt", &format!("Sec-WebSocket-Protocol: {protocols}\r\n"))).await;
        assert!(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{head}");
        assert!(head.contains(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n")), "{head}");
        head
    }

    async fn send(&mut self, wire: &[u8]) {
        self.stream.write_all(wire).await.unwrap();
    }

    /// The next server frame: its first byte and payload; `None` at EOF.
    async fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if self.buf.len() >= 2 {
                assert_eq!(self.buf[1] & 0x80, 0, "server frames are not masked");
                let (len, at) = match self.buf[1] {
                    126 if self.buf.len() >= 4 => (usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])), 4),
                    127 if self.buf.len() >= 10 => {
                        (u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize, 10)
                    }
                    n if n < 126 => (usize::from(n), 2),
                    _ => (usize::MAX, 0),
                };
                if len != usize::MAX && self.buf.len() >= at + len {
                    let f = self.buf.split_to(at + len);
                    return Some((f[0], f[at..].to_vec()));
                }
            }
            if !self.more().await {
                return None;
            }
        }
    }

    async fn packet(&mut self) -> Packet {
        loop {
            if let Decoded::Packet(p, n) = decode(&self.mqtt, usize::MAX, Protocol::V311).unwrap() {
                let _ = self.mqtt.split_to(n);
                return p;
            }
            match self.frame().await.expect("a frame before the end") {
                (0x82, payload) => self.mqtt.extend_from_slice(&payload),
                (0x8A, payload) => self.pongs.push(payload),
                other => panic!("expected a final binary frame or a pong, got {other:?}"),
            }
        }
    }

    async fn connect(&mut self, id: &str) {
        self.send(&binary(&bytes(&Packet::Connect(Box::new(connect_packet(id, true, 60)))))).await;
        assert!(matches!(self.packet().await, Packet::ConnAck(c) if c.reason == ReasonCode::Success));
    }
}

async fn upgraded(broker: &TestBroker) -> Ws {
    let mut ws = Ws::over(TcpStream::connect(broker.addr).await.unwrap());
    ws.upgrade("mqtt").await;
    ws
}

#[tokio::test]
async fn mqtt_packets_split_across_frames_and_joined_in_one_round_trip() {
    let broker = ws_broker(|_, _| {}).await;
    let mut ws = Ws::over(TcpStream::connect(broker.addr).await.unwrap());
    let head = ws.upgrade("mqttv3.1, mqtt").await;
    assert!(head.contains("Sec-WebSocket-Protocol: mqtt\r\n"), "mqtt preferred: {head}");
    // CONNECT in three pieces: a fragmented message (binary + continuation) and a frame of its own.
    let connect = bytes(&Packet::Connect(Box::new(connect_packet("ws-1", true, 60))));
    let mut wire = frame(0x02, &connect[..1], true);
    wire.extend(frame(0x80, &connect[1..5], true));
    wire.extend(binary(&connect[5..]));
    ws.send(&wire).await;
    assert!(matches!(ws.packet().await, Packet::ConnAck(c) if c.reason == ReasonCode::Success));
    // SUBSCRIBE and PUBLISH joined in one frame, with a ping between frames.
    let mut joined = subscribe("ws/#", QoS::AtLeastOnce);
    joined.extend(bytes(&publish("ws/t", b"over websocket", QosPid::AtMostOnce, false)));
    let mut wire = binary(&joined);
    wire.extend(frame(0x89, b"hello?", true));
    ws.send(&wire).await;
    assert!(matches!(ws.packet().await, Packet::SubAck(s) if s.codes == vec![SubAckCode::Granted(QoS::AtLeastOnce)]));
    let Packet::Publish(p) = ws.packet().await else { panic!("expected PUBLISH") };
    assert_eq!((p.topic, &p.payload[..]), (topic("ws/t"), &b"over websocket"[..]));
    assert_eq!(ws.pongs, vec![b"hello?".to_vec()], "the pong carries the ping's payload");
    // A close frame is answered with the same code, and the connection ends.
    ws.send(&frame(0x88, &1000u16.to_be_bytes(), true)).await;
    assert_eq!(ws.frame().await, Some((0x88, vec![0x03, 0xE8])));
    assert_eq!(ws.frame().await, None);
    broker.wait_for_log("Client ws-1 closed its connection.").await;
}

#[tokio::test]
async fn mqtt_5_connects_on_the_same_listener_and_options_apply() {
    let broker = ws_broker(|c, _| c.clientid_prefixes = Some("lab-".into())).await;
    let mut ws = upgraded(&broker).await;
    // CONNECT, MQTT 5.0, client id "lab-5", no properties.
    let v5 = [0x10, 18, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x02, 0, 60, 0, 0, 5, b'l', b'a', b'b', b'-', b'5'];
    ws.send(&binary(&v5)).await;
    let (b0, connack) = ws.frame().await.unwrap();
    assert_eq!((b0, connack[0], connack[3]), (0x82, 0x20, 0x00), "MQTT 5 CONNACK, success: {connack:?}");
    // clientid_prefixes holds on the WebSocket listener too.
    let mut other = upgraded(&broker).await;
    other.send(&binary(&bytes(&Packet::Connect(Box::new(connect_packet("intruder", true, 60)))))).await;
    let Packet::ConnAck(refusal) = other.packet().await else { panic!("expected CONNACK") };
    assert!(refusal.reason != ReasonCode::Success);
    // The startup line in Mosquitto's words ("Opening websockets listen socket on port 9001.").
    broker.wait_for_log(&format!("Opening websockets listen socket on port {}.", broker.addr.port())).await;
}

#[tokio::test]
async fn a_large_publish_crosses_in_a_frame_with_a_64_bit_length() {
    let broker = ws_broker(|_, _| {}).await;
    let mut sub = upgraded(&broker).await;
    sub.connect("sub").await;
    sub.send(&binary(&subscribe("big", QoS::AtMostOnce))).await;
    assert!(matches!(sub.packet().await, Packet::SubAck(_)));
    let mut publisher = upgraded(&broker).await;
    publisher.connect("pub").await;
    let payload: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    publisher.send(&binary(&bytes(&publish("big", &payload, QosPid::AtMostOnce, false)))).await;
    let Packet::Publish(p) = sub.packet().await else { panic!("expected PUBLISH") };
    assert_eq!(&p.payload[..], &payload[..]);
}

/// A request the broker refuses: the status line it answers and the log line it writes.
async fn refused_request(broker: &TestBroker, request: &str, status: &str, log: &str) {
    let mut ws = Ws::over(TcpStream::connect(broker.addr).await.unwrap());
    let answer = ws.http(request).await;
    assert!(answer.starts_with(status), "expected {status}, got {answer}");
    broker.wait_for_log(&format!("failed: WebSocket: {log}")).await;
}

#[tokio::test]
async fn upgrade_requests_without_what_mqtt_needs_are_refused_with_their_status() {
    let broker = ws_broker(|c, _| c.websockets_headers_size = 300).await;
    let plain = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    refused_request(&broker, plain, "HTTP/1.1 400", "not a WebSocket upgrade (GET /index.html without Upgrade").await;
    let none = request("/mqtt", "");
    refused_request(&broker, &none, "HTTP/1.1 400", "no MQTT subprotocol").await;
    let wamp = request("/mqtt", "Sec-WebSocket-Protocol: wamp, graphql-ws\r\n");
    refused_request(&broker, &wamp, "HTTP/1.1 400", "no MQTT subprotocol (offered: \"wamp, graphql-ws\"").await;
    let big = request("/mqtt", &format!("Sec-WebSocket-Protocol: mqtt\r\nCookie: {}\r\n", "c".repeat(300)));
    refused_request(&broker, &big, "HTTP/1.1 431", "request headers over websockets_headers_size (300 bytes)").await;
    let old = request("/mqtt", "Sec-WebSocket-Protocol: mqtt\r\n").replace("Version: 13", "Version: 8");
    refused_request(&broker, &old, "HTTP/1.1 426", "unsupported Sec-WebSocket-Version").await;
    // Each refusal is one line.
    let lines = broker.logs();
    assert_eq!(lines.matches("no MQTT subprotocol").count(), 2, "{lines}");
}

/// Upgrades, sends `wire`, and expects a close frame with `code` and the log line `log`.
async fn refused_frame(broker: &TestBroker, wire: &[u8], code: u16, log: &str) {
    let mut ws = upgraded(broker).await;
    ws.send(wire).await;
    let (b0, payload) = ws.frame().await.expect("a close frame");
    assert_eq!((b0, payload), (0x88, code.to_be_bytes().to_vec()), "{log}");
    assert_eq!(ws.frame().await, None, "the connection ends after the close frame");
    broker.wait_for_log(&format!("failed: WebSocket: {log}")).await;
}

#[tokio::test]
async fn frames_that_break_the_rules_are_refused_with_their_close_code() {
    let broker = ws_broker(|c, _| c.max_packet_size = 100).await;
    refused_frame(&broker, &frame(0x81, b"{\"json\":1}", true), 1003, "text frame (MQTT-6.0.0-1)").await;
    refused_frame(&broker, &frame(0x82, b"\x10", false), 1002, "unmasked client frame (RFC 6455 5.1)").await;
    // Refused from the header alone, no payload sent: more than any MQTT packet can be.
    let mut claim = vec![0x82, 0x80 | 127];
    claim.extend_from_slice(&(1u64 << 32).to_be_bytes());
    claim.extend_from_slice(&[1, 2, 3, 4]);
    refused_frame(
        &broker,
        &claim,
        1009,
        "frame over the largest MQTT packet (4294967296 bytes declared, 268435460 allowed)",
    )
    .await;
    refused_frame(&broker, &frame(0xC2, b"x", true), 1002, "bad frame: reserved bits set").await;
    refused_frame(&broker, &frame(0x83, b"x", true), 1002, "bad frame: reserved opcode").await;
    refused_frame(&broker, &frame(0x09, b"x", true), 1002, "bad frame: fragmented control frame").await;
    refused_frame(&broker, &frame(0x89, &[0; 126], true), 1002, "bad frame: control frame over 125 bytes").await;
    refused_frame(&broker, &frame(0x80, b"x", true), 1002, "bad frame: continuation frame with no message").await;
    assert!(!broker.logs().contains("panicked"));
}

#[tokio::test]
async fn http_dir_serves_files_and_refuses_paths_outside_it() {
    let dir = TempDir::new("ws-http-dir");
    dir.file("secret.txt", "outside http_dir");
    let root = dir.0.join("www");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), "<h1>dashboard</h1>").unwrap();
    std::fs::write(root.join("app.js"), "console.log(1)").unwrap();
    // Larger than any one buffer on the way: streamed whole.
    let big: String = (0..40_000u32).flat_map(|i| [i.to_string(), "\n".to_owned()]).collect();
    std::fs::write(root.join("data.txt"), &big).unwrap();
    let broker = ws_broker(|_, l| l.http_dir = Some(root.clone())).await;
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut ws = Ws::over(TcpStream::connect(broker.addr).await.unwrap());
    let answer = ws.http(&get("/")).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("Content-Type: text/html") && answer.ends_with("<h1>dashboard</h1>"), "{answer}");
    let mut ws = Ws::over(TcpStream::connect(broker.addr).await.unwrap());
    let answer = ws.http(&get("/app.js?v=2")).await;
    assert!(answer.contains("Content-Type: text/javascript") && answer.ends_with("console.log(1)"), "{answer}");
    let mut ws = Ws::over(TcpStream::connect(broker.addr).await.unwrap());
    let answer = ws.http(&get("/data.txt")).await;
    assert!(answer.contains(&format!("Content-Length: {}\r\n", big.len())), "{}", &answer[..200]);
    assert!(answer.ends_with(&big), "all {} bytes, in order", big.len());
    refused_request(&broker, &get("/../secret.txt"), "HTTP/1.1 403", "http_dir: GET /../secret.txt: 403").await;
    refused_request(&broker, &get("/%2e%2e/secret.txt"), "HTTP/1.1 403", "http_dir: GET /%2e%2e/secret.txt: 403").await;
    refused_request(&broker, &get("/missing.css"), "HTTP/1.1 404", "http_dir: GET /missing.css: 404").await;
    // An upgrade that lost its Connection header (a proxy without `proxy_set_header Connection`)
    // is told what is missing, not sent to the files.
    let no_connection =
        request("/mqtt", "Sec-WebSocket-Protocol: mqtt\r\n").replace("Connection: keep-alive, Upgrade\r\n", "");
    assert!(!no_connection.contains("Connection:"), "{no_connection}");
    refused_request(&broker, &no_connection, "HTTP/1.1 400", "not a WebSocket upgrade").await;
    // The same listener still upgrades.
    upgraded(&broker).await.connect("after-files").await;
}

fn rustls_connector(ca_pem: &str) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn wss_with_a_certificate_carries_mqtt() {
    use rcgen::{CertificateParams, KeyPair};
    let dir = TempDir::new("ws-tls");
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().self_signed(&key).unwrap();
    let (certfile, keyfile) = (dir.file("s.pem", &cert.pem()), dir.file("s.key", &key.serialize_pem()));
    let broker = ws_broker(|_, l| {
        l.certfile = Some(certfile);
        l.keyfile = Some(keyfile);
    })
    .await;
    let tcp = TcpStream::connect(broker.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = rustls_connector(&cert.pem()).connect(name, tcp).await.unwrap();
    let mut ws = Ws::over(tls);
    ws.upgrade("mqtt").await;
    ws.connect("wss-client").await;
    ws.send(&binary(&bytes(&Packet::PingReq))).await;
    assert_eq!(ws.packet().await, Packet::PingResp);
}

#[tokio::test]
async fn websocket_over_tls_psk_carries_mqtt() {
    use mqtt_lab_psk_hint::{PskClient, PskVersions};
    let dir = TempDir::new("ws-psk");
    let psk_file = dir.file("psk", "btsiot1:0123456789abcdef0123\n");
    let broker = ws_broker(|c, l| {
        c.psk_file = Some(psk_file);
        l.psk_hint = Some("btsiot".into());
        l.use_identity_as_username = true;
    })
    .await;
    let key = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23];
    let client = PskClient::new("btsiot1", &key, PskVersions::Any).unwrap();
    let tcp = TcpStream::connect(broker.addr).await.unwrap();
    let tls = client.connect(tcp, "127.0.0.1").await.unwrap();
    let mut ws = Ws::over(tls);
    ws.upgrade("mqtt").await;
    ws.connect("psk-ws").await;
    ws.send(&frame(0x88, &[], true)).await;
    assert_eq!(ws.frame().await, Some((0x88, Vec::new())), "an empty close is answered empty");
    broker.wait_for_log("Client psk-ws closed its connection.").await;
}

async fn listen(broker: &mqtt_lab_broker::Broker, l: &ListenerConfig) -> Result<(), String> {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    broker.listen(socket, l).map_err(|e| e.to_string())
}

#[tokio::test]
async fn http_dir_is_a_startup_error_off_a_websocket_listener_or_when_missing() {
    let broker = mqtt_lab_broker::Broker::start(mqtt_lab_broker::Config::default()).unwrap();
    let dir = TempDir::new("ws-http-dir-errors");
    let plain = ListenerConfig { http_dir: Some(dir.0.clone()), ..ListenerConfig::on_port(0, None) };
    let e = listen(&broker, &plain).await.unwrap_err();
    assert!(e.contains("http_dir is served on a \"protocol websockets\" listener only"), "{e}");
    let missing = ListenerConfig { http_dir: Some(dir.0.join("nowhere")), ..ws_listener() };
    let e = listen(&broker, &missing).await.unwrap_err();
    assert!(e.contains("http_dir") && e.contains("nowhere"), "{e}");
    let good = ListenerConfig { http_dir: Some(dir.0.clone()), ..ws_listener() };
    listen(&broker, &good).await.unwrap();
}
