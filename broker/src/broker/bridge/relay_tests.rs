//! Each QoS flow across the relay, both ways, with its acknowledgements held until the other
//! side has the message; topics mapped by raw prefixes.

use bytes::Bytes;

use super::{Out, Relay};
use crate::codec::{Ack, Packet, PacketId, Protocol, Publish, QoS, QosPid, TopicName};
use crate::config::bridge::{BridgeTopic, Direction};

fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn topic(pattern: &str, direction: Direction, local: &str, remote: &str) -> BridgeTopic {
    BridgeTopic {
        pattern: pattern.into(),
        direction,
        qos: QoS::ExactlyOnce,
        local_prefix: local.into(),
        remote_prefix: remote.into(),
    }
}

fn publish(name: &str, qos_pid: QosPid, retain: bool) -> Packet {
    Packet::Publish(Publish {
        dup: false,
        qos_pid,
        retain,
        topic: TopicName::new(name).unwrap(),
        payload: Bytes::from_static(b"7.5"),
        properties: mqtt_props(),
    })
}

fn relay() -> Relay {
    Relay::new(
        vec![
            topic("PV/#", Direction::Out, "", "school/pi1/"),
            topic("lamp/#", Direction::In, "esp/", "cmd/"),
            topic("chat/#", Direction::Both, "", ""),
        ],
        true,
        Protocol::V311,
    )
}

fn from_local(r: &mut Relay, p: Packet) -> Vec<Out> {
    let mut out = Vec::new();
    r.on_local(p, &mut out);
    out
}

fn from_remote(r: &mut Relay, p: Packet) -> Vec<Out> {
    let mut out = Vec::new();
    r.on_remote(p, &mut out);
    out
}

#[test]
fn qos1_out_is_acknowledged_locally_only_after_the_remote_puback() {
    let mut r = relay();
    let out = from_local(&mut r, publish("PV/data", QosPid::AtLeastOnce(pid(9)), true));
    assert_eq!(out, [Out::Remote(publish("school/pi1/PV/data", QosPid::AtLeastOnce(pid(1)), true))]);
    assert_eq!(r.in_flight(), 1);
    assert_eq!(from_remote(&mut r, Packet::PubAck(Ack::new(pid(1)))), [Out::Local(Packet::PubAck(Ack::new(pid(9))))]);
    assert_eq!(r.in_flight(), 0);
    // A second PUBACK for the same id is nobody's.
    assert!(from_remote(&mut r, Packet::PubAck(Ack::new(pid(1)))).is_empty());
}

#[test]
fn qos2_out_completes_remotely_before_the_local_pubrec() {
    let mut r = relay();
    let out = from_local(&mut r, publish("PV/sunshine", QosPid::ExactlyOnce(pid(4)), false));
    assert_eq!(out, [Out::Remote(publish("school/pi1/PV/sunshine", QosPid::ExactlyOnce(pid(1)), false))]);
    assert_eq!(from_remote(&mut r, Packet::PubRec(Ack::new(pid(1)))), [Out::Remote(Packet::PubRel(Ack::new(pid(1))))]);
    assert_eq!(r.in_flight(), 1, "not done before PUBCOMP");
    assert_eq!(from_remote(&mut r, Packet::PubComp(Ack::new(pid(1)))), [Out::Local(Packet::PubRec(Ack::new(pid(4))))]);
    assert_eq!(from_local(&mut r, Packet::PubRel(Ack::new(pid(4)))), [Out::Local(Packet::PubComp(Ack::new(pid(4))))]);
    assert_eq!(r.in_flight(), 0);
}

#[test]
fn qos2_in_is_pubrecd_to_the_remote_once_the_local_broker_completed_it() {
    let mut r = relay();
    let out = from_remote(&mut r, publish("cmd/lamp/1", QosPid::ExactlyOnce(pid(300)), false));
    assert_eq!(out, [Out::Local(publish("esp/lamp/1", QosPid::ExactlyOnce(pid(1)), false))]);
    // The remote sends it again before we answered: not delivered twice.
    assert!(from_remote(&mut r, publish("cmd/lamp/1", QosPid::ExactlyOnce(pid(300)), false)).is_empty());
    assert_eq!(from_local(&mut r, Packet::PubRec(Ack::new(pid(1)))), [Out::Local(Packet::PubRel(Ack::new(pid(1))))]);
    assert_eq!(
        from_local(&mut r, Packet::PubComp(Ack::new(pid(1)))),
        [Out::Remote(Packet::PubRec(Ack::new(pid(300))))]
    );
    // Resent after our PUBREC (it was lost): answered again, still not delivered.
    let again = from_remote(&mut r, publish("cmd/lamp/1", QosPid::ExactlyOnce(pid(300)), false));
    assert_eq!(again, [Out::Remote(Packet::PubRec(Ack::new(pid(300))))]);
    assert_eq!(
        from_remote(&mut r, Packet::PubRel(Ack::new(pid(300)))),
        [Out::Remote(Packet::PubComp(Ack::new(pid(300))))]
    );
    assert_eq!(r.moved.came_in, 1);
}

#[test]
fn qos1_in_and_qos0_both_ways() {
    let mut r = relay();
    let out = from_remote(&mut r, publish("cmd/lamp/2", QosPid::AtLeastOnce(pid(7)), true));
    assert_eq!(out, [Out::Local(publish("esp/lamp/2", QosPid::AtLeastOnce(pid(1)), true))]);
    assert_eq!(from_local(&mut r, Packet::PubAck(Ack::new(pid(1)))), [Out::Remote(Packet::PubAck(Ack::new(pid(7))))]);
    assert_eq!(
        from_local(&mut r, publish("chat/a", QosPid::AtMostOnce, false)),
        [Out::Remote(publish("chat/a", QosPid::AtMostOnce, false))]
    );
    assert_eq!(
        from_remote(&mut r, publish("chat/b", QosPid::AtMostOnce, false)),
        [Out::Local(publish("chat/b", QosPid::AtMostOnce, false))]
    );
}

#[test]
fn a_message_no_line_maps_is_acknowledged_and_dropped() {
    let mut r = relay();
    // Local: an out-of-config subscription left in a persistent session.
    assert_eq!(
        from_local(&mut r, publish("old/topic", QosPid::AtLeastOnce(pid(3)), false)),
        [Out::Local(Packet::PubAck(Ack::new(pid(3))))]
    );
    // Remote: `lamp/#` is in only, so `esp/...` would be out; remote `PV/x` is not bridged in.
    assert_eq!(
        from_remote(&mut r, publish("PV/x", QosPid::ExactlyOnce(pid(5)), false)),
        [Out::Remote(Packet::PubRec(Ack::new(pid(5))))]
    );
    assert_eq!(r.moved.out + r.moved.came_in, 0);
}

#[test]
fn outgoing_retain_false_clears_the_flag_and_pids_skip_those_in_use() {
    let mut r = Relay::new(vec![topic("a/#", Direction::Out, "", "")], false, Protocol::V5);
    let first = from_local(&mut r, publish("a/1", QosPid::AtLeastOnce(pid(1)), true));
    assert_eq!(first, [Out::Remote(publish("a/1", QosPid::AtLeastOnce(pid(1)), false))]);
    for _ in 0..u16::MAX - 1 {
        r.remote_pid();
    }
    // The counter wrapped to 1, which is still in flight: 2 is used instead.
    let second = from_local(&mut r, publish("a/2", QosPid::AtLeastOnce(pid(2)), false));
    assert_eq!(second, [Out::Remote(publish("a/2", QosPid::AtLeastOnce(pid(2)), false))]);
}

fn mqtt_props() -> crate::codec::v5::Properties {
    crate::codec::v5::Properties::default()
}
