//! The router without sockets: sessions, takeover, retained messages, delivery QoS.

use crate::broker::wake::Wake;
use bytes::{Bytes, BytesMut};

use super::*;
use crate::codec::{Decoded, decode};

const LIMITS: Limits = Limits { max_inflight: 20, max_queued: 100, queue_qos0: false };

fn link(id: u64) -> Link {
    Link { id, wake: Arc::new(Wake::default()) }
}

fn out(r: &mut Router, client: &str) -> Vec<Packet> {
    let mut buf = BytesMut::new();
    r.session_mut(client).unwrap().write_outbox(&mut buf);
    let mut v = Vec::new();
    while let Ok(Decoded::Packet(p, n)) = decode(&buf, usize::MAX) {
        v.push(p);
        let _ = buf.split_to(n);
    }
    v
}

fn message(topic: &str, payload: &'static [u8], qos: QoS, retain: bool) -> Message {
    Message { topic: TopicName::new(topic).unwrap(), payload: Bytes::from_static(payload), qos, retain }
}

fn sub(r: &mut Router, client: &str, filter: &str, qos: QoS) {
    r.subscribe(client, PacketId::new(1).unwrap(), &[(TopicFilter::new(filter).unwrap(), qos)], None);
}

#[test]
fn a_takeover_closes_the_old_link_and_keeps_a_persistent_session() {
    let mut r = Router::new(LIMITS, None);
    assert_eq!(
        r.connect(Login { client_id: "c", username: None, clean_session: false, v311: true }, link(1)),
        Attached { session_present: false, took_over: false }
    );
    sub(&mut r, "c", "a", QoS::AtLeastOnce);
    let attached = r.connect(Login { client_id: "c", username: None, clean_session: false, v311: true }, link(2));
    assert_eq!(attached, Attached { session_present: true, took_over: true });
    assert!(!r.is_current("c", 1));
    r.disconnect("c", 1); // the old connection's late cleanup must not detach the new one
    assert!(r.is_current("c", 2));
    assert_eq!(r.figures().subscriptions, 1);
}

#[test]
fn clean_sessions_end_with_their_connection() {
    let mut r = Router::new(LIMITS, None);
    r.connect(Login { client_id: "c", username: None, clean_session: true, v311: true }, link(1));
    sub(&mut r, "c", "a/#", QoS::AtMostOnce);
    r.disconnect("c", 1);
    assert_eq!(r.figures().clients_total, 0);
    assert_eq!(r.figures().subscriptions, 0);
    let attached = r.connect(Login { client_id: "c", username: None, clean_session: false, v311: true }, link(2));
    assert!(!attached.session_present);
}

#[test]
fn retained_messages_reach_new_subscribers_with_retain_set_and_can_be_cleared() {
    let mut r = Router::new(LIMITS, None);
    r.publish(&message("PV/sunshine", b"yes", QoS::AtLeastOnce, true), None);
    r.connect(Login { client_id: "s", username: None, clean_session: true, v311: true }, link(1));
    out(&mut r, "s");
    sub(&mut r, "s", "PV/+", QoS::AtMostOnce);
    let packets = out(&mut r, "s");
    assert!(matches!(packets[0], Packet::SubAck(_)), "SUBACK comes before the retained message");
    let Packet::Publish(p) = &packets[1] else { panic!("{packets:?}") };
    assert!(p.retain);
    assert_eq!(p.qos(), QoS::AtMostOnce);
    r.publish(&message("PV/sunshine", b"", QoS::AtMostOnce, true), None);
    assert_eq!(r.figures().retained, 0);
    let live = out(&mut r, "s");
    let Packet::Publish(p) = &live[0] else { panic!("{live:?}") };
    assert!(!p.retain, "live subscribers get RETAIN=0");
}

#[test]
fn overlapping_subscriptions_deliver_once_at_the_maximum_qos() {
    let mut r = Router::new(LIMITS, None);
    r.connect(Login { client_id: "s", username: None, clean_session: true, v311: true }, link(1));
    sub(&mut r, "s", "PV/#", QoS::AtMostOnce);
    sub(&mut r, "s", "PV/data", QoS::ExactlyOnce);
    out(&mut r, "s");
    let routed = r.publish(&message("PV/data", b"3.2", QoS::ExactlyOnce, false), None);
    assert_eq!(routed.delivered, 1);
    let packets = out(&mut r, "s");
    assert_eq!(packets.len(), 1);
    let Packet::Publish(p) = &packets[0] else { panic!() };
    assert_eq!(p.qos(), QoS::ExactlyOnce);
}

#[test]
fn delivery_qos_is_the_lower_of_publish_and_subscription() {
    let mut r = Router::new(LIMITS, None);
    r.connect(Login { client_id: "s", username: None, clean_session: true, v311: true }, link(1));
    sub(&mut r, "s", "t", QoS::AtLeastOnce);
    out(&mut r, "s");
    r.publish(&message("t", b"x", QoS::ExactlyOnce, false), None);
    r.publish(&message("t", b"x", QoS::AtMostOnce, false), None);
    let qos: Vec<QoS> = out(&mut r, "s")
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => p.qos(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(qos, [QoS::AtLeastOnce, QoS::AtMostOnce]);
}
