//! MQTT 5 differential tests: Debian's Mosquitto 2.0.11 and our broker binary, the same
//! mosquitto.conf text, the same client bytes; the answers are compared byte for byte where
//! the spec leaves the broker a choice (reason codes of acks, CONNACK properties). Where we
//! differ on purpose, the test states both answers, so a change on either side shows.

mod support;

use mqtt_lab_broker::codec::v5::{Property, PropertyId, ReasonCode};
use mqtt_lab_broker::codec::{Ack, Packet, Protocol, QoS, QosPid};
use support::TempDir;
use support::brokers::{BrokerProcess, Kind, both};
use support::v5client::{Client, connect_of, opts, packet_id, publish_of};

/// The raw bytes of the next packet.
async fn answer(c: &mut Client) -> Vec<u8> {
    c.recv_frame().await.expect("an answer, not a close").1.to_vec()
}

/// Sends the same packets to `broker` and returns each answer's bytes.
async fn exchange(broker: &BrokerProcess) -> Vec<Vec<u8>> {
    let mut c = Client::v5(broker.addr(), "diff").await;
    let mut answers = Vec::new();
    // QoS 1 PUBLISH nobody subscribed to: PUBACK 0x10 No matching subscribers.
    c.send(&publish_of("PV/data", b"1.5", QosPid::AtLeastOnce(packet_id(1)), false, Vec::new())).await;
    answers.push(answer(&mut c).await);
    // QoS 2 PUBLISH nobody subscribed to: PUBREC 0x10; PUBREL then PUBCOMP.
    c.send(&publish_of("PV/data", b"1.5", QosPid::ExactlyOnce(packet_id(2)), false, Vec::new())).await;
    answers.push(answer(&mut c).await);
    c.send(&Packet::PubRel(Ack::new(packet_id(2)))).await;
    answers.push(answer(&mut c).await);
    // PUBREL for an id never received: PUBCOMP 0x92 Packet Identifier not found.
    c.send(&Packet::PubRel(Ack::new(packet_id(9)))).await;
    answers.push(answer(&mut c).await);
    // SUBSCRIBE at QoS 2, then UNSUBSCRIBE it and one that never existed.
    c.subscribe("PV/#", opts(QoS::ExactlyOnce)).await;
    let reasons = c.unsubscribe(&["PV/#", "never/subscribed"]).await;
    answers.push(reasons.iter().map(|r| *r as u8).collect());
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_reason_codes_are_mosquittos() {
    let dir = TempDir::new("v5-diff-acks");
    let [mosquitto, ours] = both(&dir, "listener PORT 127.0.0.1\nallow_anonymous true\n");
    // Mosquitto says "no matching subscribers" in a PUBACK but not in a PUBREC, and answers a
    // PUBREL for an id it never received with success. We say 0x10 in both acks, and 0x92
    // Packet Identifier not found (3.7.2.1) for the unknown id (README: differs on purpose).
    let theirs = exchange(&mosquitto).await;
    assert_eq!(
        theirs,
        [vec![0x40, 3, 0, 1, 0x10], vec![0x50, 2, 0, 2], vec![0x70, 2, 0, 2], vec![0x70, 2, 0, 9], vec![0x00, 0x11],],
        "Mosquitto's answers"
    );
    assert_eq!(
        exchange(&ours).await,
        [
            vec![0x40, 3, 0, 1, 0x10],
            vec![0x50, 3, 0, 2, 0x10],
            vec![0x70, 2, 0, 2],
            vec![0x70, 3, 0, 9, 0x92],
            vec![0x00, 0x11],
        ],
        "ours"
    );
}

/// The CONNACK of a plain MQTT 5 CONNECT: the same reason and flags; the same properties but
/// Receive Maximum, which is `max_inflight_messages`: Mosquitto's default 20, ours 100
/// (Config::max_inflight_messages says why). With the same `max_inflight_messages`, the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connack_properties_are_mosquittos_but_the_receive_maximum_default() {
    let dir = TempDir::new("v5-diff-connack");
    for (conf, ours_receive_max) in [("", 100), ("max_inflight_messages 20\n", 20)] {
        let conf = format!("listener PORT 127.0.0.1\nallow_anonymous true\n{conf}");
        let [mosquitto, ours] = both(&dir, &conf);
        let mut answers = Vec::new();
        for broker in [&mosquitto, &ours] {
            let (_c, ack) = Client::connect(broker.addr(), connect_of(Protocol::V5, "c", Vec::new())).await;
            assert_eq!((ack.session_present, ack.reason), (false, ReasonCode::Success), "{:?}", broker.kind);
            let mut properties: Vec<(PropertyId, Property)> =
                ack.properties.iter().map(|p| (p.id(), p.clone())).collect();
            properties.sort_by_key(|(id, _)| *id as u8);
            answers.push(properties.into_iter().map(|(_, p)| p).collect::<Vec<_>>());
        }
        let receive = |n: u16| Property::ReceiveMaximum(std::num::NonZeroU16::new(n).unwrap());
        assert_eq!(answers[0], [receive(20), Property::TopicAliasMaximum(10)], "Mosquitto");
        assert_eq!(answers[1], [receive(ours_receive_max), Property::TopicAliasMaximum(10)], "ours");
        drop((mosquitto, ours));
    }
}

/// `max_keepalive 60` and a client asking for 120, or for none (0): both serve it with Server
/// Keep Alive 60; an empty client id gets an Assigned Client Identifier from both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_keep_alive_and_assigned_client_identifier() {
    let dir = TempDir::new("v5-diff-keepalive");
    let [mosquitto, ours] = both(&dir, "listener PORT 127.0.0.1\nallow_anonymous true\nmax_keepalive 60\n");
    for (broker, asked) in [(&mosquitto, 120), (&ours, 120), (&mosquitto, 0), (&ours, 0)] {
        let mut connect = connect_of(Protocol::V5, "", Vec::new());
        connect.keep_alive = asked;
        let (_c, ack) = Client::connect(broker.addr(), connect).await;
        assert_eq!(ack.reason, ReasonCode::Success, "{:?}", broker.kind);
        assert_eq!(
            ack.properties.get(PropertyId::ServerKeepAlive),
            Some(&Property::ServerKeepAlive(60)),
            "{:?}",
            broker.kind
        );
        let assigned = match ack.properties.get(PropertyId::AssignedClientIdentifier) {
            Some(Property::AssignedClientIdentifier(id)) => id.clone(),
            other => panic!("{:?}: no Assigned Client Identifier: {other:?}", broker.kind),
        };
        assert!(assigned.starts_with("auto-"), "{:?}: {assigned}", broker.kind);
    }
    assert_eq!(mosquitto.kind, Kind::Mosquitto);
}
