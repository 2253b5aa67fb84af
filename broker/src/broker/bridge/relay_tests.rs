//! Each QoS flow through the relay, both ways, under one packet id on both sides; and what a
//! fresh relay does with what each side resends after a reconnect (the QoS 2 cases that a
//! relay numbering its own ids got wrong: a message lost, another delivered twice).

use bytes::Bytes;

use super::{Out, Relay};
use crate::codec::v5::{Properties, ReasonCode};
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

fn publish(name: &str, qos_pid: QosPid, retain: bool, dup: bool) -> Packet {
    Packet::Publish(Publish {
        dup,
        qos_pid,
        retain,
        topic: TopicName::new(name).unwrap(),
        payload: Bytes::from_static(b"7.5"),
        properties: Properties::default(),
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

fn local(r: &mut Relay, p: Packet) -> Vec<Out> {
    let mut out = Vec::new();
    r.on_local(p, &mut out);
    out
}

fn remote(r: &mut Relay, p: Packet) -> Vec<Out> {
    let mut out = Vec::new();
    r.on_remote(p, &mut out);
    out
}

#[test]
fn qos1_out_is_acknowledged_locally_only_after_the_remote_puback() {
    let mut r = relay();
    let out = local(&mut r, publish("PV/data", QosPid::AtLeastOnce(pid(9)), true, false));
    assert_eq!(out, [Out::Remote(publish("school/pi1/PV/data", QosPid::AtLeastOnce(pid(9)), true, false))]);
    assert_eq!(r.in_flight(), 1);
    assert_eq!(remote(&mut r, Packet::PubAck(Ack::new(pid(9)))), [Out::Local(Packet::PubAck(Ack::new(pid(9))))]);
    assert_eq!(r.in_flight(), 0);
}

#[test]
fn qos2_out_passes_each_step() {
    let mut r = relay();
    let out = local(&mut r, publish("PV/sunshine", QosPid::ExactlyOnce(pid(4)), false, false));
    assert_eq!(out, [Out::Remote(publish("school/pi1/PV/sunshine", QosPid::ExactlyOnce(pid(4)), false, false))]);
    assert_eq!(remote(&mut r, Packet::PubRec(Ack::new(pid(4)))), [Out::Local(Packet::PubRec(Ack::new(pid(4))))]);
    assert_eq!(local(&mut r, Packet::PubRel(Ack::new(pid(4)))), [Out::Remote(Packet::PubRel(Ack::new(pid(4))))]);
    assert_eq!(r.in_flight(), 1, "not done before PUBCOMP");
    assert_eq!(remote(&mut r, Packet::PubComp(Ack::new(pid(4)))), [Out::Local(Packet::PubComp(Ack::new(pid(4))))]);
    assert_eq!(r.in_flight(), 0);
}

#[test]
fn qos2_in_passes_each_step() {
    let mut r = relay();
    let out = remote(&mut r, publish("cmd/lamp/1", QosPid::ExactlyOnce(pid(300)), false, false));
    assert_eq!(out, [Out::Local(publish("esp/lamp/1", QosPid::ExactlyOnce(pid(300)), false, false))]);
    assert_eq!(local(&mut r, Packet::PubRec(Ack::new(pid(300)))), [Out::Remote(Packet::PubRec(Ack::new(pid(300))))]);
    assert_eq!(remote(&mut r, Packet::PubRel(Ack::new(pid(300)))), [Out::Local(Packet::PubRel(Ack::new(pid(300))))]);
    assert_eq!(local(&mut r, Packet::PubComp(Ack::new(pid(300)))), [Out::Remote(Packet::PubComp(Ack::new(pid(300))))]);
    assert_eq!((r.in_flight(), r.moved.came_in), (0, 1));
}

/// After a reconnect the remote resends an unreleased QoS 2 PUBLISH (DUP) and the PUBREL of
/// one the local broker has: a fresh relay passes both under their ids, so the local session
/// (which keeps its QoS 2 state) answers the resend without delivering it again, and a new
/// message cannot take the id of one still held there.
#[test]
fn a_fresh_relay_passes_resends_under_the_ids_both_sides_know() {
    let mut r = relay();
    let resent = remote(&mut r, publish("cmd/lamp/1", QosPid::ExactlyOnce(pid(8)), false, true));
    assert_eq!(resent, [Out::Local(publish("esp/lamp/1", QosPid::ExactlyOnce(pid(8)), false, true))]);
    assert_eq!(remote(&mut r, Packet::PubRel(Ack::new(pid(7)))), [Out::Local(Packet::PubRel(Ack::new(pid(7))))]);
    let new = remote(&mut r, publish("cmd/lamp/1", QosPid::ExactlyOnce(pid(9)), false, false));
    assert_eq!(new, [Out::Local(publish("esp/lamp/1", QosPid::ExactlyOnce(pid(9)), false, false))]);
    // Out: the local session resends a PUBLISH the remote may have (DUP kept) and the PUBREL
    // of one the remote received.
    let again = local(&mut r, publish("PV/data", QosPid::ExactlyOnce(pid(3)), false, true));
    assert_eq!(again, [Out::Remote(publish("school/pi1/PV/data", QosPid::ExactlyOnce(pid(3)), false, true))]);
    assert_eq!(local(&mut r, Packet::PubRel(Ack::new(pid(2)))), [Out::Remote(Packet::PubRel(Ack::new(pid(2))))]);
}

#[test]
fn qos1_in_and_qos0_both_ways() {
    let mut r = relay();
    let out = remote(&mut r, publish("cmd/lamp/2", QosPid::AtLeastOnce(pid(7)), true, false));
    assert_eq!(out, [Out::Local(publish("esp/lamp/2", QosPid::AtLeastOnce(pid(7)), true, false))]);
    assert_eq!(local(&mut r, Packet::PubAck(Ack::new(pid(7)))), [Out::Remote(Packet::PubAck(Ack::new(pid(7))))]);
    let chat = local(&mut r, publish("chat/a", QosPid::AtMostOnce, false, false));
    assert_eq!(chat, [Out::Remote(publish("chat/a", QosPid::AtMostOnce, false, false))]);
    let back = remote(&mut r, publish("chat/b", QosPid::AtMostOnce, false, false));
    assert_eq!(back, [Out::Local(publish("chat/b", QosPid::AtMostOnce, false, false))]);
}

#[test]
fn a_message_no_line_maps_is_answered_by_the_relay_to_the_end() {
    let mut r = relay();
    let old = local(&mut r, publish("old/topic", QosPid::ExactlyOnce(pid(3)), false, false));
    assert_eq!(old, [Out::Local(Packet::PubRec(Ack::new(pid(3))))]);
    assert_eq!(local(&mut r, Packet::PubRel(Ack::new(pid(3)))), [Out::Local(Packet::PubComp(Ack::new(pid(3))))]);
    let stray = remote(&mut r, publish("PV/x", QosPid::ExactlyOnce(pid(5)), false, false));
    assert_eq!(stray, [Out::Remote(Packet::PubRec(Ack::new(pid(5))))]);
    assert_eq!(remote(&mut r, Packet::PubRel(Ack::new(pid(5)))), [Out::Remote(Packet::PubComp(Ack::new(pid(5))))]);
    assert_eq!(r.moved.out + r.moved.came_in, 0);
}

#[test]
fn the_bridges_own_packets_take_ids_from_the_top_and_its_acks_stay_with_it() {
    let mut r = Relay::new(vec![topic("a/#", Direction::Out, "", "")], false, Protocol::V5);
    let state =
        r.own_publish(TopicName::new("$SYS/broker/connection/pi1/state").unwrap(), Bytes::from_static(b"1"), true);
    let Packet::Publish(Publish { qos_pid: QosPid::AtLeastOnce(own), .. }) = state else { panic!("{state:?}") };
    assert_eq!(own, pid(u16::MAX));
    // A local message in flight under 65534 is skipped; the own PUBACK is not passed on.
    local(&mut r, publish("a/1", QosPid::AtLeastOnce(pid(u16::MAX - 1)), true, false));
    assert_eq!(r.own_pid(), pid(u16::MAX - 2));
    assert!(remote(&mut r, Packet::PubAck(Ack::new(own))).is_empty());
    // MQTT 5 remote: a refusal's reason code goes through; RETAIN cleared (outgoing_retain false).
    let refused = local(&mut r, Packet::PubAck(Ack::with_reason(pid(4), ReasonCode::QuotaExceeded)));
    assert_eq!(refused, [Out::Remote(Packet::PubAck(Ack::with_reason(pid(4), ReasonCode::QuotaExceeded)))]);
    let out = local(&mut r, publish("a/2", QosPid::AtLeastOnce(pid(2)), true, false));
    assert_eq!(out, [Out::Remote(publish("a/2", QosPid::AtLeastOnce(pid(2)), false, false))]);
}
