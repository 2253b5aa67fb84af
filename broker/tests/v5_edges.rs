//! MQTT 5 edge cases a review of the broker found: a QoS 2 exchange a client ends with an
//! error PUBREC, a refused QoS 2 PUBLISH whose id the client may use again, a shared
//! subscription under an ACL, a resumed session's messages over the new connection's Maximum
//! Packet Size, a session expiry shortened by `persistent_client_expiration`, and a property
//! block over this implementation's limit.

mod support;

use std::num::{NonZeroU16, NonZeroU32};
use std::time::Duration;

use mqtt_lab_broker::codec::v5::{MAX_PROPERTIES, Property, PropertyId, ReasonCode};
use mqtt_lab_broker::codec::{Ack, Packet, Protocol, QoS, QosPid};
use support::v5client::{Client, connect_of, opts, publish_of};
use support::{TempDir, TestBroker};

fn publishes(packets: &[Packet]) -> Vec<Vec<u8>> {
    packets
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p.payload.to_vec()),
            _ => None,
        })
        .collect()
}

/// PUBREC with 0x80 ends the exchange (4.3.3): the message leaves the window, so with Receive
/// Maximum 1 the next one comes.
#[tokio::test]
async fn an_error_pubrec_ends_the_exchange_and_frees_the_window() {
    let broker = TestBroker::start().await;
    let one = vec![Property::ReceiveMaximum(NonZeroU16::new(1).unwrap())];
    let (mut sub, _) = Client::accepted(broker.addr, connect_of(Protocol::V5, "rec-err", one)).await;
    sub.subscribe("q2/t", opts(QoS::ExactlyOnce)).await;
    let mut publisher = Client::v5(broker.addr, "q2-pub").await;
    for i in 0..2u8 {
        let pid = publisher.pid();
        publisher.send(&publish_of("q2/t", &[i], QosPid::ExactlyOnce(pid), false, Vec::new())).await;
        assert!(matches!(publisher.recv().await, Packet::PubRec(_)));
        publisher.send(&Packet::PubRel(Ack::new(pid))).await;
        assert!(matches!(publisher.recv().await, Packet::PubComp(_)));
    }
    let got = sub.sync().await;
    assert_eq!(publishes(&got), [vec![0]], "Receive Maximum 1");
    let Some(Packet::Publish(first)) = got.first() else { panic!("{got:?}") };
    let pid = first.qos_pid.pid().unwrap();
    sub.send(&Packet::PubRec(Ack::with_reason(pid, ReasonCode::UnspecifiedError))).await;
    let next = sub.sync().await;
    assert_eq!(publishes(&next), [vec![1]], "the window is free again: {next:?}");
    assert!(!next.iter().any(|p| matches!(p, Packet::PubRel(_))), "no PUBREL after an error PUBREC");
    broker.stop().await;
}

/// A QoS 2 PUBLISH refused with PUBREC 0x87 is over: the same packet id then starts a new
/// message, which is routed.
#[tokio::test]
async fn a_refused_qos_2_publish_leaves_its_packet_id_free() {
    let dir = TempDir::new("v5-edge-acl");
    let acl = dir.file("acl", "topic readwrite open/#\n");
    let broker = TestBroker::with(|c| c.acl_file = Some(acl)).await;
    let mut sub = Client::v5(broker.addr, "free-sub").await;
    sub.subscribe("open/#", opts(QoS::ExactlyOnce)).await;
    let mut c = Client::v5(broker.addr, "free-pub").await;
    let pid = c.pid();
    c.send(&publish_of("closed/t", b"no", QosPid::ExactlyOnce(pid), false, Vec::new())).await;
    match c.recv().await {
        Packet::PubRec(a) => assert_eq!((a.pid, a.reason), (pid, ReasonCode::NotAuthorized)),
        other => panic!("{other:?}"),
    }
    c.send(&publish_of("open/t", b"yes", QosPid::ExactlyOnce(pid), false, Vec::new())).await;
    match c.recv().await {
        Packet::PubRec(a) => assert_eq!((a.pid, a.reason), (pid, ReasonCode::Success)),
        other => panic!("{other:?}"),
    }
    assert_eq!(publishes(&sub.sync().await), [b"yes".to_vec()]);
    broker.stop().await;
}

/// The ACL judges a shared subscription by its filter, not by the `$share/g/` before it.
#[tokio::test]
async fn a_shared_subscription_is_granted_where_the_acl_lets_the_filter_be_read() {
    let dir = TempDir::new("v5-edge-share-acl");
    let acl = dir.file("acl", "topic read PV/#\n");
    let broker = TestBroker::with(|c| c.acl_file = Some(acl)).await;
    let mut c = Client::v5(broker.addr, "share-acl").await;
    let codes = c
        .subscribe_with(
            &[("$share/g/PV/#", opts(QoS::AtLeastOnce)), ("$share/g/other/#", opts(QoS::AtLeastOnce))],
            Vec::new(),
        )
        .await;
    assert_eq!(format!("{codes:?}"), "[Granted(AtLeastOnce), Failure(NotAuthorized)]");
    broker.stop().await;
}

/// Messages queued while the client was away go out on its return only if the new
/// connection's Maximum Packet Size takes them; a larger one is discarded as if sent
/// [MQTT-3.1.2-25] and does not hold the window.
#[tokio::test]
async fn queued_messages_over_the_new_maximum_packet_size_are_discarded() {
    let broker = TestBroker::start().await;
    let persistent = |extra: Vec<Property>| {
        let mut properties = vec![Property::SessionExpiryInterval(600)];
        properties.extend(extra);
        let mut c = connect_of(Protocol::V5, "mps", properties);
        c.clean_session = false;
        c
    };
    let (mut c, _) = Client::accepted(broker.addr, persistent(Vec::new())).await;
    c.subscribe("mps/#", opts(QoS::AtLeastOnce)).await;
    drop(c);
    let mut publisher = Client::v5(broker.addr, "mps-pub").await;
    publisher.publish1("mps/t", &[b'x'; 300], false, Vec::new()).await;
    publisher.publish1("mps/t", b"small", false, Vec::new()).await;
    let small = vec![Property::MaximumPacketSize(NonZeroU32::new(100).unwrap())];
    let (mut back, _) = Client::accepted(broker.addr, persistent(small)).await;
    let got = back.sync().await;
    assert_eq!(publishes(&got), [b"small".to_vec()], "{got:?}");
    broker.stop().await;
}

/// A session expiry longer than `persistent_client_expiration` is shortened, and the CONNACK
/// says so (3.2.2.3.2).
#[tokio::test]
async fn a_shortened_session_expiry_is_told_in_connack() {
    let broker = TestBroker::with(|c| c.persistent_client_expiration = Some(Duration::from_hours(1))).await;
    let long = vec![Property::SessionExpiryInterval(86_400)];
    let (_c, p) = Client::accepted(broker.addr, connect_of(Protocol::V5, "long", long)).await;
    assert_eq!(p.get(PropertyId::SessionExpiryInterval), Some(&Property::SessionExpiryInterval(3600)), "{p:?}");
    let short = vec![Property::SessionExpiryInterval(60)];
    let (_d, p) = Client::accepted(broker.addr, connect_of(Protocol::V5, "short", short)).await;
    assert_eq!(p.get(PropertyId::SessionExpiryInterval), None, "60 s is within the cap: {p:?}");
    broker.stop().await;
}

/// A PUBLISH with more properties than this implementation keeps is refused (0x83), and the
/// broker serves the next client.
#[tokio::test]
async fn a_property_block_over_the_limit_is_refused() {
    let broker = TestBroker::start().await;
    let mut c = Client::v5(broker.addr, "many").await;
    // An empty user property is 5 bytes: 0x26, then two empty strings.
    let block: Vec<u8> = std::iter::repeat_n([0x26, 0, 0, 0, 0], MAX_PROPERTIES + 1).flatten().collect();
    let mut body = vec![0, 1, b't'];
    let mut len = block.len();
    loop {
        let byte = (len % 128) as u8;
        len /= 128;
        body.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    body.extend(block);
    let mut packet = vec![0x30];
    let mut len = body.len();
    loop {
        let byte = (len % 128) as u8;
        len /= 128;
        packet.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    packet.extend(body);
    c.send_raw(&packet).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::ImplementationSpecificError);
    let mut next = Client::v5(broker.addr, "next").await;
    next.expect_nothing().await;
    broker.stop().await;
}
