//! `persistence true` with MQTT 5.0 (issue 20): across a clean restart and a kill -9, a
//! persistent session keeps its subscription options and Subscription Identifier, its queued
//! messages keep their properties in order and their Message Expiry keeps counting, and
//! retained messages keep their properties.

mod support;

use std::net::SocketAddr;

use mqtt_lab_broker::codec::v5::{Property, PropertyId, ReasonCode};
use mqtt_lab_broker::codec::{
    Ack, Connect, Packet, Protocol, Publish, QoS, QosPid, RetainHandling, SubAckCode, SubOptions,
};
use support::TempDir;
use support::persistent::{persistent_broker, start_binary};
use support::v5client::{Client, connect_of, publish_of};

const LOGGER: &str = "v5-logger";

/// The logger's subscription: QoS 1, No Local, Retain As Published.
const OPTIONS: SubOptions = SubOptions {
    qos: QoS::AtLeastOnce,
    no_local: true,
    retain_as_published: true,
    retain_handling: RetainHandling::OnSubscribe,
};

fn sub_id_9() -> Property {
    Property::SubscriptionIdentifier(9.try_into().unwrap())
}

/// The properties of the queued message, in the order published (Message Expiry 600 s).
fn data_properties(expiry: u32) -> Vec<Property> {
    vec![
        Property::UserProperty("site".into(), "roof".into()),
        Property::ContentType("application/json".into()),
        Property::MessageExpiryInterval(expiry),
        Property::UserProperty("site".into(), "barn".into()),
    ]
}

/// The retained message's properties (Message Expiry 900 s).
fn retained_properties(expiry: u32) -> Vec<Property> {
    vec![
        Property::ContentType("text/plain".into()),
        Property::UserProperty("unit".into(), "bool".into()),
        Property::MessageExpiryInterval(expiry),
    ]
}

/// The logger's persistent session: clean start 0, Session Expiry Interval 3600 s.
fn logger_connect() -> Connect {
    let properties = vec![Property::SessionExpiryInterval(3600)];
    Connect { clean_session: false, ..connect_of(Protocol::V5, LOGGER, properties) }
}

/// Before the restart: the logger subscribes and goes offline, then a publisher sends a QoS 1
/// message and a retained one, both queued for the logger. Each step is acknowledged only
/// once it is on disk, so a kill -9 right after loses none of it.
async fn before_the_restart(addr: SocketAddr) {
    let (mut logger, _) = Client::accepted(addr, logger_connect()).await;
    let codes = logger.subscribe_with(&[("PV/#", OPTIONS)], vec![sub_id_9()]).await;
    assert_eq!(codes, [SubAckCode::Granted(QoS::AtLeastOnce)]);
    logger.disconnect(ReasonCode::Success).await;
    let mut plant = Client::v5(addr, "plant").await;
    assert_eq!(plant.publish1("PV/data", b"21.5", false, data_properties(600)).await, ReasonCode::Success);
    assert_eq!(plant.publish1("PV/sunshine", b"yes", true, retained_properties(900)).await, ReasonCode::Success);
    plant.disconnect(ReasonCode::Success).await;
}

/// The Message Expiry Interval of `p`, checked to lie in `range`; then its properties with
/// that value replaced by `exact`, to compare the rest exactly.
fn expiry_counted(p: &Publish, range: std::ops::RangeInclusive<u32>, exact: u32) -> Vec<Property> {
    match p.properties.get(PropertyId::MessageExpiryInterval) {
        Some(Property::MessageExpiryInterval(left)) => assert!(range.contains(left), "{left} s left, not in {range:?}"),
        other => panic!("no Message Expiry Interval on {}: {other:?}", p.topic.as_str()),
    }
    p.properties
        .iter()
        .map(|q| match q {
            Property::MessageExpiryInterval(_) => Property::MessageExpiryInterval(exact),
            other => other.clone(),
        })
        .collect()
}

/// A QoS 1 PUBLISH to the logger, acknowledged.
async fn receive(logger: &mut Client) -> Publish {
    let p = logger.recv_publish().await;
    let QosPid::AtLeastOnce(pid) = p.qos_pid else { panic!("expected QoS 1 (the subscription's), got {p:?}") };
    logger.send(&Packet::PubAck(pid.into())).await;
    p
}

/// After the restart: everything the logger had is there as it was.
async fn after_the_restart(addr: SocketAddr) {
    let (mut logger, ack) = Client::connect(addr, logger_connect()).await;
    assert_eq!((ack.reason, ack.session_present), (ReasonCode::Success, true), "the session survived: {ack:?}");

    // The queued messages, in order, with their properties in order, the time left counting
    // from before the restart (a few seconds passed, not 100), and Subscription Identifier 9.
    let data = receive(&mut logger).await;
    assert_eq!((data.topic.as_str(), &data.payload[..], data.retain), ("PV/data", &b"21.5"[..], false));
    let expected: Vec<Property> = data_properties(600).into_iter().chain([sub_id_9()]).collect();
    assert_eq!(expiry_counted(&data, 501..=600, 600), expected);
    let sunshine = receive(&mut logger).await;
    assert_eq!((sunshine.topic.as_str(), &sunshine.payload[..]), ("PV/sunshine", &b"yes"[..]));
    assert!(sunshine.retain, "Retain As Published, as routed before the restart");
    let expected: Vec<Property> = retained_properties(900).into_iter().chain([sub_id_9()]).collect();
    assert_eq!(expiry_counted(&sunshine, 801..=900, 900), expected);
    logger.expect_nothing().await;

    // No Local survived: the logger's own message does not come back. The echo would be
    // queued before the PUBACK, which waits for the same commit; the PINGREQ round trip after
    // the PUBACK proves nothing else is on its way.
    let pid = logger.pid();
    logger.send(&publish_of("PV/own", b"mine", QosPid::AtLeastOnce(pid), false, Vec::new())).await;
    match logger.recv().await {
        Packet::PubAck(Ack { pid: p, .. }) if p == pid => {}
        other => panic!("expected PUBACK {pid}; the logger's own message came back (No Local lost?): {other:?}"),
    }
    logger.expect_nothing().await;

    // Retain As Published and the Subscription Identifier on a message routed after the
    // restart, by the restored subscription.
    let mut plant = Client::v5(addr, "plant").await;
    assert_eq!(plant.publish1("PV/live", b"1", true, Vec::new()).await, ReasonCode::Success);
    let live = receive(&mut logger).await;
    assert_eq!((live.topic.as_str(), live.retain), ("PV/live", true), "Retain As Published survived");
    assert_eq!(live.properties.as_slice(), [sub_id_9()], "Subscription Identifier 9 survived");

    // A new subscriber gets the retained message with its properties.
    let mut fresh = Client::v5(addr, "fresh").await;
    fresh.subscribe("PV/sunshine", SubOptions::from(QoS::AtMostOnce)).await;
    let retained = fresh.recv_publish().await;
    assert_eq!((retained.topic.as_str(), &retained.payload[..], retained.retain), ("PV/sunshine", &b"yes"[..], true));
    assert_eq!(expiry_counted(&retained, 801..=900, 900), retained_properties(900));
    fresh.expect_nothing().await;
}

#[tokio::test]
async fn mqtt5_session_options_properties_and_expiry_survive_a_clean_restart() {
    let dir = TempDir::new("v5-persist-restart");
    let broker = persistent_broker(&dir).await;
    before_the_restart(broker.addr).await;
    broker.stop().await;
    let broker = persistent_broker(&dir).await;
    assert!(broker.log_contains("Restored 1 retained messages and 1 persistent sessions"), "{}", broker.logs());
    after_the_restart(broker.addr).await;
    broker.stop().await;
}

#[tokio::test]
async fn mqtt5_session_options_properties_and_expiry_survive_kill_9() {
    let dir = TempDir::new("v5-persist-kill");
    let (broker, addr) = start_binary(&dir);
    before_the_restart(addr).await;
    broker.kill_9(); // only what was committed survives
    let (broker, addr) = start_binary(&dir);
    after_the_restart(addr).await;
    broker.kill_9();
}
