//! Strictness at the connection level: what the broker refuses, and how.

mod support;

use mqtt_lab_broker::codec::{ConnectReturnCode, Packet, Protocol, QoS, QosPid};
use support::{RawClient, TestBroker, connect_packet, pid, publish};

#[tokio::test]
async fn the_first_packet_must_be_connect() {
    let broker = TestBroker::start().await;
    let mut c = RawClient::open(broker.addr).await;
    c.send(Packet::PingReq).await;
    c.expect_closed().await;
    assert!(broker.log_contains("[MQTT-3.1.0-1]"), "{}", broker.logs());
    broker.stop().await;
}

#[tokio::test]
async fn a_second_connect_closes_the_connection() {
    let broker = TestBroker::start().await;
    let mut c = RawClient::connect(broker.addr, "twice").await;
    c.send(Packet::Connect(Box::new(connect_packet("twice", true, 60)))).await;
    c.expect_closed().await;
    assert!(broker.log_contains("[MQTT-3.1.0-2]"), "{}", broker.logs());
    broker.stop().await;
}

async fn connack_code(broker: &TestBroker, bytes: &[u8]) -> ConnectReturnCode {
    let mut c = RawClient::open(broker.addr).await;
    c.send_raw(bytes).await;
    let Packet::ConnAck(connack) = c.recv().await else { panic!("expected CONNACK") };
    let code = connack.code();
    c.expect_closed().await;
    code
}

#[tokio::test]
async fn an_unsupported_protocol_level_gets_connack_1() {
    let broker = TestBroker::start().await;
    // Level 6: no MQTT version has it (level 5, MQTT 5.0, is supported since the codec has it).
    let level6 = [0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 6, 2, 0, 60, 0, 0];
    assert_eq!(connack_code(&broker, &level6).await, ConnectReturnCode::UnacceptableProtocolVersion);
    assert!(broker.log_contains("[MQTT-3.1.2-2]"));
    broker.stop().await;
}

#[tokio::test]
async fn an_empty_client_id_needs_clean_session() {
    let broker = TestBroker::start().await;
    let bytes = Packet::Connect(Box::new(connect_packet("", false, 60))).to_bytes(Protocol::V311).unwrap();
    assert_eq!(connack_code(&broker, &bytes).await, ConnectReturnCode::IdentifierRejected);
    assert!(broker.log_contains("[MQTT-3.1.3-8]"));
    // With clean session the broker assigns an id.
    let c = RawClient::connect(broker.addr, "").await;
    c.disconnect().await;
    assert!(broker.log_contains("as auto-"), "{}", broker.logs());
    broker.stop().await;
}

#[tokio::test]
async fn mqtt_3_1_clients_are_served_and_long_ids_refused() {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet("client-3.1", true, 60);
    connect.protocol = Protocol::V31;
    let (c, _) = RawClient::connect_with(broker.addr, connect.clone()).await;
    c.disconnect().await;
    assert!(broker.log_contains("as client-3.1 (p1, c1, k60)"), "{}", broker.logs());
    connect.client_id = "x".repeat(24);
    let bytes = Packet::Connect(Box::new(connect)).to_bytes(Protocol::V311).unwrap();
    assert_eq!(connack_code(&broker, &bytes).await, ConnectReturnCode::IdentifierRejected);
    broker.stop().await;
}

#[tokio::test]
async fn anonymous_clients_get_connack_5_when_anonymous_access_is_off() {
    let broker = TestBroker::with(|c| c.allow_anonymous = Some(false)).await;
    let bytes = Packet::Connect(Box::new(connect_packet("anon", true, 60))).to_bytes(Protocol::V311).unwrap();
    assert_eq!(connack_code(&broker, &bytes).await, ConnectReturnCode::NotAuthorized);
    assert!(broker.log_contains("anonymous access is off"), "{}", broker.logs());
    // Mosquitto 2.0 refuses a user name too when there is no password file to check it against.
    let mut with_user = connect_packet("user", true, 60);
    with_user.username = Some("btsiot1".into());
    let bytes = Packet::Connect(Box::new(with_user)).to_bytes(Protocol::V311).unwrap();
    assert_eq!(connack_code(&broker, &bytes).await, ConnectReturnCode::NotAuthorized);
    broker.stop().await;
}

#[tokio::test]
async fn the_connection_log_line_matches_mosquitto() {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet("btsiot-client1", false, 30);
    connect.username = Some("btsiot1".into());
    connect.password = Some(bytes::Bytes::from_static(b"btsiotpass1"));
    let (c, _) = RawClient::connect_with(broker.addr, connect).await;
    c.disconnect().await;
    let logs = broker.logs();
    let line = logs.lines().find(|l| l.contains("New client connected")).unwrap();
    let (_, text) = line.split_once(": ").unwrap();
    assert!(text.starts_with("New client connected from 127.0.0.1:"), "{text}");
    assert!(text.ends_with(" as btsiot-client1 (p2, c0, k30, u'btsiot1')."), "{text}");
    assert!(!logs.contains("btsiotpass1"), "passwords never reach the log");
    assert!(logs.contains("Client btsiot-client1 disconnected."));
    broker.stop().await;
}

#[tokio::test]
async fn a_packet_over_max_packet_size_closes_the_connection_without_buffering_it() {
    let broker = TestBroker::with(|c| c.max_packet_size = 1024).await;
    let mut c = RawClient::connect(broker.addr, "big").await;
    // Announce 256 MB and send nothing more: the header alone is refused.
    c.send_raw(&[0x30, 0x80, 0x80, 0x80, 0x7F]).await;
    c.expect_closed().await;
    assert!(broker.log_contains("exceeds the limit of 1024 bytes"), "{}", broker.logs());
    broker.stop().await;
}

#[tokio::test]
async fn an_oversized_payload_is_dropped_but_its_qos_flow_completes() {
    let broker = TestBroker::with(|c| c.message_size_limit = 4).await;
    let mut sub = RawClient::connect(broker.addr, "sub").await;
    sub.subscribe(&[("t", QoS::AtLeastOnce)]).await;
    let mut p = RawClient::connect(broker.addr, "pub").await;
    p.send(publish("t", b"too large", QosPid::AtLeastOnce(pid(1)), false)).await;
    assert_eq!(p.recv().await, Packet::PubAck(pid(1).into()));
    p.send(publish("t", b"ok", QosPid::AtLeastOnce(pid(2)), false)).await;
    assert_eq!(p.recv().await, Packet::PubAck(pid(2).into()));
    assert_eq!(&sub.recv_publish().await.payload[..], b"ok", "only the small message arrives");
    assert!(broker.log_contains("message_size_limit"));
    broker.stop().await;
}

#[tokio::test]
async fn max_connections_refuses_connections_beyond_the_limit() {
    use mqtt_lab_broker::config::ListenerConfig;
    let broker = TestBroker::with(|c| {
        c.listeners.push(ListenerConfig { max_connections: Some(1), ..ListenerConfig::on_port(0, None) });
    })
    .await;
    let first = RawClient::connect(broker.addr, "first").await;
    let mut second = RawClient::open(broker.addr).await;
    second.expect_closed().await;
    assert!(broker.log_contains("max_connections exceeded"), "{}", broker.logs());
    first.disconnect().await;
    broker.stop().await;
}

#[tokio::test]
async fn a_keepalive_above_max_keepalive_is_refused() {
    let broker = TestBroker::with(|c| c.max_keepalive = 60).await;
    let bytes = Packet::Connect(Box::new(connect_packet("slow", true, 61))).to_bytes(Protocol::V311).unwrap();
    assert_eq!(connack_code(&broker, &bytes).await, ConnectReturnCode::IdentifierRejected);
    assert!(broker.log_contains("keepalive 61 is above max_keepalive 60"), "{}", broker.logs());
    broker.stop().await;
}

#[tokio::test]
async fn connection_messages_false_keeps_connections_out_of_the_log() {
    let broker = TestBroker::with(|c| c.log.connection_messages = false).await;
    let c = RawClient::connect(broker.addr, "quiet").await;
    c.disconnect().await;
    assert!(!broker.log_contains("New client connected"), "{}", broker.logs());
    assert!(!broker.log_contains("Client quiet disconnected"), "{}", broker.logs());
    broker.stop().await;
}
