//! Byte limits and the `memory_limit` count on a session, without sockets.

use super::*;

fn msg(n: u8, len: usize, qos: QoS) -> Message {
    let mut payload = vec![b'x'; len];
    payload[0] = n;
    Message::new(TopicName::new("PV/data").unwrap(), Bytes::from(payload), qos, false)
}

fn online(limits: Limits) -> Session {
    let mut s = Session::new("c".into(), false, limits);
    s.attach(Link { id: 1, wake: Arc::new(Wake::default()) });
    s
}

/// The byte sums agree with the messages held.
fn assert_sums(s: &Session) {
    let inflight: usize = s.flows.iter().flat_map(|f| &f.inflight).map(|i| i.held.message.payload.len()).sum();
    let queued: usize = s.flows.iter().flat_map(|f| &f.queue).map(|h| h.message.payload.len()).sum();
    assert_eq!((s.inflight_bytes(), s.queued_bytes()), (inflight, queued));
}

#[test]
fn max_inflight_bytes_lets_a_message_go_while_fewer_bytes_are_in_flight() {
    let mut s = online(Limits { max_inflight_bytes: 10, ..Limits::NONE });
    let outcomes: Vec<_> =
        (1..=3).map(|n| s.deliver(&msg(n, 8, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[])).collect();
    assert_eq!(outcomes, [Delivery::Sent, Delivery::Sent, Delivery::Queued]);
    assert_eq!((s.inflight_bytes(), s.queued_bytes()), (16, 8));
    assert!(s.on_puback(PacketId::new(1).unwrap()));
    assert_eq!((s.inflight_bytes(), s.queued_bytes()), (16, 0), "the third went out");
    // A message larger than the limit goes, alone.
    let mut s = online(Limits { max_inflight_bytes: 10, ..Limits::NONE });
    let outcomes: Vec<_> =
        (1..=2).map(|n| s.deliver(&msg(n, 50, QoS::ExactlyOnce), QoS::ExactlyOnce, false, &[])).collect();
    assert_eq!(outcomes, [Delivery::Sent, Delivery::Queued]);
    assert_sums(&s);
}

#[test]
fn max_queued_bytes_drops_for_an_offline_client_once_reached() {
    let mut s = Session::new("c".into(), false, Limits { max_queued_bytes: 20, ..Limits::NONE });
    let outcomes: Vec<_> =
        (1..=5).map(|n| s.deliver(&msg(n, 8, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[])).collect();
    assert_eq!(outcomes, [Delivery::Queued, Delivery::Queued, Delivery::Queued, Delivery::Dropped, Delivery::Dropped]);
    assert_eq!(s.queued_bytes(), 24);
    s.attach(Link { id: 1, wake: Arc::new(Wake::default()) });
    assert_eq!((s.inflight_bytes(), s.queued_bytes()), (24, 0), "all in flight on return");
    assert_sums(&s);
}

#[test]
fn queued_qos0_messages_count_toward_the_queue_limits() {
    let limits = Limits { queue_qos0: true, max_queued_bytes: 20, ..Limits::NONE };
    let mut s = Session::new("c".into(), false, limits);
    let outcomes: Vec<_> =
        (1..=4).map(|n| s.deliver(&msg(n, 8, QoS::AtMostOnce), QoS::AtMostOnce, false, &[])).collect();
    assert_eq!(outcomes, [Delivery::Queued, Delivery::Queued, Delivery::Queued, Delivery::Dropped]);
}

#[test]
fn held_payloads_count_toward_memory_until_they_are_dropped() {
    let memory = Memory::leaked(1000).unwrap();
    let limits = Limits { max_inflight: 1, memory: Some(memory), ..Limits::NONE };
    let mut s = online(limits);
    for n in 1..=3 {
        s.deliver(&msg(n, 100, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[]);
    }
    assert_eq!(memory.held(), 300, "one in flight, two queued");
    assert!(memory.would_exceed(701) && !memory.would_exceed(700));
    assert!(s.on_puback(PacketId::new(1).unwrap()));
    assert_eq!(memory.held(), 200);
    // A QoS 0 message to a live client is not held.
    s.deliver(&msg(9, 100, QoS::AtMostOnce), QoS::AtMostOnce, false, &[]);
    assert_eq!(memory.held(), 200);
    drop(s);
    assert_eq!(memory.held(), 0, "a session that ends gives everything back");
}

#[test]
fn shared_messages_handed_over_leave_the_sums_right() {
    let mut s = online(Limits { max_inflight: 1, max_queued_bytes: 1000, ..Limits::NONE });
    let share: Arc<str> = "$share/g/PV/#".into();
    for n in 1..=3 {
        s.deliver_via(&msg(n, 10, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[], Some(&share));
    }
    assert_eq!((s.inflight_bytes(), s.queued_bytes()), (10, 20));
    s.detach();
    assert_eq!(s.take_shared().len(), 3);
    assert_eq!((s.inflight_bytes(), s.queued_bytes()), (0, 0));
}

#[test]
fn a_restored_retained_message_is_charged_and_keeps_its_user_name() {
    use crate::broker::{Origin, Retained};
    let memory = Memory::leaked(1000).unwrap();
    let origin = Origin::default().with_username(Some("alice".into()));
    let r = Retained { message: msg(1, 100, QoS::AtMostOnce), origin }.charged(Some(memory));
    assert_eq!((memory.held(), r.origin.username()), (100, Some("alice")));
    let copy = r.clone();
    assert_eq!(memory.held(), 200, "a copy is held too");
    drop((r, copy));
    assert_eq!(memory.held(), 0);
}
