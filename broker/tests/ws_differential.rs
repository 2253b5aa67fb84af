//! MQTT over WebSocket, differential: Debian's Mosquitto 2.0.11 (libwebsockets 4.1) and our
//! broker binary start from the same mosquitto.conf text and get the same handshake and frame
//! bytes. Where they agree (the 101 answer, CONNACK's frame, ping/pong, the close handshake,
//! fragments) the test asserts both answers are equal. Where we differ on purpose (text frames,
//! unmasked frames, a missing or unknown subprotocol, oversized headers: Mosquitto lets them
//! through or drops the connection without a word, we refuse with the status or close code the
//! RFCs name), the test asserts each broker's own answer, so a change on either side shows.
//!
//! Mosquitto 2.0.11 will not start with a websockets listener alone ("Unable to start any
//! listening sockets"), so the config also has a plain listener; and it binds a websockets
//! listener on every interface whatever the address says. The tests connect on 127.0.0.1.

mod support;
#[path = "support/ws_wire.rs"]
mod ws_wire;

use mqtt_lab_broker::codec::Packet;
use support::brokers::{BrokerProcess, Kind, free_port};
use support::{TempDir, connect_packet};
use ws_wire::{ACCEPT, BINARY, CLOSE, CONTINUATION, PING, PONG, Response, TEXT, WsClient, frame, mqtt, raw_frame};

/// Both brokers, each on the same text with `globals` and a plain listener of its own.
fn both(dir: &TempDir, globals: &str) -> [BrokerProcess; 2] {
    both_with(dir, globals, "")
}

/// Both brokers, with `listener_lines` for the websockets listener.
fn both_with(dir: &TempDir, globals: &str, listener_lines: &str) -> [BrokerProcess; 2] {
    [Kind::Mosquitto, Kind::Ours].map(|kind| {
        let plain = free_port();
        let conf = format!(
            "allow_anonymous true\n{globals}listener {plain} 127.0.0.1\nlistener PORT 127.0.0.1\nprotocol websockets\n{listener_lines}"
        );
        BrokerProcess::start(kind, dir, &conf)
    })
}

fn request(protocols: Option<&str>) -> String {
    ws_wire::upgrade_request("/mqtt", protocols, "")
}

fn connect_bytes(id: &str) -> Vec<u8> {
    mqtt(&Packet::Connect(Box::new(connect_packet(id, true, 60))))
}

/// Upgrades with `protocols` and returns the client with the answer (`None`: the broker closed
/// the connection without one).
async fn upgrade(broker: &BrokerProcess, protocols: Option<&str>) -> (WsClient, Option<Response>) {
    let mut c = WsClient::connect(broker.addr()).await;
    let response = c.try_upgrade(request(protocols).as_bytes()).await;
    (c, response)
}

/// What a broker did with `bytes` sent after a good upgrade: the first frame it sent back, as
/// its raw bytes.
async fn first_frame_after(broker: &BrokerProcess, bytes: &[u8]) -> Vec<u8> {
    let (mut c, response) = upgrade(broker, Some("mqtt")).await;
    assert_eq!(response.map(|r| r.status), Some(101), "{:?}:\n{}", broker.kind, broker.logs());
    c.send(bytes).await;
    let frame = c.recv_frame().await.unwrap_or_else(|| panic!("{:?} sent no frame:\n{}", broker.kind, broker.logs()));
    let mut raw = vec![(u8::from(frame.fin) << 7) | frame.opcode];
    raw.push(u8::try_from(frame.payload.len()).expect("a short frame"));
    raw.extend(frame.payload);
    raw
}

/// CONNACK 0 in one unmasked binary frame.
const CONNACK_FRAME: [u8; 6] = [0x82, 0x04, 0x20, 0x02, 0x00, 0x00];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_101_answer_and_the_connack_frame_are_mosquittos() {
    let dir = TempDir::new("ws-diff-101");
    let mut answers = Vec::new();
    for broker in both(&dir, "") {
        for (offered, connect) in [("mqtt", connect_bytes("diff")), ("mqttv3.1", connect31())] {
            let (mut c, response) = upgrade(&broker, Some(offered)).await;
            let r = response.unwrap_or_else(|| panic!("{:?} closed:\n{}", broker.kind, broker.logs()));
            let upgrade = r.header("upgrade").map(str::to_ascii_lowercase);
            answers.push((r.status, upgrade, r.header("sec-websocket-accept").map(str::to_owned)));
            answers.push((0, r.header("sec-websocket-protocol").map(str::to_owned), None));
            c.send(&frame(true, BINARY, &connect)).await;
            let f = c.recv_frame().await.expect("CONNACK");
            assert_eq!((f.opcode, f.fin, f.masked), (BINARY, true, false), "{:?}: {f:?}", broker.kind);
            assert_eq!(f.payload, CONNACK_FRAME[2..], "{:?}", broker.kind);
        }
    }
    let (mosquitto, ours) = answers.split_at(answers.len() / 2);
    let want = |p: &str| [(101, Some("websocket".to_owned()), Some(ACCEPT.to_owned())), (0, Some(p.to_owned()), None)];
    assert_eq!(mosquitto, [want("mqtt"), want("mqttv3.1")].concat(), "Mosquitto");
    assert_eq!(ours, mosquitto, "ours, as Mosquitto");
}

/// An MQTT 3.1 CONNECT (protocol name MQIsdp, level 3), as sent with the mqttv3.1 subprotocol.
fn connect31() -> Vec<u8> {
    let mut c = connect_packet("diff31", true, 60);
    c.protocol = mqtt_lab_broker::codec::Protocol::V31;
    mqtt(&Packet::Connect(Box::new(c)))
}

/// A ping is answered with a pong carrying its payload; a close frame with a close frame
/// echoing the code, then the connection ends; a CONNECT split over a binary frame and
/// continuation frames, with a ping between them, is one CONNECT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_close_and_fragments_are_answered_as_mosquitto_does() {
    let dir = TempDir::new("ws-diff-control");
    let connect = connect_bytes("frag");
    let mut fragmented = frame(false, BINARY, &connect[..2]);
    fragmented.extend(frame(true, PING, b"between"));
    fragmented.extend(frame(false, CONTINUATION, &connect[2..9]));
    fragmented.extend(frame(true, CONTINUATION, &connect[9..]));
    let mut answers = Vec::new();
    for broker in both(&dir, "") {
        answers.push(first_frame_after(&broker, &frame(true, PING, b"hey")).await);
        let (mut c, _) = upgrade(&broker, Some("mqtt")).await;
        c.send(&fragmented).await;
        let pong = c.recv_frame().await.expect("a pong");
        assert_eq!((pong.opcode, &pong.payload[..]), (PONG, &b"between"[..]), "{:?}", broker.kind);
        assert!(matches!(c.recv().await, Packet::ConnAck(_)), "{:?}:\n{}", broker.kind, broker.logs());
        c.send(&frame(true, CLOSE, &1000u16.to_be_bytes())).await;
        answers.push(c.expect_close().await.to_be_bytes().to_vec());
    }
    assert_eq!(answers[0], [0x8A, 3, b'h', b'e', b'y'], "Mosquitto's pong");
    assert_eq!(answers[1], [0x03, 0xE8], "Mosquitto echoes close code 1000");
    assert_eq!(answers[2..], answers[..2], "ours, as Mosquitto");
}

/// Reserved bits set with no extension negotiated: both close with 1002.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_bits_are_closed_with_1002_by_both() {
    let dir = TempDir::new("ws-diff-rsv");
    let bytes = raw_frame(0xC0 | BINARY, &connect_bytes("rsv"), Some(ws_wire::MASK));
    for broker in both(&dir, "") {
        let (mut c, _) = upgrade(&broker, Some("mqtt")).await;
        c.send(&bytes).await;
        assert_eq!(c.expect_close().await, 1002, "{:?}", broker.kind);
    }
}

/// MQTT-6.0.0-1 says a text frame must close the connection. Mosquitto 2.0.11 reads a text
/// frame's payload as MQTT and answers CONNACK; we close with 1003 (differs on purpose).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_frame_mosquitto_accepts_we_close_with_1003() {
    let dir = TempDir::new("ws-diff-text");
    let [mosquitto, ours] = both(&dir, "");
    let bytes = frame(true, TEXT, &connect_bytes("text"));
    assert_eq!(first_frame_after(&mosquitto, &bytes).await, CONNACK_FRAME, "Mosquitto");
    assert_eq!(first_frame_after(&ours, &bytes).await, [0x88, 2, 0x03, 0xEB], "ours: close 1003");
}

/// RFC 6455 5.1: a server must close on an unmasked client frame. Mosquitto 2.0.11 accepts it
/// and answers CONNACK; we close with 1002 (differs on purpose).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmasked_frame_mosquitto_accepts_we_close_with_1002() {
    let dir = TempDir::new("ws-diff-unmasked");
    let [mosquitto, ours] = both(&dir, "");
    let bytes = raw_frame(0x80 | BINARY, &connect_bytes("unmasked"), None);
    assert_eq!(first_frame_after(&mosquitto, &bytes).await, CONNACK_FRAME, "Mosquitto");
    assert_eq!(first_frame_after(&ours, &bytes).await, [0x88, 2, 0x03, 0xEA], "ours: close 1002");
}

/// Without Sec-WebSocket-Protocol, Mosquitto answers 101 with none (and then serves the
/// connection with its HTTP protocol, which drops MQTT bytes: not asserted here, as only a
/// timeout could show it); we answer 400 [MQTT-6.0.0-3]. An unknown subprotocol, or `MQTT` in
/// capitals: Mosquitto closes the connection without an answer; we answer 400 to the unknown
/// one, and accept the capitals as mqtt (header tokens in any case), answering with the
/// client's own spelling: RFC 6455 4.2.2 has the server select one of the client's values, and
/// a strict client (node's `ws`) refuses any other ("Server sent an invalid subprotocol").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_unknown_subprotocol_mosquitto_ignores_or_drops_we_answer_400() {
    let dir = TempDir::new("ws-diff-proto");
    let [mosquitto, ours] = both(&dir, "");
    let answer = async |broker: &BrokerProcess, offered: Option<&str>| {
        let (_, r) = upgrade(broker, offered).await;
        r.map(|r| (r.status, r.header("sec-websocket-protocol").map(str::to_owned)))
    };
    assert_eq!(answer(&mosquitto, None).await, Some((101, None)), "Mosquitto, none offered");
    assert_eq!(answer(&ours, None).await, Some((400, None)), "ours, none offered");
    assert_eq!(answer(&mosquitto, Some("chat")).await, None, "Mosquitto, chat");
    assert_eq!(answer(&ours, Some("chat")).await, Some((400, None)), "ours, chat");
    assert_eq!(answer(&mosquitto, Some("MQTT")).await, None, "Mosquitto, MQTT");
    assert_eq!(
        answer(&ours, Some("MQTT")).await,
        Some((101, Some("MQTT".into()))),
        "ours, MQTT: as the client spelled it"
    );
    // Both offered: Mosquitto takes the client's first, we prefer mqtt (RFC 6455 4.2.2 lets
    // the server choose).
    assert_eq!(answer(&mosquitto, Some("mqttv3.1, mqtt")).await, Some((101, Some("mqttv3.1".into()))));
    assert_eq!(answer(&ours, Some("mqttv3.1, mqtt")).await, Some((101, Some("mqtt".into()))));
}

/// A plain GET with no `http_dir`, and headers over `websockets_headers_size`: Mosquitto
/// closes the connection without an answer; we answer 400 and 431. Within the size, both 101.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_and_oversized_headers_mosquitto_drops_we_answer_400_and_431() {
    let dir = TempDir::new("ws-diff-http");
    let [mosquitto, ours] = both(&dir, "websockets_headers_size 1024\n");
    let big = ws_wire::upgrade_request("/mqtt", Some("mqtt"), &format!("X-Filler: {}\r\n", "a".repeat(1500)));
    let small = ws_wire::upgrade_request("/mqtt", Some("mqtt"), &format!("X-Filler: {}\r\n", "a".repeat(600)));
    let plain = "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_owned();
    let mut answers = Vec::new();
    for broker in [&mosquitto, &ours] {
        for text in [&plain, &big, &small] {
            let mut c = WsClient::connect(broker.addr()).await;
            answers.push(c.try_upgrade(text.as_bytes()).await.map(|r| r.status));
        }
    }
    assert_eq!(answers[..3], [None, None, Some(101)], "Mosquitto");
    assert_eq!(answers[3..], [Some(400), Some(431), Some(101)], "ours");
}

/// A plain GET on the listener, its status and body (`None`: closed without an answer).
async fn http_get(broker: &BrokerProcess, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(broker.addr()).await.expect("the listener accepts");
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(support::PATIENCE, stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "{:?} kept the connection open after answering GET {path}", broker.kind);
    let text = String::from_utf8_lossy(&answer);
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

/// `http_dir` (a dashboard served next to the broker): both serve `/` and `/index.html` with
/// the file's bytes. Neither serves a file outside the directory, by `..`, by `%2e%2e` or by
/// a symbolic link; Mosquitto answers 404 to the first two and 403 to the link, we answer 403
/// to all three (a path outside http_dir), and both 404 to a missing file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_dir_serves_the_same_files_and_nothing_outside() {
    let dir = TempDir::new("ws-diff-http-dir");
    let www = dir.0.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<h1>dashboard</h1>\n").unwrap();
    let secret = dir.file("secret.txt", "the broker's secret\n");
    std::os::unix::fs::symlink(&secret, www.join("link.txt")).unwrap();
    let [mosquitto, ours] = both_with(&dir, "", &format!("http_dir {}\n", www.display()));
    let paths = ["/", "/index.html", "/../secret.txt", "/%2e%2e/secret.txt", "/link.txt", "/missing.html"];
    let mut statuses = Vec::new();
    for broker in [&mosquitto, &ours] {
        for path in paths {
            let (status, body) = http_get(broker, path).await.unwrap_or_else(|| panic!("{:?}: no answer", broker.kind));
            if status == 200 {
                assert_eq!(body, "<h1>dashboard</h1>\n", "{:?} GET {path}", broker.kind);
            }
            assert!(
                !body.contains("the broker's secret"),
                "{:?} GET {path} served a file outside http_dir",
                broker.kind
            );
            statuses.push(status);
        }
    }
    assert_eq!(statuses[..6], [200, 200, 404, 404, 403, 404], "Mosquitto");
    assert_eq!(statuses[6..], [200, 200, 403, 403, 403, 404], "ours");
}
