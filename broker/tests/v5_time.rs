//! MQTT 5.0's time rules (issue 20), on paused tokio time over in-memory pipes: Session Expiry
//! Interval (3.1.2.11.2, 3.14.2.2.2), Will Delay Interval (3.1.3.2.2), Message Expiry Interval
//! (3.3.2.3.3), `persistent_client_expiration`, and session expiry across a restart.
//! The raw client is support/v5client.rs on an in-memory pipe.

mod support;

use std::time::Duration;

use bytes::Bytes;
use mqtt_lab_broker::Config;
use mqtt_lab_broker::broker::Broker;
use mqtt_lab_broker::codec::v5::{PacketKind, Properties, Property, PropertyId, ReasonCode};
use mqtt_lab_broker::codec::{Connect, Disconnect, LastWill, Packet, Protocol, QoS, SubOptions, TopicName};
use tokio::io::DuplexStream;
use tokio::time::sleep;

/// Long enough for anything the broker does at once; short against every interval tested.
const NOW: Duration = Duration::from_millis(100);

fn start(edit: impl FnOnce(&mut Config)) -> Broker {
    let mut config = Config { allow_anonymous: Some(true), sys_interval: 0, ..Config::default() };
    edit(&mut config);
    Broker::start(config).unwrap()
}

type Client = support::v5client::Client<DuplexStream>;

/// A client on an in-memory pipe to `broker`: paused time cannot jump while bytes are in
/// flight, as it can over loopback sockets.
fn open(broker: &Broker, protocol: Protocol) -> Client {
    let (client, server) = tokio::io::duplex(1 << 16);
    broker.accept_stream(server, "127.0.0.1:1".parse().unwrap());
    Client::over(client, protocol)
}

/// SUBSCRIBE at `qos`, answered by SUBACK.
async fn subscribe(c: &mut Client, filter: &str, qos: QoS) {
    c.subscribe(filter, SubOptions::from(qos)).await;
}

/// DISCONNECT with `properties`, then waits until the broker has closed (and so detached the
/// session).
async fn disconnect(mut c: Client, properties: Vec<Property>) {
    let properties = Properties::new(PacketKind::Disconnect, properties).unwrap();
    c.send(&Packet::Disconnect(Disconnect { reason: ReasonCode::Success, properties })).await;
    assert_eq!(c.recv_within(NOW).await, None);
}

/// A QoS 1 PUBLISH with a Message Expiry Interval if `expiry`, answered by PUBACK.
async fn publish(c: &mut Client, topic: &str, payload: &'static [u8], retain: bool, expiry: Option<u32>) {
    c.publish1(topic, payload, retain, expiry.map(Property::MessageExpiryInterval).into_iter().collect()).await;
}

fn will(delay: u32) -> LastWill {
    LastWill {
        topic: TopicName::new("dev/status").unwrap(),
        payload: Bytes::from_static(b"lost"),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Properties::new(PacketKind::Will, vec![Property::WillDelayInterval(delay)]).unwrap(),
    }
}

/// Connects over a pipe with MQTT 5.0 (Session Expiry Interval `expiry`, absent if `None`) and
/// answers the client and CONNACK's session present flag.
async fn connect(
    broker: &Broker,
    id: &str,
    clean: bool,
    expiry: Option<u32>,
    will: Option<LastWill>,
) -> (Client, bool) {
    let properties =
        Properties::new(PacketKind::Connect, expiry.map(Property::SessionExpiryInterval).into_iter().collect())
            .unwrap();
    connect_with(broker, Protocol::V5, id, clean, properties, will).await
}

async fn connect_with(
    broker: &Broker,
    protocol: Protocol,
    id: &str,
    clean: bool,
    properties: Properties,
    will: Option<LastWill>,
) -> (Client, bool) {
    let mut c = open(broker, protocol);
    let connect = Connect {
        bridge: false,
        protocol,
        clean_session: clean,
        keep_alive: 0,
        properties,
        client_id: id.into(),
        will,
        username: None,
        password: None,
    };
    c.send(&Packet::Connect(Box::new(connect))).await;
    match c.recv().await {
        Packet::ConnAck(a) if a.reason == ReasonCode::Success => (c, a.session_present),
        other => panic!("expected CONNACK 0, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn without_a_session_expiry_the_session_ends_with_the_connection() {
    let broker = start(|_| {});
    let (c, _) = connect(&broker, "c", false, None, None).await;
    disconnect(c, Vec::new()).await;
    let (_c, present) = connect(&broker, "c", false, None, None).await;
    assert!(!present);
    broker.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_session_with_expiry_10_is_resumed_at_9_s_with_its_messages_and_gone_at_11_s() {
    let broker = start(|_| {});
    let (mut sub, _) = connect(&broker, "sub", true, Some(10), None).await;
    subscribe(&mut sub, "t", QoS::AtLeastOnce).await;
    disconnect(sub, Vec::new()).await;
    let (mut publisher, _) = connect(&broker, "pub", true, None, None).await;
    publish(&mut publisher, "t", b"queued", false, None).await;
    sleep(Duration::from_secs(9)).await;
    let (mut sub, present) = connect(&broker, "sub", false, Some(10), None).await;
    assert!(present, "resumed at 9 s");
    assert!(matches!(sub.recv().await, Packet::Publish(p) if &p.payload[..] == b"queued"));
    disconnect(sub, Vec::new()).await;
    sleep(Duration::from_secs(11)).await;
    let (_sub, present) = connect(&broker, "sub", false, Some(10), None).await;
    assert!(!present, "expired at 10 s after the last disconnect");
    broker.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn disconnect_giving_a_session_of_expiry_0_an_expiry_is_a_protocol_error() {
    let broker = start(|_| {});
    let (mut c, _) = connect(&broker, "c", true, None, None).await;
    let properties = Properties::new(PacketKind::Disconnect, vec![Property::SessionExpiryInterval(5)]).unwrap();
    c.send(&Packet::Disconnect(Disconnect { reason: ReasonCode::Success, properties })).await;
    match c.recv().await {
        Packet::Disconnect(d) => assert_eq!(d.reason, ReasonCode::ProtocolError, "[MQTT-3.14.2-2]"),
        other => panic!("expected DISCONNECT 0x82, got {other:?}"),
    }
    broker.shutdown().await;
}

async fn v311(broker: &Broker, id: &str) -> (Client, bool) {
    connect_with(broker, Protocol::V311, id, false, Properties::default(), None).await
}

#[tokio::test(start_paused = true)]
async fn a_311_persistent_session_never_expires_unless_persistent_client_expiration_says() {
    let broker = start(|_| {});
    let (c, _) = v311(&broker, "old").await;
    drop(c);
    sleep(Duration::from_hours(400 * 24)).await;
    assert!(v311(&broker, "old").await.1, "still there after 400 days");
    broker.shutdown().await;

    let broker = start(|c| c.persistent_client_expiration = Some(Duration::from_hours(1)));
    let (c, _) = v311(&broker, "old").await;
    drop(c);
    sleep(Duration::from_secs(3599)).await;
    let (c, present) = v311(&broker, "old").await;
    assert!(present, "resumed within the hour");
    drop(c);
    sleep(Duration::from_secs(3601)).await;
    assert!(!v311(&broker, "old").await.1, "removed after the hour");
    broker.shutdown().await;
}

async fn watcher(broker: &Broker) -> Client {
    let (mut w, _) = connect(broker, "watcher", true, None, None).await;
    subscribe(&mut w, "dev/status", QoS::AtMostOnce).await;
    w
}

#[tokio::test(start_paused = true)]
async fn a_will_with_a_delay_of_5_s_goes_out_at_5_s() {
    let broker = start(|_| {});
    let mut w = watcher(&broker).await;
    let (lamp, _) = connect(&broker, "lamp", true, Some(100), Some(will(5))).await;
    drop(lamp);
    assert_eq!(w.recv_within(Duration::from_millis(4900)).await, None, "not before 5 s");
    let got = w.recv_within(Duration::from_millis(200)).await;
    assert!(matches!(got, Some(Packet::Publish(p)) if &p.payload[..] == b"lost" && p.properties.is_empty()));
    broker.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_reconnect_within_the_will_delay_cancels_the_will() {
    let broker = start(|_| {});
    let mut w = watcher(&broker).await;
    let (lamp, _) = connect(&broker, "lamp", true, Some(100), Some(will(5))).await;
    drop(lamp);
    sleep(Duration::from_secs(3)).await;
    let (_lamp, present) = connect(&broker, "lamp", false, Some(100), None).await;
    assert!(present);
    assert_eq!(w.recv_within(Duration::from_mins(1)).await, None, "[MQTT-3.1.3-9]");
    broker.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_session_ending_before_the_will_delay_sends_the_will_then() {
    let broker = start(|_| {});
    let mut w = watcher(&broker).await;
    let (lamp, _) = connect(&broker, "lamp", true, Some(2), Some(will(5))).await;
    drop(lamp);
    assert_eq!(w.recv_within(Duration::from_millis(1900)).await, None);
    assert!(matches!(w.recv_within(Duration::from_millis(200)).await, Some(Packet::Publish(_))));
    broker.shutdown().await;
}

/// An offline subscriber with a QoS 1 subscription to `t`, and a message of expiry 5 s for it.
async fn offline_subscriber_with_a_message(broker: &Broker) {
    let (mut sub, _) = connect(broker, "sub", true, Some(100), None).await;
    subscribe(&mut sub, "t", QoS::AtLeastOnce).await;
    disconnect(sub, Vec::new()).await;
    let (mut publisher, _) = connect(broker, "pub", true, None, None).await;
    publish(&mut publisher, "t", b"soon stale", false, Some(5)).await;
}

fn expiry_of(packet: &Packet) -> Option<u32> {
    match packet {
        Packet::Publish(p) => match p.properties.get(PropertyId::MessageExpiryInterval) {
            Some(Property::MessageExpiryInterval(secs)) => Some(*secs),
            _ => None,
        },
        _ => None,
    }
}

#[tokio::test(start_paused = true)]
async fn a_queued_message_is_delivered_with_the_time_it_has_left() {
    let broker = start(|_| {});
    offline_subscriber_with_a_message(&broker).await;
    sleep(Duration::from_secs(3)).await;
    let (mut sub, _) = connect(&broker, "sub", false, Some(100), None).await;
    assert_eq!(expiry_of(&sub.recv().await), Some(2), "[MQTT-3.3.2-6]");
    broker.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_expired_queued_message_is_not_delivered() {
    let broker = start(|_| {});
    offline_subscriber_with_a_message(&broker).await;
    sleep(Duration::from_secs(6)).await;
    let (mut sub, _) = connect(&broker, "sub", false, Some(100), None).await;
    assert_eq!(sub.recv_within(Duration::from_secs(1)).await, None, "[MQTT-3.3.2-5]");
    broker.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_retained_message_expires() {
    let broker = start(|_| {});
    let (mut publisher, _) = connect(&broker, "pub", true, None, None).await;
    publish(&mut publisher, "r", b"retained", true, Some(5)).await;
    sleep(Duration::from_secs(3)).await;
    let (mut early, _) = connect(&broker, "early", true, None, None).await;
    subscribe(&mut early, "r", QoS::AtLeastOnce).await;
    assert_eq!(expiry_of(&early.recv().await), Some(2), "the time left at 3 s");
    sleep(Duration::from_secs(3)).await;
    let (mut late, _) = connect(&broker, "late", true, None, None).await;
    subscribe(&mut late, "r", QoS::AtLeastOnce).await;
    assert_eq!(late.recv_within(Duration::from_secs(1)).await, None, "expired at 5 s");
    broker.shutdown().await;
}

/// A fresh directory for the database, removed when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(start_paused = true)]
async fn a_restart_keeps_a_sessions_expiry() {
    let dir = TempDir(std::env::temp_dir().join(format!("mqtt-lab-v5-time-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let persistent = |c: &mut Config| {
        c.persistence = true;
        c.persistence_location = Some(dir.0.clone());
    };
    let broker = start(persistent);
    for id in ["early", "late", "forever"] {
        let expiry = if id == "forever" { u32::MAX } else { 10 };
        let (c, _) = connect(&broker, id, true, Some(expiry), None).await;
        disconnect(c, Vec::new()).await;
    }
    broker.shutdown().await;
    let broker = start(persistent);
    assert_eq!(broker.figures().clients_total, 3, "all three restored");
    sleep(Duration::from_secs(9)).await;
    assert!(connect(&broker, "early", false, Some(10), None).await.1, "resumed at 9 s");
    sleep(Duration::from_secs(2)).await;
    assert!(!connect(&broker, "late", false, Some(10), None).await.1, "expired at 10 s, as before the restart");
    assert!(connect(&broker, "forever", false, Some(10), None).await.1);
    broker.shutdown().await;
}
