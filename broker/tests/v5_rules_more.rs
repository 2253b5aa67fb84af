//! MQTT 5.0 rules, one test each, on a real broker over TCP: subscription options and
//! identifiers, shared subscriptions, UNSUBACK, the broker's DISCONNECT, the client's Receive
//! Maximum and Maximum Packet Size, odd topics, AUTH, and 3.1.1 next to 5.0.

mod support;

use std::num::NonZeroU32;

use bytes::Bytes;
use mqtt_lab_broker::codec::v5::{PacketKind, Property, PropertyId, ReasonCode};
use mqtt_lab_broker::codec::{
    Ack, Auth, LastWill, Packet, Protocol, Publish, QoS, QosPid, RetainHandling, SubOptions, TopicName,
};
use support::TestBroker;
use support::v5client::{Client, connect_of, opts, props, publish_of};

fn nz32(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn ids(p: &Publish) -> Vec<u32> {
    let mut ids: Vec<u32> = p
        .properties
        .iter()
        .filter_map(|q| match q {
            Property::SubscriptionIdentifier(id) => Some(id.get()),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids
}

fn publishes(packets: Vec<Packet>) -> Vec<Publish> {
    packets
        .into_iter()
        .map(|p| match p {
            Packet::Publish(p) => p,
            other => panic!("expected only PUBLISH, got {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn no_local_skips_the_subscribers_own_messages_only() {
    let broker = TestBroker::start().await;
    let mut me = Client::v5(broker.addr, "nl-me").await;
    me.subscribe("nl/t", SubOptions { no_local: true, ..opts(QoS::AtMostOnce) }).await;
    // publish0 fails if anything but PINGRESP comes back [MQTT-3.8.3-3].
    me.publish0("nl/t", b"mine", Vec::new()).await;
    let mut other = Client::v5(broker.addr, "nl-other").await;
    other.publish0("nl/t", b"theirs", Vec::new()).await;
    assert_eq!(&me.recv_publish().await.payload[..], b"theirs");
    broker.stop().await;
}

#[tokio::test]
async fn retain_as_published_keeps_the_retain_flag_of_a_live_message() {
    let broker = TestBroker::start().await;
    let mut kept = Client::v5(broker.addr, "rap-1").await;
    kept.subscribe("rap/t", SubOptions { retain_as_published: true, ..opts(QoS::AtMostOnce) }).await;
    let mut plain = Client::v5(broker.addr, "rap-0").await;
    plain.subscribe("rap/t", opts(QoS::AtMostOnce)).await;
    let mut publisher = Client::v5(broker.addr, "rap-pub").await;
    publisher.send(&publish_of("rap/t", b"r", QosPid::AtMostOnce, true, Vec::new())).await;
    publisher.expect_nothing().await;
    assert!(kept.recv_publish().await.retain, "Retain As Published: RETAIN stays 1 (3.8.3.1)");
    assert!(!plain.recv_publish().await.retain, "[MQTT-3.3.1-12]: RETAIN 0 when forwarded live");
    broker.stop().await;
}

/// Subscribes twice to `rh/t` with `handling`; answers how many retained messages each got.
async fn retained_per_subscribe(broker: &TestBroker, id: &str, handling: RetainHandling) -> (usize, usize) {
    let mut c = Client::v5(broker.addr, id).await;
    let options = SubOptions { retain_handling: handling, ..opts(QoS::AtMostOnce) };
    let mut counts = [0, 0];
    for count in &mut counts {
        c.subscribe("rh/t", options).await;
        let got = publishes(c.sync().await);
        assert!(got.iter().all(|p| p.retain && &p.payload[..] == b"kept"), "{got:?}");
        *count = got.len();
    }
    (counts[0], counts[1])
}

#[tokio::test]
async fn retain_handling_0_sends_retained_always_1_for_a_new_subscription_2_never() {
    let broker = TestBroker::start().await;
    let mut publisher = Client::v5(broker.addr, "rh-pub").await;
    publisher.publish1("rh/t", b"kept", true, Vec::new()).await;
    assert_eq!(retained_per_subscribe(&broker, "rh-0", RetainHandling::OnSubscribe).await, (1, 1));
    assert_eq!(retained_per_subscribe(&broker, "rh-1", RetainHandling::OnNewSubscription).await, (1, 0));
    assert_eq!(retained_per_subscribe(&broker, "rh-2", RetainHandling::Never).await, (0, 0));
    broker.stop().await;
}

#[tokio::test]
async fn subscription_identifiers_come_with_each_matching_message_once() {
    let broker = TestBroker::start().await;
    let mut publisher = Client::v5(broker.addr, "sid-pub").await;
    publisher.publish1("sid/r", b"retained", true, Vec::new()).await;
    let mut c = Client::v5(broker.addr, "sid-sub").await;
    let sid = |n| vec![Property::SubscriptionIdentifier(nz32(n))];
    c.subscribe_with(&[("sid/a", opts(QoS::AtMostOnce))], sid(1)).await;
    c.subscribe_with(&[("sid/#", opts(QoS::AtMostOnce))], sid(2)).await;
    let retained = c.recv_publish().await;
    assert_eq!((&retained.payload[..], ids(&retained)), (&b"retained"[..], vec![2]), "the retained message");

    publisher.publish1("sid/a", b"both", false, Vec::new()).await;
    publisher.publish1("sid/b", b"one", false, Vec::new()).await;
    let got = publishes(c.sync().await);
    let seen: Vec<_> = got.iter().map(|p| (&p.payload[..], ids(p))).collect();
    // One copy for both subscriptions, with both identifiers [MQTT-3.3.4-3] [MQTT-3.3.4-4].
    assert_eq!(seen, [(&b"both"[..], vec![1, 2]), (&b"one"[..], vec![2])]);
    broker.stop().await;
}

#[tokio::test]
async fn shared_subscription_members_take_turns_a_v311_member_too() {
    let broker = TestBroker::start().await;
    let mut a = Client::v5(broker.addr, "share-a").await;
    a.subscribe("$share/g/a/#", opts(QoS::AtMostOnce)).await;
    let mut b = Client::v311(broker.addr, "share-b").await;
    b.subscribe("$share/g/a/#", opts(QoS::AtMostOnce)).await;
    let mut publisher = Client::v5(broker.addr, "share-pub").await;
    for i in 0..10 {
        publisher.publish1(&format!("a/{i}"), i.to_string().as_bytes(), false, Vec::new()).await;
    }
    let numbers = |got: Vec<Publish>| -> Vec<u8> { got.iter().map(|p| p.payload[0] - b'0').collect() };
    let of_a = numbers(publishes(a.sync().await));
    let of_b = numbers(publishes(b.sync().await));
    let (even, odd): (Vec<u8>, Vec<u8>) = (0..10).partition(|i| i % 2 == 0);
    // Each message exactly once, in turn (4.8.2).
    assert!((of_a == even && of_b == odd) || (of_a == odd && of_b == even), "a got {of_a:?}, b got {of_b:?}");
    broker.stop().await;
}

#[tokio::test]
async fn a_member_that_unsubscribes_gets_no_more_shared_messages() {
    let broker = TestBroker::start().await;
    let mut a = Client::v5(broker.addr, "leave-a").await;
    a.subscribe("$share/g/a/#", opts(QoS::AtMostOnce)).await;
    let mut b = Client::v5(broker.addr, "leave-b").await;
    b.subscribe("$share/g/a/#", opts(QoS::AtMostOnce)).await;
    assert_eq!(a.unsubscribe(&["$share/g/a/#"]).await, [ReasonCode::Success]);
    let mut publisher = Client::v5(broker.addr, "leave-pub").await;
    for i in 0..4 {
        publisher.publish1("a/x", &[i], false, Vec::new()).await;
    }
    a.expect_nothing().await;
    assert_eq!(publishes(b.sync().await).len(), 4);
    broker.stop().await;
}

#[tokio::test]
async fn a_shared_subscription_gets_no_retained_messages() {
    let broker = TestBroker::start().await;
    let mut publisher = Client::v5(broker.addr, "sr-pub").await;
    publisher.publish1("a/r", b"retained", true, Vec::new()).await;
    let mut c = Client::v5(broker.addr, "sr-sub").await;
    c.subscribe("$share/g/a/#", opts(QoS::AtMostOnce)).await;
    c.expect_nothing().await;
    // The retained message is there for a plain subscription.
    c.subscribe("a/#", opts(QoS::AtMostOnce)).await;
    assert!(c.recv_publish().await.retain);
    broker.stop().await;
}

#[tokio::test]
async fn unsuback_says_which_subscriptions_existed() {
    let broker = TestBroker::start().await;
    let mut c = Client::v5(broker.addr, "unsub").await;
    c.subscribe("u/a", opts(QoS::AtMostOnce)).await;
    let reasons = c.unsubscribe(&["u/a", "u/b", "u/a"]).await;
    assert_eq!(reasons, [ReasonCode::Success, ReasonCode::NoSubscriptionExisted, ReasonCode::NoSubscriptionExisted]);
    broker.stop().await;
}

#[tokio::test]
async fn a_taken_over_v5_connection_is_told_0x8e() {
    let broker = TestBroker::start().await;
    let mut first = Client::v5(broker.addr, "twice").await;
    let mut second = Client::v5(broker.addr, "twice").await;
    assert_eq!(first.expect_disconnect().await, ReasonCode::SessionTakenOver);
    second.expect_nothing().await;
    broker.stop().await;
}

#[tokio::test]
async fn a_packet_over_max_packet_size_is_disconnected_with_0x95() {
    let broker = TestBroker::with(|c| c.max_packet_size = 100).await;
    let (mut c, p) = Client::accepted(broker.addr, connect_of(Protocol::V5, "big", Vec::new())).await;
    let max = std::num::NonZeroU32::new(100).unwrap();
    assert_eq!(p.get(PropertyId::MaximumPacketSize), Some(&Property::MaximumPacketSize(max)), "{p:?}");
    c.publish0("big/t", &[b'x'; 50], Vec::new()).await;
    c.send(&publish_of("big/t", &[b'x'; 200], QosPid::AtMostOnce, false, Vec::new())).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::PacketTooLarge);
    broker.stop().await;
}

#[tokio::test]
async fn a_malformed_packet_is_disconnected_with_0x81() {
    let broker = TestBroker::start().await;
    let mut c = Client::v5(broker.addr, "malformed").await;
    // PUBLISH to "t" whose property length, 10, runs past the end of the packet.
    c.send_raw(&[0x30, 4, 0, 1, b't', 10]).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::MalformedPacket);
    assert!(broker.log_contains("[MQTT-2.2.2.1]"), "{}", broker.logs());
    broker.stop().await;
}

/// Connects a v5 client with a will, ends it with DISCONNECT `reason`; answers whether a
/// watcher got the will.
async fn will_after(reason: ReasonCode) -> bool {
    let broker = TestBroker::start().await;
    let mut watcher = Client::v5(broker.addr, "watcher").await;
    watcher.subscribe("will/#", opts(QoS::AtMostOnce)).await;
    let mut connect = connect_of(Protocol::V5, "mortal", Vec::new());
    let properties = props(PacketKind::Will, vec![Property::ContentType("text/plain".into())]);
    let topic = TopicName::new("will/mortal").unwrap();
    let payload = Bytes::from_static(b"gone");
    connect.will = Some(LastWill { topic, payload, qos: QoS::AtMostOnce, retain: false, properties });
    let (c, _) = Client::accepted(broker.addr, connect).await;
    // The will, if any, is routed before the socket closes.
    c.disconnect(reason).await;
    let got = publishes(watcher.sync().await);
    broker.stop().await;
    match &got[..] {
        [] => false,
        [will] => {
            assert_eq!(&will.payload[..], b"gone");
            assert_eq!(will.properties.as_slice(), [Property::ContentType("text/plain".into())]);
            true
        }
        more => panic!("one will at most: {more:?}"),
    }
}

#[tokio::test]
async fn disconnect_0x04_publishes_the_will_and_0x00_does_not() {
    assert!(will_after(ReasonCode::DisconnectWithWillMessage).await, "0x04 Disconnect with Will Message");
    assert!(!will_after(ReasonCode::Success).await, "[MQTT-3.1.2-10]: a normal DISCONNECT discards the will");
    // Only 0x00 removes the will [MQTT-3.1.2-10]; an error is no normal end (Mosquitto 2.0.11
    // discards it there too; README lists the difference).
    assert!(will_after(ReasonCode::UnspecifiedError).await, "0x80 Unspecified error");
}

#[tokio::test]
async fn receive_maximum_bounds_the_publishes_in_flight_to_a_client() {
    let broker = TestBroker::start().await;
    let two = vec![Property::ReceiveMaximum(std::num::NonZeroU16::new(2).unwrap())];
    let (mut sub, _) = Client::accepted(broker.addr, connect_of(Protocol::V5, "rm-sub", two)).await;
    sub.subscribe("rm/t", opts(QoS::AtLeastOnce)).await;
    let mut publisher = Client::v5(broker.addr, "rm-pub").await;
    for i in 0..5 {
        publisher.publish1("rm/t", &[i], false, Vec::new()).await;
    }
    let mut got = publishes(sub.sync().await);
    assert_eq!(got.len(), 2, "[MQTT-3.3.4-9]: Receive Maximum 2, nothing acknowledged yet: {got:?}");
    let mut order = Vec::new();
    while let Some(first) = (!got.is_empty()).then(|| got.remove(0)) {
        order.push(first.payload[0]);
        let pid = first.qos_pid.pid().expect("QoS 1");
        sub.send(&Packet::PubAck(Ack::new(pid))).await;
        // Each acknowledgement lets one more out, never more than 2 in flight.
        got.extend(publishes(sub.sync().await));
        assert!(got.len() <= 2, "{got:?}");
    }
    assert_eq!(order, [0, 1, 2, 3, 4]);
    broker.stop().await;
}

#[tokio::test]
async fn a_message_over_the_clients_maximum_packet_size_is_not_sent() {
    let broker = TestBroker::start().await;
    let small = vec![Property::MaximumPacketSize(nz32(100))];
    let (mut sub, _) = Client::accepted(broker.addr, connect_of(Protocol::V5, "mps-sub", small)).await;
    sub.subscribe("mps/t", opts(QoS::AtLeastOnce)).await;
    let mut publisher = Client::v5(broker.addr, "mps-pub").await;
    publisher.publish1("mps/t", &[b'x'; 200], false, Vec::new()).await;
    publisher.publish1("mps/t", b"small", false, Vec::new()).await;
    let got = publishes(sub.sync().await);
    let sizes: Vec<_> = got.iter().map(|p| p.payload.len()).collect();
    assert_eq!(sizes, [5], "[MQTT-3.1.2-25]: the large message is discarded, the next one sent");
    broker.stop().await;
}

#[tokio::test]
async fn topics_starting_with_a_multibyte_character_are_routed_from_v5_and_v311() {
    let broker = TestBroker::start().await;
    let mut all = Client::v5(broker.addr, "mb-all").await;
    all.subscribe("#", opts(QoS::AtMostOnce)).await;
    let mut one = Client::v311(broker.addr, "mb-one").await;
    one.subscribe("+/x", opts(QoS::AtMostOnce)).await;
    for protocol in [Protocol::V5, Protocol::V311] {
        let mut publisher = Client::accepted(broker.addr, connect_of(protocol, "mb-pub", Vec::new())).await.0;
        publisher.publish0("ü/x", b"1", Vec::new()).await;
        publisher.publish0("€", b"2", Vec::new()).await;
        let topics = |got: Vec<Publish>| -> Vec<String> { got.iter().map(|p| p.topic.as_str().to_owned()).collect() };
        assert_eq!(topics(publishes(all.sync().await)), ["ü/x", "€"], "{protocol}");
        assert_eq!(topics(publishes(one.sync().await)), ["ü/x"], "{protocol}");
    }
    let mut late = Client::v311(broker.addr, "mb-late").await;
    late.expect_nothing().await;
    broker.stop().await;
}

#[tokio::test]
async fn auth_on_a_v311_connection_closes_it() {
    let broker = TestBroker::start().await;
    let mut c = Client::v311(broker.addr, "auth-311").await;
    c.send_raw(&[0xF0, 0]).await;
    c.expect_closed().await;
    assert!(broker.log_contains("packet type 15 (AUTH)"), "{}", broker.logs());
    broker.stop().await;
}

#[tokio::test]
async fn auth_without_an_authentication_method_in_connect_is_disconnected_with_0x82() {
    let broker = TestBroker::start().await;
    let mut c = Client::v5(broker.addr, "auth-5").await;
    let method = props(PacketKind::Auth, vec![Property::AuthenticationMethod("SCRAM-SHA-256".into())]);
    c.send(&Packet::Auth(Auth { reason: ReasonCode::ContinueAuthentication, properties: method })).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::ProtocolError);
    assert!(broker.log_contains("[MQTT-4.12.0-7]"), "{}", broker.logs());
    broker.stop().await;
}

#[tokio::test]
async fn a_v311_publish_reaches_a_v5_subscriber_with_no_properties() {
    let broker = TestBroker::start().await;
    let mut sub = Client::v5(broker.addr, "mixed-sub").await;
    sub.subscribe("mixed/t", opts(QoS::AtMostOnce)).await;
    let mut publisher = Client::v311(broker.addr, "mixed-pub").await;
    publisher.publish0("mixed/t", b"old", Vec::new()).await;
    let (packet, bytes) = sub.recv_frame().await.expect("PUBLISH");
    let Packet::Publish(p) = packet else { panic!("expected PUBLISH, got {packet:?}") };
    assert!(p.properties.is_empty(), "{:?}", p.properties);
    // Topic, then a property length of 0, then the payload.
    assert_eq!(&bytes[..], b"\x30\x0d\x00\x07mixed/t\x00old");
    broker.stop().await;
}
