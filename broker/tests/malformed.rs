//! Malformed input against a running broker, one class of bad packet at a time: the offending
//! connection is closed with a log line naming the rule it broke, and a healthy subscriber on
//! the same broker keeps receiving a publisher's messages, every one, in order, throughout.

mod support;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid};
use support::{RawClient, TestBroker, pid, publish};

/// After CONNECT: (what is wrong, the bytes, the rule the log line names).
const CONNECTED: &[(&str, &[u8], &str)] = &[
    ("packet type 0", &[0x00, 0], "[MQTT-2.2.1]"),
    ("packet type 15", &[0xF0, 0], "[MQTT-2.2.1]"),
    ("PUBREL with flags 0000", &[0x60, 2, 0, 1], "[MQTT-2.2.2-2]"),
    ("SUBSCRIBE with flags 0000", &[0x80, 6, 0, 1, 0, 1, b'a', 0], "[MQTT-2.2.2-2]"),
    ("remaining length in 5 bytes", &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "[MQTT-2.2.3] remaining length"),
    ("packet over max_packet_size", &[0x30, 0x80, 0x80, 0x80, 0x7F], "exceeds the limit of 1024 bytes"),
    ("topic length past the packet", &[0x30, 4, 0, 10, b'a', b'b'], "[MQTT-1.5.3]"),
    ("PUBACK with a byte too many", &[0x40, 3, 0, 1, 0], "[MQTT-2.2.3] PUBACK has 1 bytes"),
    ("topic not UTF-8", &[0x30, 4, 0, 2, 0xC3, 0x28], "[MQTT-1.5.3-1]"),
    ("topic with U+0000", &[0x30, 5, 0, 3, b'a', 0, b'b'], "[MQTT-1.5.3-2]"),
    ("empty topic", &[0x30, 2, 0, 0], "[MQTT-4.7.3-1]"),
    ("wildcard in a PUBLISH topic", &[0x30, 5, 0, 3, b'a', b'/', b'+'], "[MQTT-3.3.2-2]"),
    ("PUBLISH QoS 3", &[0x36, 5, 0, 1, b'a', 0, 1], "[MQTT-3.3.1-4]"),
    ("DUP on QoS 0", &[0x38, 3, 0, 1, b'a'], "[MQTT-3.3.1-2]"),
    ("PUBLISH packet id 0", &[0x32, 5, 0, 1, b'a', 0, 0], "[MQTT-2.3.1-1]"),
    ("PUBACK packet id 0", &[0x40, 2, 0, 0], "[MQTT-2.3.1-1]"),
    ("SUBSCRIBE without filters", &[0x82, 2, 0, 1], "[MQTT-3.8.3-3]"),
    ("SUBSCRIBE requesting QoS 3", &[0x82, 6, 0, 1, 0, 1, b'a', 3], "[MQTT-3.8.3-4]"),
    ("'#' not last in a filter", &[0x82, 8, 0, 1, 0, 3, b'#', b'/', b'a', 0], "[MQTT-4.7.1-2]"),
    ("'+' sharing a level", &[0x82, 7, 0, 1, 0, 2, b'a', b'+', 0], "[MQTT-4.7.1-3]"),
    ("UNSUBSCRIBE without filters", &[0xA2, 2, 0, 1], "[MQTT-3.10.3-2]"),
    ("CONNACK from a client", &[0x20, 2, 0, 0], "[MQTT-4.8.0-1]"),
    ("SUBACK from a client", &[0x90, 3, 0, 1, 0], "[MQTT-4.8.0-1]"),
    ("PINGRESP from a client", &[0xD0, 0], "[MQTT-4.8.0-1]"),
    ("a second CONNECT", &[0x10, 14, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 2, b'i', b'd'], "[MQTT-3.1.0-2]"),
];

/// Instead of CONNECT, on a new connection.
const BEFORE_CONNECT: &[(&str, &[u8], &str)] = &[
    ("PINGREQ first", &[0xC0, 0], "[MQTT-3.1.0-1]"),
    ("an HTTP request", b"GET / HTTP/1.1\r\nHost: pi\r\n\r\n", "[MQTT-2.2.2-2]"),
    ("protocol name MQTX", &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'X', 4, 2, 0, 60, 0, 0], "[MQTT-3.1.2-1]"),
    ("CONNECT reserved flag", &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 3, 0, 60, 0, 0], "[MQTT-3.1.2-3]"),
    ("will QoS without a will", &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x0A, 0, 60, 0, 0], "[MQTT-3.1.2-13]"),
    ("will retain without a will", &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x22, 0, 60, 0, 0], "[MQTT-3.1.2-15]"),
    (
        "password without user name",
        &[0x10, 15, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x42, 0, 60, 0, 0, 0, 1, b'p'],
        "[MQTT-3.1.2-22]",
    ),
    ("client id not UTF-8", &[0x10, 14, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 2, 0xC3, 0x28], "[MQTT-1.5.3-1]"),
    ("protocol level 6", &[0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 6, 2, 0, 60, 0, 0], "[MQTT-3.1.2-2]"),
];

/// The publisher sends message `n` at QoS 1; the healthy subscriber must get exactly it next.
async fn still_served(publisher: &mut RawClient, healthy: &mut RawClient, n: u16) {
    let payload = n.to_string();
    publisher.send(publish("PV/data", payload.as_bytes(), QosPid::AtLeastOnce(pid(n)), false)).await;
    assert_eq!(publisher.recv().await, Packet::PubAck(pid(n).into()));
    let got = healthy.recv_publish().await;
    assert_eq!(std::str::from_utf8(&got.payload).unwrap(), payload, "the healthy subscriber missed a message");
}

#[tokio::test]
async fn each_bad_packet_closes_only_its_connection_with_the_rule_logged() {
    let broker = TestBroker::with(|c| c.max_packet_size = 1024).await;
    let mut healthy = RawClient::connect(broker.addr, "healthy").await;
    healthy.subscribe(&[("PV/#", QoS::AtMostOnce)]).await;
    let mut publisher = RawClient::connect(broker.addr, "publisher").await;
    let mut n = 0;
    for (i, (what, bytes, rule)) in CONNECTED.iter().enumerate() {
        let id = format!("bad{i}");
        let mut bad = RawClient::connect(broker.addr, &id).await;
        bad.send_raw(bytes).await;
        bad.expect_closed().await;
        let logs = broker.logs();
        assert!(
            logs.lines().any(|l| l.contains(&format!("Client {id} ")) && l.contains(rule)),
            "{what}: no log line for {id} naming {rule}:\n{logs}"
        );
        n += 1;
        still_served(&mut publisher, &mut healthy, n).await;
    }
    for (what, bytes, rule) in BEFORE_CONNECT {
        let before = broker.logs().lines().filter(|l| l.contains(rule)).count();
        let mut bad = RawClient::open(broker.addr).await;
        bad.send_raw(bytes).await;
        // An unsupported protocol level gets CONNACK 1 first, as the specification asks; then the close.
        while bad.try_recv().await.is_some() {}
        let after = broker.logs().lines().filter(|l| l.contains(rule)).count();
        assert!(after > before, "{what}: no new log line naming {rule}:\n{}", broker.logs());
        n += 1;
        still_served(&mut publisher, &mut healthy, n).await;
    }
    // Nothing else arrived at the healthy subscriber, and it is still connected.
    assert!(healthy.sync().await.is_empty());
    broker.stop().await;
}

/// Forty good PUBLISHes and a bad packet in one write, more than the broker decodes at a time:
/// every good one is delivered, in order, and then the connection closes for the bad one.
#[tokio::test]
async fn the_good_packets_before_a_bad_one_in_the_same_write_are_all_handled() {
    let broker = TestBroker::start().await;
    let mut healthy = RawClient::connect(broker.addr, "healthy").await;
    healthy.subscribe(&[("PV/#", QoS::AtMostOnce)]).await;
    let mut mixed = RawClient::connect(broker.addr, "mixed").await;
    let mut bytes = bytes::BytesMut::new();
    for n in 0..40 {
        let packet = publish("PV/data", n.to_string().as_bytes(), QosPid::AtMostOnce, false);
        packet.encode(mqtt_lab_broker::codec::Protocol::V311, &mut bytes).unwrap();
    }
    bytes.extend_from_slice(&[0x30, 5, 0, 3, b'a', b'/', b'+']);
    mixed.send_raw(&bytes).await;
    mixed.expect_closed().await;
    for n in 0..40 {
        let got = healthy.recv_publish().await;
        assert_eq!(std::str::from_utf8(&got.payload).unwrap(), n.to_string(), "message {n}");
    }
    assert!(healthy.sync().await.is_empty(), "nothing from the bad packet");
    assert!(broker.log_contains("[MQTT-3.3.2-2]"), "{}", broker.logs());
    broker.stop().await;
}
