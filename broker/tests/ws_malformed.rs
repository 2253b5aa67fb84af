//! The malformed-input suite for MQTT over WebSocket: raw TCP bytes against our `protocol
//! websockets` listener. Each refusal gets its HTTP status or close code and a log line naming
//! it, the broker keeps serving the next client, and nothing is buffered without bound (a 2 GB
//! frame header is refused before any payload, an endless header section is cut at
//! `websockets_headers_size`). Then the shapes RFC 6455 and MQTT-6.0.0-2 allow: packets split
//! byte by byte across frames, many packets in one frame, continuation frames, a ping between
//! fragments, a close handshake.

mod support;
#[path = "support/ws_wire.rs"]
mod ws_wire;

use std::path::Path;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid};
use mqtt_lab_broker::config::Config;
use support::{TestBroker, connect_packet, publish};
use ws_wire::{BINARY, CLOSE, CONTINUATION, MASK, PING, PONG, TEXT, WsClient, frame, mqtt, raw_frame, upgrade_request};

/// Our broker with a `protocol websockets` listener, after the global lines `globals`.
async fn ws_broker(globals: &str) -> TestBroker {
    let text = format!("{globals}listener 9001\nprotocol websockets\n");
    let mut parsed = Config::parse(&text, Path::new("ws.conf")).unwrap_or_else(|e| panic!("{text}: {e}"));
    TestBroker::with(move |c| {
        // Keep the test's log sink; take everything else from the file.
        std::mem::swap(&mut parsed.log, &mut c.log);
        parsed.allow_anonymous = Some(true);
        *c = parsed;
    })
    .await
}

fn connect(id: &str) -> Packet {
    Packet::Connect(Box::new(connect_packet(id, true, 60)))
}

/// A new client can still upgrade, connect and get CONNACK 0.
async fn still_serves(broker: &TestBroker) {
    let mut c = WsClient::upgraded(broker.addr).await;
    c.send_packet(&connect("next")).await;
    match c.recv().await {
        Packet::ConnAck(ack) => assert_eq!(ack.code() as u8, 0, "{ack:?}"),
        other => panic!("expected CONNACK, got {other:?}\n{}", broker.logs()),
    }
}

/// The log line for a refused client, naming it by its address.
async fn refusal_logged(broker: &TestBroker, client: &WsClient, reason: &str) {
    let peer = client.stream.local_addr().expect("a local address");
    broker.wait_for_log(&format!("Client connection from {peer} failed: WebSocket: {reason}")).await;
}

/// An upgrade request refused with `status`, the log naming `reason`; then the next client is
/// served.
async fn upgrade_refused(request: &[u8], status: u16, reason: &str) {
    let broker = ws_broker("").await;
    let mut c = WsClient::connect(broker.addr).await;
    let response = c.try_upgrade(request).await;
    assert_eq!(response.map(|r| r.status), Some(status), "{}\n{}", String::from_utf8_lossy(request), broker.logs());
    c.expect_end().await;
    refusal_logged(&broker, &c, reason).await;
    still_serves(&broker).await;
    broker.stop().await;
}

/// After a good upgrade (and CONNECT when `connected`), `bytes` get a close frame with `code`,
/// the log naming `reason`; then the next client is served.
async fn frame_refused(globals: &str, connected: bool, bytes: &[u8], code: u16, reason: &str) {
    let broker = ws_broker(globals).await;
    let mut c = WsClient::upgraded(broker.addr).await;
    if connected {
        c.send_packet(&connect("victim")).await;
        assert!(matches!(c.recv().await, Packet::ConnAck(_)));
    }
    c.send(bytes).await;
    assert_eq!(c.expect_close().await, code, "for {bytes:02x?}\n{}", broker.logs());
    refusal_logged(&broker, &c, reason).await;
    still_serves(&broker).await;
    broker.stop().await;
}

#[tokio::test]
async fn a_plain_http_request_is_400_not_a_websocket_upgrade() {
    upgrade_refused(b"GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "not a WebSocket upgrade").await;
}

/// RFC 6455 4.4: 426 with the version the server speaks.
#[tokio::test]
async fn an_upgrade_with_another_websocket_version_is_426() {
    let request = upgrade_request("/mqtt", Some("mqtt"), "").replace("Version: 13", "Version: 8");
    upgrade_refused(request.as_bytes(), 426, "unsupported Sec-WebSocket-Version").await;
}

#[tokio::test]
async fn an_upgrade_without_a_subprotocol_is_400_no_mqtt_subprotocol() {
    upgrade_refused(upgrade_request("/mqtt", None, "").as_bytes(), 400, "no MQTT subprotocol").await;
}

#[tokio::test]
async fn an_upgrade_asking_only_for_another_subprotocol_is_400_no_mqtt_subprotocol() {
    upgrade_refused(upgrade_request("/", Some("chat, superchat"), "").as_bytes(), 400, "no MQTT subprotocol").await;
}

/// The answer names one of the offered subprotocols, the first MQTT one in the client's order,
/// and the accept key is RFC 6455's for the sample key. Any path is served.
#[tokio::test]
async fn the_upgrade_answers_101_with_the_accept_key_and_the_mqtt_subprotocol() {
    let broker = ws_broker("").await;
    for (path, offered, chosen) in
        [("/mqtt", "mqtt", "mqtt"), ("/", "chat, mqttv3.1", "mqttv3.1"), ("/any/path?x=1", "mqtt, mqttv3.1", "mqtt")]
    {
        let mut c = WsClient::connect(broker.addr).await;
        let response = c.upgrade(&upgrade_request(path, Some(offered), "")).await;
        assert_eq!(response.status, 101, "{path} {offered}: {response:?}");
        assert_eq!(response.header("sec-websocket-accept"), Some(ws_wire::ACCEPT), "{response:?}");
        assert_eq!(response.header("sec-websocket-protocol"), Some(chosen), "{offered}: {response:?}");
        assert!(response.header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")), "{response:?}");
    }
    broker.stop().await;
}

/// Headers that never end are cut once they pass `websockets_headers_size`: the 431 arrives
/// while the request is still unfinished, so the broker did not wait for (or buffer) the rest.
#[tokio::test]
async fn an_endless_header_section_is_cut_at_websockets_headers_size_with_431() {
    let broker = ws_broker("websockets_headers_size 1024\n").await;
    let mut c = WsClient::connect(broker.addr).await;
    let mut request = upgrade_request("/mqtt", Some("mqtt"), "X-Filler: ").into_bytes();
    request.truncate(request.len() - 4); // no blank line: the header section goes on
    request.extend(std::iter::repeat_n(b'a', 4 * 1024));
    // The broker may close while we write: what matters is the answer it gave.
    let _ = c.try_send(&request).await;
    let response = c.response().await;
    assert_eq!(response.map(|r| r.status), Some(431), "{}", broker.logs());
    c.expect_end().await;
    refusal_logged(&broker, &c, "request headers over websockets_headers_size").await;
    still_serves(&broker).await;
    broker.stop().await;
}

/// A request just under the limit is served: the limit is the one configured, not a smaller one.
#[tokio::test]
async fn headers_within_websockets_headers_size_are_served() {
    let broker = ws_broker("websockets_headers_size 4096\n").await;
    let mut c = WsClient::connect(broker.addr).await;
    let filler = format!("X-Filler: {}\r\n", "a".repeat(2048));
    assert_eq!(c.upgrade(&upgrade_request("/mqtt", Some("mqtt"), &filler)).await.status, 101);
    c.send_packet(&connect("big-headers")).await;
    assert!(matches!(c.recv().await, Packet::ConnAck(_)));
    broker.stop().await;
}

#[tokio::test]
async fn a_text_frame_is_closed_with_1003() {
    frame_refused("", false, &frame(true, TEXT, &mqtt(&connect("t"))), 1003, "text frame (MQTT-6.0.0-1)").await;
}

#[tokio::test]
async fn a_text_frame_after_connect_is_closed_with_1003() {
    frame_refused("", true, &frame(true, TEXT, b"hello"), 1003, "text frame (MQTT-6.0.0-1)").await;
}

#[tokio::test]
async fn an_unmasked_client_frame_is_closed_with_1002() {
    let bytes = raw_frame(0x80 | BINARY, &mqtt(&connect("u")), None);
    frame_refused("", false, &bytes, 1002, "unmasked client frame (RFC 6455 5.1)").await;
}

/// A header announcing 2 GB, with none of its payload sent: refused from the header at once
/// (the test would time out waiting if the broker waited for, or buffered, the payload).
#[tokio::test]
async fn a_frame_header_announcing_2_gb_is_closed_with_1009_at_once() {
    let mut header = vec![0x80 | BINARY, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 31).to_be_bytes());
    header.extend_from_slice(&MASK);
    frame_refused("", true, &header, 1009, "frame over the largest MQTT packet").await;
}

/// A packet over max_packet_size, whole in one frame: the MQTT decoder refuses it by its own
/// rule [MQTT-2.2.3], as on TCP (the frame's size alone is not the limit: MQTT-6.0.0-2).
#[tokio::test]
async fn a_packet_over_max_packet_size_in_a_frame_ends_the_connection() {
    let broker = ws_broker("max_packet_size 100\n").await;
    let mut c = WsClient::upgraded(broker.addr).await;
    c.send_packet(&connect("too-big")).await;
    assert!(matches!(c.recv().await, Packet::ConnAck(_)));
    let big = mqtt(&publish("lab/x", &[b'p'; 100], QosPid::AtMostOnce, false));
    assert!(big.len() > 100);
    c.send(&frame(true, BINARY, &big)).await;
    c.expect_end().await;
    broker.wait_for_log("exceeds the limit of 100 bytes").await;
    still_serves(&broker).await;
    broker.stop().await;
}

#[tokio::test]
async fn reserved_bits_are_a_bad_frame_1002() {
    let bytes = raw_frame(0x80 | 0x40 | BINARY, &mqtt(&connect("r")), Some(MASK));
    frame_refused("", false, &bytes, 1002, "bad frame").await;
}

#[tokio::test]
async fn a_reserved_opcode_is_a_bad_frame_1002() {
    frame_refused("", true, &frame(true, 0x3, b"x"), 1002, "bad frame").await;
    frame_refused("", true, &frame(true, 0xB, b"x"), 1002, "bad frame").await;
}

#[tokio::test]
async fn a_control_frame_over_125_bytes_is_a_bad_frame_1002() {
    frame_refused("", true, &frame(true, PING, &[7; 126]), 1002, "bad frame").await;
}

#[tokio::test]
async fn a_fragmented_control_frame_is_a_bad_frame_1002() {
    frame_refused("", true, &frame(false, PING, b"hi"), 1002, "bad frame").await;
}

#[tokio::test]
async fn a_continuation_of_nothing_is_a_bad_frame_1002() {
    frame_refused("", true, &frame(true, CONTINUATION, &mqtt(&Packet::PingReq)), 1002, "bad frame").await;
}

#[tokio::test]
async fn a_new_binary_frame_inside_a_fragmented_message_is_a_bad_frame_1002() {
    let ping = mqtt(&Packet::PingReq);
    let mut bytes = frame(false, BINARY, &ping[..1]);
    bytes.extend(frame(true, BINARY, &ping[1..]));
    frame_refused("", true, &bytes, 1002, "bad frame").await;
}

/// A CONNECT whose every byte is its own binary message, then one whose every byte is its own
/// fragment of one message: both are one CONNECT [MQTT-6.0.0-2]. The frame headers themselves
/// arrive a byte at a time, each in its own write.
#[tokio::test]
async fn packets_split_byte_by_byte_across_frames() {
    let broker = ws_broker("").await;
    let bytes = mqtt(&connect("split"));
    let mut c = WsClient::upgraded(broker.addr).await;
    for b in &bytes {
        for piece in frame(true, BINARY, &[*b]) {
            c.send(&[piece]).await;
        }
    }
    assert!(matches!(c.recv().await, Packet::ConnAck(_)), "{}", broker.logs());
    let mut c = WsClient::upgraded(broker.addr).await;
    let last = bytes.len() - 1;
    for (i, b) in bytes.iter().enumerate() {
        let opcode = if i == 0 { BINARY } else { CONTINUATION };
        c.send(&frame(i == last, opcode, &[*b])).await;
    }
    assert!(matches!(c.recv().await, Packet::ConnAck(_)), "{}", broker.logs());
    broker.stop().await;
}

/// CONNECT, SUBSCRIBE, PUBLISH and PINGREQ in one frame: each answered, in order.
#[tokio::test]
async fn many_packets_in_one_frame() {
    let broker = ws_broker("").await;
    let mut c = WsClient::upgraded(broker.addr).await;
    let subscribe = Packet::Subscribe(mqtt_lab_broker::codec::Subscribe {
        pid: support::pid(1),
        properties: mqtt_lab_broker::codec::v5::Properties::default(),
        filters: vec![(mqtt_lab_broker::codec::TopicFilter::new("lab/#").unwrap(), QoS::AtMostOnce.into())],
    });
    let mut joined = mqtt(&connect("joined"));
    joined.extend(mqtt(&subscribe));
    joined.extend(mqtt(&publish("lab/x", b"together", QosPid::AtMostOnce, false)));
    joined.extend(mqtt(&Packet::PingReq));
    c.send(&frame(true, BINARY, &joined)).await;
    assert!(matches!(c.recv().await, Packet::ConnAck(_)));
    assert!(matches!(c.recv().await, Packet::SubAck(_)));
    match c.recv().await {
        Packet::Publish(p) => assert_eq!(&p.payload[..], b"together"),
        other => panic!("expected the PUBLISH back, got {other:?}"),
    }
    assert_eq!(c.recv().await, Packet::PingResp);
    broker.stop().await;
}

/// A ping between two fragments of a message is answered with a pong carrying its payload,
/// and the message goes on; an unsolicited pong is ignored.
#[tokio::test]
async fn a_ping_between_fragments_is_answered_and_the_message_goes_on() {
    let broker = ws_broker("").await;
    let mut c = WsClient::upgraded(broker.addr).await;
    let bytes = mqtt(&connect("pinged"));
    let (head, tail) = bytes.split_at(5);
    let mut wire = frame(false, BINARY, head);
    wire.extend(frame(true, PING, b"are you there"));
    wire.extend(frame(true, PONG, b"unsolicited"));
    wire.extend(frame(true, CONTINUATION, tail));
    c.send(&wire).await;
    let pong = c.recv_frame().await.expect("a pong");
    assert_eq!((pong.opcode, pong.fin, &pong.payload[..]), (PONG, true, &b"are you there"[..]), "{pong:?}");
    assert!(matches!(c.recv().await, Packet::ConnAck(_)), "{}", broker.logs());
    broker.stop().await;
}

/// A client's close frame is answered with a close frame, then the connection ends; a clean
/// close of a connected client without DISCONNECT still publishes its will (the MQTT session
/// did not end with DISCONNECT).
#[tokio::test]
async fn a_close_frame_is_answered_and_the_will_is_published() {
    let broker = ws_broker("").await;
    let mut watcher = WsClient::upgraded(broker.addr).await;
    watcher.send_packet(&connect("watcher")).await;
    assert!(matches!(watcher.recv().await, Packet::ConnAck(_)));
    let subscribe = Packet::Subscribe(mqtt_lab_broker::codec::Subscribe {
        pid: support::pid(1),
        properties: mqtt_lab_broker::codec::v5::Properties::default(),
        filters: vec![(mqtt_lab_broker::codec::TopicFilter::new("lab/will").unwrap(), QoS::AtMostOnce.into())],
    });
    watcher.send_packet(&subscribe).await;
    assert!(matches!(watcher.recv().await, Packet::SubAck(_)));
    let mut c = WsClient::upgraded(broker.addr).await;
    let mut with_will = connect_packet("closer", true, 60);
    with_will.will = Some(support::will("lab/will", b"closed", QoS::AtMostOnce, false));
    c.send_packet(&Packet::Connect(Box::new(with_will))).await;
    assert!(matches!(c.recv().await, Packet::ConnAck(_)));
    c.send(&frame(true, CLOSE, &1000u16.to_be_bytes())).await;
    assert_eq!(c.expect_close().await, 1000);
    match watcher.recv().await {
        Packet::Publish(p) => assert_eq!(&p.payload[..], b"closed"),
        other => panic!("expected the will, got {other:?}"),
    }
    broker.stop().await;
}

/// A client that sends pings and never reads: the broker may answer only the most recent
/// (RFC 6455 5.5.3) or stop reading, but must not keep a pong for every ping. The client's
/// receive buffer is made small, so the kernel holds at most the broker's send buffer
/// (`tcp_wmem`'s maximum) of pongs. After the pings, a PUBLISH that a second client receives
/// shows the broker has read them all; then a PINGREQ: every pong before its PINGRESP was
/// held by the kernel or by the broker, and more than the kernel can hold was the broker's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_from_a_client_that_never_reads_do_not_pile_up_pongs() {
    use tokio::io::AsyncWriteExt;
    const PINGS: usize = 200_000;
    let broker = ws_broker("").await;
    let mut watcher = WsClient::upgraded(broker.addr).await;
    watcher.send_packet(&connect("watcher")).await;
    assert!(matches!(watcher.recv().await, Packet::ConnAck(_)));
    watcher.send_packet(&subscribe("lab/sync")).await;
    assert!(matches!(watcher.recv().await, Packet::SubAck(_)));
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(broker.addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut pinger = WsClient::over(stream);
    assert_eq!(pinger.upgrade(&upgrade_request("/mqtt", Some("mqtt"), "")).await.status, 101);
    pinger.send_packet(&connect("pinger")).await;
    assert!(matches!(pinger.recv().await, Packet::ConnAck(_)));
    let ping = frame(true, PING, &[b'p'; 125]);
    let mut sent = 0;
    for _ in 0..PINGS {
        // A broker that stops reading while its pongs cannot go out is bounded too: stop here.
        match tokio::time::timeout(std::time::Duration::from_secs(2), pinger.stream.write_all(&ping)).await {
            Ok(Ok(())) => sent += 1,
            _ => break,
        }
    }
    pinger.send_packet(&publish("lab/sync", b"all read", QosPid::AtMostOnce, false)).await;
    assert!(matches!(watcher.recv().await, Packet::Publish(_)), "the broker read every ping");
    pinger.send_packet(&Packet::PingReq).await;
    let mut pong_bytes = 0usize;
    loop {
        let f = pinger.recv_frame().await.expect("frames until the PINGRESP");
        match f.opcode {
            PONG => pong_bytes += f.payload.len() + 2,
            BINARY => break,
            other => panic!("unexpected frame {other:#x}"),
        }
    }
    let wmem_max: usize = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20);
    let kernel = wmem_max + 64 * 1024;
    assert!(
        pong_bytes <= kernel,
        "{sent} pings sent without reading: {pong_bytes} bytes of pongs came back, more than the kernel's \
         buffers can hold ({kernel}): the broker kept pongs in its memory"
    );
    broker.stop().await;
}

fn subscribe(filter: &str) -> Packet {
    Packet::Subscribe(mqtt_lab_broker::codec::Subscribe {
        pid: support::pid(1),
        properties: mqtt_lab_broker::codec::v5::Properties::default(),
        filters: vec![(mqtt_lab_broker::codec::TopicFilter::new(filter).unwrap(), QoS::AtMostOnce.into())],
    })
}

/// MQTT-6.0.0-2: packets may be joined in a frame any way. Two 60-byte PUBLISHes under
/// `max_packet_size 100`, joined in one 120-byte frame, are two legal packets; the deframer
/// streams data frames without buffering them, so the frame's size costs nothing.
#[tokio::test]
async fn packets_under_max_packet_size_joined_in_a_frame_over_it_are_served() {
    let broker = ws_broker("max_packet_size 100\n").await;
    let mut c = WsClient::upgraded(broker.addr).await;
    c.send_packet(&connect("joined-small")).await;
    assert!(matches!(c.recv().await, Packet::ConnAck(_)));
    let one = mqtt(&publish("lab/x", &[b'p'; 51], QosPid::AtMostOnce, false));
    assert_eq!(one.len(), 60);
    c.send(&frame(true, BINARY, &[one.clone(), one, mqtt(&Packet::PingReq)].concat())).await;
    assert_eq!(c.recv().await, Packet::PingResp, "{}", broker.logs());
    broker.stop().await;
}
