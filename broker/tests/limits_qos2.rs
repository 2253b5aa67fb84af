//! Incoming QoS 2 held by a client (issue 24), through Debian's Mosquitto 2.0.11 and ours with
//! the same config text and client bytes: a PUBLISH resent with the same packet id before
//! PUBREL, over and over, and more unreleased ids than `max_inflight_messages`.
//!
//! Both answer a resend with PUBREC again and deliver the message once. Mosquitto 2.0.11
//! closes the connection at the second resend of one id (a protocol error, whatever
//! `max_inflight_messages`); the specification does not make it one, and a resend costs no
//! memory here (the id is held already), so we answer PUBREC every time. Past the limit they
//! differ on purpose too: Mosquitto 2.0.11 answers an MQTT 3.1.1 client PUBREC and drops the
//! message (the client believes it delivered), an MQTT 5.0 client PUBREC 0x97 Quota exceeded.
//! We take a 3.1.1 client's (3.1.1 sets no limit and has no way to tell one; the packet id
//! space bounds what it can hold here) and send an MQTT 5.0 one DISCONNECT 0x93 Receive
//! Maximum exceeded, as [MQTT-3.3.4-7] and 4.9 require; nothing is lost silently.

mod support;

use mqtt_lab_broker::codec::v5::{Property, PropertyId, ReasonCode};
use mqtt_lab_broker::codec::{Ack, Packet, Protocol, Publish, QoS, QosPid};
use support::brokers::{BrokerProcess, Kind, both};
use support::v5client::{Client, connect_of, opts, publish_of};
use support::{RawClient, TempDir, pid, publish};

const CONF: &str = "listener PORT 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 2\n";

/// A QoS 2 PUBLISH with packet id `n`, marked DUP when it is a resend.
fn qos2(payload: &[u8], n: u16, dup: bool) -> Packet {
    let Packet::Publish(mut p) = publish("lab/q2", payload, QosPid::ExactlyOnce(pid(n)), false) else { unreachable!() };
    p.dup = dup;
    Packet::Publish(p)
}

/// Everything a QoS 2 subscriber is sent, completing each flow so that what waits behind the
/// outgoing window (`max_inflight_messages 2`) comes too.
async fn everything(sub: &mut RawClient) -> Vec<String> {
    let mut got = Vec::new();
    let mut packets = sub.sync().await;
    while !packets.is_empty() {
        let mut next = Vec::new();
        for packet in packets {
            match packet {
                Packet::Publish(Publish { qos_pid: QosPid::ExactlyOnce(id), payload, .. }) => {
                    got.push(String::from_utf8_lossy(&payload).into_owned());
                    sub.send(Packet::PubRec(id.into())).await;
                }
                Packet::PubRel(ack) => sub.send(Packet::PubComp(ack.pid.into())).await,
                other => next.push(other),
            }
        }
        assert!(next.is_empty(), "unexpected {next:?}");
        packets = sub.sync().await;
    }
    got
}

fn payloads(packets: Vec<Packet>) -> Vec<String> {
    packets
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(String::from_utf8_lossy(&p.payload).into_owned()),
            _ => None,
        })
        .collect()
}

/// MQTT 3.1.1: id 1 sent, then resent up to 50 times while the connection lasts, then
/// released. Answers how many resends got PUBREC and what the subscriber got.
async fn resends(broker: &BrokerProcess) -> (usize, Vec<String>) {
    let mut sub = RawClient::connect(broker.addr(), "q2-sub").await;
    sub.subscribe(&[("lab/q2", QoS::ExactlyOnce)]).await;
    let mut publisher = RawClient::connect(broker.addr(), "q2-pub").await;
    publisher.send(qos2(b"one", 1, false)).await;
    assert_eq!(publisher.recv().await, Packet::PubRec(pid(1).into()), "{:?}", broker.kind);
    let mut answered = 0;
    for _ in 0..50 {
        publisher.send(qos2(b"one", 1, true)).await;
        match publisher.try_recv().await {
            Some(answer) => assert_eq!(answer, Packet::PubRec(pid(1).into()), "{:?}: a resend", broker.kind),
            None => break,
        }
        answered += 1;
    }
    if answered == 50 {
        publisher.send(Packet::PubRel(Ack::new(pid(1)))).await;
        assert_eq!(publisher.recv().await, Packet::PubComp(pid(1).into()), "{:?}", broker.kind);
    }
    (answered, payloads(sub.sync().await))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_qos2_publish_is_answered_and_delivered_once() {
    let dir = TempDir::new("limits-qos2-resend");
    let [mosquitto, ours] = both(&dir, CONF);
    // The second resend closes the connection before PUBREL: Mosquitto, which delivers at
    // PUBREL, never delivers it.
    assert_eq!(resends(&mosquitto).await, (1, Vec::new()), "Mosquitto 2.0.11");
    assert_eq!(resends(&ours).await, (50, vec!["one".to_owned()]), "ours");
}

/// MQTT 3.1.1: ids 1 and 2 sent, not released, then id 3. Answers the publisher's answer to id
/// 3 (`None`: closed) and what the subscriber got once the publisher released what it could.
async fn v311(broker: &BrokerProcess) -> (Option<Packet>, Vec<String>) {
    let mut sub = RawClient::connect(broker.addr(), "q2-sub").await;
    sub.subscribe(&[("lab/q2", QoS::ExactlyOnce)]).await;
    let mut publisher = RawClient::connect(broker.addr(), "q2-pub").await;
    publisher.send(qos2(b"one", 1, false)).await;
    assert_eq!(publisher.recv().await, Packet::PubRec(pid(1).into()), "{:?}", broker.kind);
    publisher.send(qos2(b"one", 1, true)).await;
    assert_eq!(publisher.recv().await, Packet::PubRec(pid(1).into()), "{:?}: a resend", broker.kind);
    publisher.send(qos2(b"two", 2, false)).await;
    assert_eq!(publisher.recv().await, Packet::PubRec(pid(2).into()), "{:?}", broker.kind);
    publisher.send(qos2(b"three", 3, false)).await;
    let third = publisher.try_recv().await;
    if third.is_some() {
        for n in 1..=3 {
            publisher.send(Packet::PubRel(Ack::new(pid(n)))).await;
            assert_eq!(publisher.recv().await, Packet::PubComp(pid(n).into()), "{:?}", broker.kind);
        }
    }
    (third, everything(&mut sub).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreleased_qos2_ids_are_bounded_mqtt_311() {
    let dir = TempDir::new("limits-qos2-311");
    let [mosquitto, ours] = both(&dir, CONF);
    let (third, got) = v311(&mosquitto).await;
    assert_eq!(third, Some(Packet::PubRec(pid(3).into())), "Mosquitto 2.0.11 acknowledges the third");
    assert_eq!(got, ["one", "two"], "Mosquitto 2.0.11: once each, and the third lost");
    let (third, got) = v311(&ours).await;
    assert_eq!(third, Some(Packet::PubRec(pid(3).into())), "ours acknowledges the third");
    assert_eq!(got, ["one", "two", "three"], "ours: once each, the third too");
}

/// MQTT 5.0: the same, with the Receive Maximum both tell in CONNACK.
async fn v5(broker: &BrokerProcess) -> (Packet, Vec<String>) {
    let mut sub = Client::v5(broker.addr(), "q2-sub5").await;
    sub.subscribe("lab/q2", opts(QoS::ExactlyOnce)).await;
    let (mut publisher, connack) =
        Client::accepted(broker.addr(), connect_of(Protocol::V5, "q2-pub5", Vec::new())).await;
    let receive_maximum = connack.get(PropertyId::ReceiveMaximum);
    assert!(
        matches!(receive_maximum, Some(Property::ReceiveMaximum(max)) if max.get() == 2),
        "{:?}: Receive Maximum {connack:?}",
        broker.kind
    );
    let send = |payload: &'static [u8], n: u16, dup: bool| {
        let Packet::Publish(mut p) = publish_of("lab/q2", payload, QosPid::ExactlyOnce(pid(n)), false, Vec::new())
        else {
            unreachable!()
        };
        p.dup = dup;
        Packet::Publish(p)
    };
    for (payload, n, dup) in [(&b"one"[..], 1, false), (b"one", 1, true), (b"two", 2, false)] {
        publisher.send(&send(payload, n, dup)).await;
        match publisher.recv().await {
            Packet::PubRec(ack) => {
                assert_eq!((ack.pid, ack.reason), (pid(n), ReasonCode::Success), "{:?}", broker.kind);
            }
            other => panic!("{:?}: expected PUBREC, got {other:?}", broker.kind),
        }
    }
    publisher.send(&send(b"three", 3, false)).await;
    let third = publisher.recv().await;
    if matches!(third, Packet::PubRec(_)) {
        for n in 1..=3 {
            publisher.send(&Packet::PubRel(Ack::new(pid(n)))).await;
            assert!(matches!(publisher.recv().await, Packet::PubComp(_)), "{:?}", broker.kind);
        }
    } else {
        publisher.expect_closed().await;
    }
    (third, payloads(sub.sync().await))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreleased_qos2_ids_are_bounded_mqtt_5() {
    let dir = TempDir::new("limits-qos2-5");
    for broker in both(&dir, CONF) {
        let (third, got) = v5(&broker).await;
        match broker.kind {
            Kind::Mosquitto => {
                let Packet::PubRec(ack) = third else { panic!("Mosquitto 2.0.11: {third:?}") };
                assert_eq!(ack.reason, ReasonCode::QuotaExceeded, "Mosquitto 2.0.11: PUBREC 0x97");
            }
            Kind::Ours => {
                let Packet::Disconnect(d) = third else { panic!("ours: {third:?}") };
                assert_eq!(d.reason, ReasonCode::ReceiveMaximumExceeded, "ours: DISCONNECT 0x93");
            }
        }
        assert_eq!(got, ["one", "two"], "{:?}: once each", broker.kind);
    }
}
