//! The session state machine, without sockets.

use bytes::BytesMut;

use super::*;
use crate::codec::{Decoded, decode};

const LIMITS: Limits = Limits { max_inflight: 2, max_queued: 3, ..Limits::NONE };

fn msg(n: u8, qos: QoS) -> Message {
    Message::new(TopicName::new("PV/data").unwrap(), Bytes::from(vec![n]), qos, false)
}

fn online(limits: Limits) -> Session {
    let mut s = Session::new("c".into(), false, limits);
    s.attach(Link { id: 1, wake: Arc::new(Wake::default()) });
    s
}

fn drain(s: &mut Session) -> Vec<Packet> {
    let mut buf = BytesMut::new();
    s.write_outbox(&mut buf);
    let mut out = Vec::new();
    while let Ok(Decoded::Packet(p, n)) = decode(&buf, usize::MAX, Protocol::V311) {
        out.push(p);
        let _ = buf.split_to(n);
    }
    out
}

fn pid(p: &Packet) -> u16 {
    match p {
        Packet::Publish(p) => p.qos_pid.pid().map_or(0, PacketId::get),
        Packet::PubRel(ack) => ack.pid.get(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_inflight_window_holds_back_messages_until_acknowledged() {
    let mut s = online(LIMITS);
    let outcomes: Vec<_> = (0..4).map(|n| s.deliver(&msg(n, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[])).collect();
    assert_eq!(outcomes, [Delivery::Sent, Delivery::Sent, Delivery::Queued, Delivery::Queued]);
    let sent = drain(&mut s);
    assert_eq!(sent.iter().map(pid).collect::<Vec<_>>(), [1, 2]);
    assert!(s.on_puback(PacketId::new(1).unwrap()));
    assert_eq!(drain(&mut s).iter().map(pid).collect::<Vec<_>>(), [3]);
    assert!(!s.on_puback(PacketId::new(1).unwrap()), "a second PUBACK for the same id is not expected");
}

#[tokio::test]
async fn over_the_queue_limit_a_live_client_holds_publishers_back_and_a_stalled_one_drops() {
    use Delivery::{Backlogged, Queued, Sent};
    let mut s = online(LIMITS);
    let publisher = Arc::new(Wake::default());
    let outcomes: Vec<_> = (0..7).map(|n| s.deliver(&msg(n, QoS::ExactlyOnce), QoS::ExactlyOnce, false, &[])).collect();
    assert_eq!(outcomes, [Sent, Sent, Queued, Queued, Queued, Backlogged, Backlogged]);
    assert!(s.congested());
    s.wait_for_room(&publisher);
    // Stalled: publishers are let go and what goes over the limit is dropped.
    s.mark_stalled();
    assert!(!s.congested());
    assert!(publisher.take_notified(), "the publisher is woken");
    assert_eq!(s.deliver(&msg(7, QoS::ExactlyOnce), QoS::ExactlyOnce, false, &[]), Delivery::Dropped);
    assert_eq!(s.stored_messages().count(), 7, "nothing taken was dropped");
    // Draining to half the queue limit ends the backlog and the stall.
    let mut pids: Vec<u16> = drain(&mut s).iter().map(pid).collect();
    for _ in 0..4 {
        let p = PacketId::new(pids.remove(0)).unwrap();
        assert!(s.on_pubrec(p));
        assert!(s.on_pubcomp(p));
        pids.extend(drain(&mut s).iter().filter(|p| matches!(p, Packet::Publish(_))).map(pid));
    }
    assert_eq!(s.deliver(&msg(8, QoS::ExactlyOnce), QoS::ExactlyOnce, false, &[]), Delivery::Queued);
}

#[test]
fn qos0_to_a_live_client_backlogs_over_the_outbox_cap() {
    let mut s = online(LIMITS);
    let outcomes: Vec<_> = (0..7).map(|n| s.deliver(&msg(n, QoS::AtMostOnce), QoS::AtMostOnce, false, &[])).collect();
    assert_eq!(outcomes[4..], [Delivery::Sent, Delivery::Backlogged, Delivery::Backlogged], "the cap is 3 + 2");
    assert!(s.congested());
    assert_eq!(drain(&mut s).len(), 7);
    assert!(!s.congested(), "an emptied outbox ends the backlog");
}

#[test]
fn qos2_outbound_flow_sends_pubrel_then_frees_the_slot_on_pubcomp() {
    let mut s = online(LIMITS);
    s.deliver(&msg(0, QoS::ExactlyOnce), QoS::ExactlyOnce, false, &[]);
    drain(&mut s);
    let one = PacketId::new(1).unwrap();
    assert!(!s.on_pubcomp(one), "PUBCOMP before PUBREC is not accepted");
    assert!(s.on_pubrec(one));
    assert_eq!(drain(&mut s), [Packet::PubRel(one.into())]);
    assert!(s.on_pubcomp(one));
    assert_eq!(s.stored_messages().count(), 0);
}

#[test]
fn reconnect_resends_unacknowledged_messages_with_dup_and_pubrel_for_received_ones() {
    let mut s = online(LIMITS);
    s.deliver(&msg(0, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[]);
    s.deliver(&msg(1, QoS::ExactlyOnce), QoS::ExactlyOnce, false, &[]);
    drain(&mut s);
    s.on_pubrec(PacketId::new(2).unwrap());
    s.detach();
    s.deliver(&msg(2, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[]);
    s.attach(Link { id: 2, wake: Arc::new(Wake::default()) });
    let resent = drain(&mut s);
    let Packet::Publish(first) = &resent[0] else { panic!("{resent:?}") };
    assert!(first.dup);
    assert_eq!(first.qos_pid.pid().unwrap().get(), 1);
    assert_eq!(resent[1], Packet::PubRel(PacketId::new(2).unwrap().into()));
    assert_eq!(resent.len(), 2, "the window of 2 is full: message 2 stays queued");
}

#[test]
fn outbound_packet_ids_wrap_from_65535_to_1_skipping_ids_in_use() {
    let mut s = online(Limits::NONE);
    s.deliver(&msg(0, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[]); // takes id 1, never acked
    let mut last = 0;
    for n in 0..65535u32 {
        s.deliver(&msg(0, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[]);
        let sent = drain(&mut s);
        last = pid(sent.last().unwrap());
        if n < 65534 {
            s.on_puback(PacketId::new(last).unwrap());
        }
    }
    assert_eq!(last, 2, "after 65535 comes 1, which is still in flight, so 2");
}

#[test]
fn a_repeated_qos2_publish_is_routed_once() {
    let mut s = online(LIMITS);
    let id = PacketId::new(9).unwrap();
    assert!(s.on_incoming_qos2(id));
    assert!(!s.on_incoming_qos2(id));
    s.on_pubrel(id);
    assert!(s.on_incoming_qos2(id), "after PUBREL the id is free again");
}

#[test]
fn a_persistent_session_journals_every_step_of_its_stored_messages() {
    use crate::store::{Change, Entry, Journal};
    let (journal, entries) = Journal::channel();
    let mut s = online(LIMITS);
    s.set_journal(Some(journal));
    s.deliver(&msg(7, QoS::ExactlyOnce), QoS::ExactlyOnce, false, &[]);
    let one = PacketId::new(1).unwrap();
    s.on_pubrec(one);
    s.on_pubrec(one); // a repeated PUBREC changes nothing durable
    s.on_pubcomp(one);
    s.on_incoming_qos2(one);
    s.on_pubrel(one);
    let changes: Vec<String> = entries
        .try_iter()
        .map(|e| match e {
            Entry::Change(c) => match c {
                Change::Stored { seq, .. } => format!("stored {seq}"),
                Change::Sent { seq, pid, .. } => format!("sent {seq} as {pid}"),
                Change::Received { seq, .. } => format!("received {seq}"),
                Change::Done { seq, .. } => format!("done {seq}"),
                Change::IncomingQos2 { pid, present, .. } => format!("incoming {pid} {present}"),
                other => format!("{other:?}"),
            },
            Entry::Release { packet, .. } => format!("then write {}", packet.packet_type()),
            Entry::Sync(_) => "sync".into(),
        })
        .collect();
    // Each packet is written only after the change it depends on is saved.
    assert_eq!(
        changes,
        [
            "stored 1",
            "sent 1 as 1",
            "then write PUBLISH",
            "received 1",
            "then write PUBREL",
            "then write PUBREL",
            "done 1",
            "incoming 1 true",
            "incoming 1 false"
        ]
    );
}

#[test]
fn offline_sessions_queue_qos1_and_drop_qos0() {
    let mut s = Session::new("c".into(), false, LIMITS);
    assert_eq!(s.deliver(&msg(0, QoS::AtMostOnce), QoS::AtMostOnce, false, &[]), Delivery::Dropped);
    assert_eq!(s.deliver(&msg(1, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[]), Delivery::Queued);
}

#[test]
fn the_qos_state_is_allocated_only_while_something_is_held() {
    let mut s = online(LIMITS);
    assert!(s.flows.is_none(), "an idle session holds no QoS state");
    s.deliver(&msg(0, QoS::AtMostOnce), QoS::AtMostOnce, false, &[]);
    assert!(s.flows.is_none(), "QoS 0 needs none");
    s.deliver(&msg(1, QoS::AtLeastOnce), QoS::AtLeastOnce, false, &[]);
    assert!(s.flows.is_some());
    let sent = drain(&mut s);
    assert!(s.on_puback(PacketId::new(pid(&sent[1])).unwrap()));
    assert!(s.flows.is_none(), "freed once acknowledged");
    assert!(s.on_incoming_qos2(PacketId::new(9).unwrap()));
    assert!(!s.on_incoming_qos2(PacketId::new(9).unwrap()), "a resend is still recognised");
    s.on_pubrel(PacketId::new(9).unwrap());
    assert!(s.flows.is_none());
}

#[test]
fn packets_taken_out_and_encoded_apart_come_out_as_the_in_place_encoding_and_each_queue_stays_put() {
    let fill = |s: &mut Session| {
        for n in 0..5 {
            s.deliver(&msg(n, QoS::AtMostOnce), QoS::AtMostOnce, false, &[]);
        }
    };
    let (mut in_place, mut apart) = (online(Limits::NONE), online(Limits::NONE));
    for s in [&mut in_place, &mut apart] {
        fill(s);
    }
    let mut expected = BytesMut::new();
    in_place.write_outbox(&mut expected);
    let mut spare = VecDeque::with_capacity(16);
    let room = apart.outbox.capacity();
    let mut outgoing = apart.take_outbox(&mut spare).expect("five packets wait");
    assert!(!apart.has_output(), "taken, not copied");
    let mut got = BytesMut::new();
    let written = outgoing.encode(&mut got, None);
    apart.give_back(&mut outgoing);
    assert_eq!(got, expected);
    assert_eq!(written.publishes, 5);
    // The packets moved into the spare's room; the session kept its own queue's.
    assert_eq!(apart.outbox.capacity(), room);
    let spare = outgoing.into_spare();
    assert!(spare.is_empty() && spare.capacity() >= 16);
    assert!(apart.take_outbox(&mut VecDeque::new()).is_none(), "nothing waits");
}
