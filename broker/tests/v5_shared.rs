//! Shared subscriptions when a member leaves (MQTT 5.0 section 4.8.2): what it held through the
//! group and had not started to take goes to another member; a QoS 2 message it was being sent
//! stays with it [MQTT-4.8.2-4].

mod support;

use std::num::NonZeroU16;

use mqtt_lab_broker::codec::v5::Property;
use mqtt_lab_broker::codec::{Ack, Packet, Protocol, QoS, QosPid};
use support::TestBroker;
use support::v5client::{Client, connect_of, opts, publish_of};

/// A member with Receive Maximum 1 that never acknowledges: one message in flight, the rest
/// queued behind it.
async fn slow_member(broker: &TestBroker, id: &str, qos: QoS) -> Client {
    let properties = vec![Property::SessionExpiryInterval(3600), Property::ReceiveMaximum(NonZeroU16::new(1).unwrap())];
    let (mut c, _) = Client::accepted(broker.addr, connect_of(Protocol::V5, id, properties)).await;
    c.subscribe("$share/g/pv/#", opts(qos)).await;
    c
}

fn payloads(packets: &[Packet]) -> Vec<String> {
    packets
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(String::from_utf8_lossy(&p.payload).into_owned()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_members_qos_1_messages_go_to_another_member_when_it_leaves() {
    let broker = TestBroker::start().await;
    let mut slow = slow_member(&broker, "slow", QoS::AtLeastOnce).await;
    let mut other = Client::v5(broker.addr, "other").await;
    other.subscribe("$share/g/pv/#", opts(QoS::AtLeastOnce)).await;
    let mut publisher = Client::v5(broker.addr, "pub").await;
    for i in 1..=6 {
        publisher.publish1("pv/data", format!("m{i}").as_bytes(), false, Vec::new()).await;
    }
    // Turns: slow gets m1 (in flight), m3 and m5 (queued); other gets m2, m4, m6.
    let slow_got = payloads(&slow.sync().await);
    assert_eq!(slow_got, ["m1"], "Receive Maximum 1 holds the rest back");
    let mut other_got = payloads(&other.sync().await);
    assert_eq!(other_got, ["m2", "m4", "m6"]);
    drop(slow); // the socket closes without DISCONNECT; the session stays (expiry 3600)
    let wait = async {
        while other_got.len() < 6 {
            if let Packet::Publish(p) = other.recv().await {
                if let Some(pid) = p.qos_pid.pid() {
                    other.send(&Packet::PubAck(Ack::new(pid))).await;
                }
                other_got.push(String::from_utf8_lossy(&p.payload).into_owned());
            }
        }
    };
    tokio::time::timeout(support::PATIENCE, wait).await.expect("the slow member's messages reach the other");
    assert_eq!(other_got, ["m2", "m4", "m6", "m1", "m3", "m5"]);
    // Nothing is left for the slow member: it comes back to an empty queue.
    let (mut back, _) = Client::accepted(broker.addr, {
        let mut c = connect_of(Protocol::V5, "slow", vec![Property::SessionExpiryInterval(3600)]);
        c.clean_session = false;
        c
    })
    .await;
    assert_eq!(payloads(&back.sync().await), Vec::<String>::new());
    broker.stop().await;
}

#[tokio::test]
async fn a_qos_2_message_in_flight_stays_with_its_member() {
    let broker = TestBroker::start().await;
    let mut slow = slow_member(&broker, "slow2", QoS::ExactlyOnce).await;
    let mut other = Client::v5(broker.addr, "other2").await;
    other.subscribe("$share/g/pv/#", opts(QoS::ExactlyOnce)).await;
    let mut publisher = Client::v5(broker.addr, "pub2").await;
    for i in 1..=4 {
        let pid = publisher.pid();
        publisher
            .send(&publish_of("pv/data", format!("q{i}").as_bytes(), QosPid::ExactlyOnce(pid), false, Vec::new()))
            .await;
        let Packet::PubRec(_) = publisher.recv().await else { panic!("PUBREC") };
        publisher.send(&Packet::PubRel(Ack::new(pid))).await;
        let Packet::PubComp(_) = publisher.recv().await else { panic!("PUBCOMP") };
    }
    assert_eq!(payloads(&slow.sync().await), ["q1"]);
    let mut other_got = payloads(&other.sync().await);
    assert_eq!(other_got, ["q2", "q4"]);
    drop(slow);
    // q3 was only queued: it moves. q1 was being sent at QoS 2: it stays [MQTT-4.8.2-4].
    let wait = async {
        while other_got.len() < 3 {
            if let Packet::Publish(p) = other.recv().await {
                other_got.push(String::from_utf8_lossy(&p.payload).into_owned());
            }
        }
    };
    tokio::time::timeout(support::PATIENCE, wait).await.expect("q3 reaches the other member");
    assert_eq!(other_got, ["q2", "q4", "q3"]);
    let mut connect = connect_of(Protocol::V5, "slow2", vec![Property::SessionExpiryInterval(3600)]);
    connect.clean_session = false;
    let (mut back, _) = Client::accepted(broker.addr, connect).await;
    let resent = back.sync().await;
    let Some(Packet::Publish(p)) = resent.first() else { panic!("q1 again: {resent:?}") };
    assert_eq!((&p.payload[..], p.dup), (&b"q1"[..], true), "resent to the member it went to");
    assert_eq!(payloads(&resent), ["q1"]);
    broker.stop().await;
}
