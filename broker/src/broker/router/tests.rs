//! The router without sockets: sessions, takeover, retained messages, delivery QoS.

use crate::broker::wake::Wake;
use bytes::{Bytes, BytesMut};

use super::*;
use crate::broker::Message;
use crate::codec::{Decoded, PacketId, Protocol, QoS, QosPid, SubOptions, Subscribe, TopicFilter, decode};

/// The CONNECT properties of a 3.1.1 client: none.
static NO_PROPERTIES: std::sync::LazyLock<Properties> = std::sync::LazyLock::new(Properties::default);

const LIMITS: Limits = Limits { max_inflight: 20, max_queued: 100, ..Limits::NONE };

pub(super) fn link(id: u64) -> Link {
    Link { id, wake: Arc::new(Wake::default()) }
}

fn out(r: &mut Router, client: &str) -> Vec<Packet> {
    let mut buf = BytesMut::new();
    r.session_mut(client).unwrap().write_outbox(&mut buf);
    let mut v = Vec::new();
    while let Ok(Decoded::Packet(p, n)) = decode(&buf, usize::MAX, Protocol::V311) {
        v.push(p);
        let _ = buf.split_to(n);
    }
    v
}

pub(super) fn message(topic: &str, payload: &'static [u8], qos: QoS, retain: bool) -> Message {
    Message::new(TopicName::new(topic).unwrap(), Bytes::from_static(payload), qos, retain)
}

pub(super) fn sub(r: &mut Router, client: &str, filter: &str, qos: QoS) {
    let filters = vec![(TopicFilter::new(filter).unwrap(), SubOptions::from(qos))];
    r.subscribe(client, &Subscribe { pid: PacketId::new(1).unwrap(), properties: Properties::default(), filters });
}

#[test]
fn a_takeover_closes_the_old_link_and_keeps_a_persistent_session() {
    let mut r = Router::new(LIMITS, None);
    assert_eq!(
        r.connect(login("c", None, false, None), link(1)),
        Attached { session_present: false, took_over: false, old_will: WillOutcome::None }
    );
    sub(&mut r, "c", "a", QoS::AtLeastOnce);
    let attached = r.connect(login("c", None, false, None), link(2));
    assert_eq!(attached, Attached { session_present: true, took_over: true, old_will: WillOutcome::None });
    assert!(!r.is_current("c", 1));
    r.disconnect("c", 1); // the old connection's late cleanup must not detach the new one
    assert!(r.is_current("c", 2));
    assert_eq!(r.figures().subscriptions, 1);
}

#[test]
fn clean_sessions_end_with_their_connection() {
    let mut r = Router::new(LIMITS, None);
    r.connect(login("c", None, true, None), link(1));
    sub(&mut r, "c", "a/#", QoS::AtMostOnce);
    r.disconnect("c", 1);
    assert_eq!(r.figures().clients_total, 0);
    assert_eq!(r.figures().subscriptions, 0);
    let attached = r.connect(login("c", None, false, None), link(2));
    assert!(!attached.session_present);
}

#[test]
fn retained_messages_reach_new_subscribers_with_retain_set_and_can_be_cleared() {
    let mut r = Router::new(LIMITS, None);
    r.publish(&message("PV/sunshine", b"yes", QoS::AtLeastOnce, true));
    r.connect(login("s", None, true, None), link(1));
    out(&mut r, "s");
    sub(&mut r, "s", "PV/+", QoS::AtMostOnce);
    let packets = out(&mut r, "s");
    assert!(matches!(packets[0], Packet::SubAck(_)), "SUBACK comes before the retained message");
    let Packet::Publish(p) = &packets[1] else { panic!("{packets:?}") };
    assert!(p.retain);
    assert_eq!(p.qos(), QoS::AtMostOnce);
    r.publish(&message("PV/sunshine", b"", QoS::AtMostOnce, true));
    assert_eq!(r.figures().retained, 0);
    let live = out(&mut r, "s");
    let Packet::Publish(p) = &live[0] else { panic!("{live:?}") };
    assert!(!p.retain, "live subscribers get RETAIN=0");
}

#[test]
fn overlapping_subscriptions_deliver_once_at_the_maximum_qos() {
    let mut r = Router::new(LIMITS, None);
    r.connect(login("s", None, true, None), link(1));
    sub(&mut r, "s", "PV/#", QoS::AtMostOnce);
    sub(&mut r, "s", "PV/data", QoS::ExactlyOnce);
    out(&mut r, "s");
    let routed = r.publish(&message("PV/data", b"3.2", QoS::ExactlyOnce, false));
    assert_eq!(routed.delivered, 1);
    let packets = out(&mut r, "s");
    assert_eq!(packets.len(), 1);
    let Packet::Publish(p) = &packets[0] else { panic!() };
    assert_eq!(p.qos(), QoS::ExactlyOnce);
}

#[test]
fn delivery_qos_is_the_lower_of_publish_and_subscription() {
    let mut r = Router::new(LIMITS, None);
    r.connect(login("s", None, true, None), link(1));
    sub(&mut r, "s", "t", QoS::AtLeastOnce);
    out(&mut r, "s");
    r.publish(&message("t", b"x", QoS::ExactlyOnce, false));
    r.publish(&message("t", b"x", QoS::AtMostOnce, false));
    let qos: Vec<QoS> = out(&mut r, "s")
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => p.qos(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(qos, [QoS::AtLeastOnce, QoS::AtMostOnce]);
}

pub(super) fn login<'a>(
    client_id: &'a str,
    username: Option<&'a str>,
    clean: bool,
    will: Option<&'a LastWill>,
) -> Login<'a> {
    Login {
        client_id,
        username,
        clean_session: clean,
        protocol: Protocol::V311,
        will,
        connect_properties: &NO_PROPERTIES,
        connack_properties: Properties::default(),
    }
}

fn acl(text: &str) -> Arc<Acl> {
    Arc::new(Acl::parse(text).0)
}

/// The will of a connection taken over is routed inside `connect`, so it reaches subscribers
/// before anything the new connection publishes after its CONNACK.
#[test]
fn a_takeover_publishes_the_old_will_before_the_new_connection_is_attached() {
    let mut r = Router::new(LIMITS, None);
    r.connect(login("watcher", None, true, None), link(9));
    sub(&mut r, "watcher", "lamp/status", QoS::AtLeastOnce);
    out(&mut r, "watcher");
    let offline = LastWill {
        topic: TopicName::new("lamp/status").unwrap(),
        payload: Bytes::from_static(b"offline"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties::default(),
    };
    for clean in [false, true] {
        r.connect(login("lamp", None, clean, Some(&offline)), link(1));
        let attached = r.connect(login("lamp", None, clean, Some(&offline)), link(2));
        assert!(matches!(attached.old_will, WillOutcome::Published(Routed { delivered: 1, .. })), "{clean}");
        r.publish(&message("lamp/status", b"online", QoS::AtLeastOnce, true));
        let payloads: Vec<Bytes> = out(&mut r, "watcher")
            .into_iter()
            .filter_map(|p| if let Packet::Publish(p) = p { Some(p.payload) } else { None })
            .collect();
        assert_eq!(payloads, [&b"offline"[..], b"online"], "clean session {clean}");
        r.session_mut("watcher").unwrap().on_puback(PacketId::new(1).unwrap());
        r.session_mut("watcher").unwrap().on_puback(PacketId::new(2).unwrap());
        // The new connection's own will is in force, and goes once.
        assert!(matches!(r.publish_will("lamp", 2), WillOutcome::Published(_)));
        assert_eq!(r.publish_will("lamp", 2), WillOutcome::None);
        out(&mut r, "watcher");
        r.disconnect("lamp", 2);
        for pid in 3..=4 {
            r.session_mut("watcher").unwrap().on_puback(PacketId::new(pid).unwrap());
        }
    }
}

#[test]
fn a_will_is_discarded_by_disconnect_and_refused_without_write_access() {
    let mut r = Router::new(LIMITS, None);
    let will = LastWill {
        topic: TopicName::new("private/w").unwrap(),
        payload: Bytes::from_static(b"bye"),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Properties::default(),
    };
    r.connect(login("c", Some("u"), false, Some(&will)), link(1));
    r.disconnect("c", 1);
    r.connect(login("c", Some("u"), false, None), link(2));
    assert_eq!(r.publish_will("c", 2), WillOutcome::None, "DISCONNECT discarded it [MQTT-3.1.2-10]");
    r.set_acl(Some(acl("user u\ntopic write public/#\n")));
    r.connect(login("c", Some("u"), false, Some(&will)), link(3));
    assert_eq!(r.publish_will("c", 3), WillOutcome::Denied(will.topic.clone()));
}

/// Read access is checked when a held message is sent, not only when it was queued: a reload
/// that revokes it reaches an offline persistent session's queue and its in-flight messages.
#[test]
fn a_revoked_read_right_reaches_messages_already_held_for_an_offline_session() {
    let limits = Limits { max_inflight: 1, ..LIMITS };
    let mut r = Router::new(limits, None);
    r.set_acl(Some(acl("user u\ntopic read PV/#\ntopic read lamp/#\n")));
    r.connect(login("c", Some("u"), false, None), link(1));
    sub(&mut r, "c", "#", QoS::AtLeastOnce);
    out(&mut r, "c");
    // One in flight (sent, not acknowledged), then the client goes away; two more queued.
    r.publish(&message("PV/data", b"1", QoS::AtLeastOnce, false));
    r.disconnect("c", 1);
    r.publish(&message("PV/data", b"2", QoS::AtLeastOnce, false));
    r.publish(&message("lamp/state", b"3", QoS::AtLeastOnce, false));
    assert_eq!(r.figures().stored_messages, 3);
    r.set_acl(Some(acl("user u\ntopic read lamp/#\n")));
    r.connect(login("c", Some("u"), false, None), link(2));
    let mut payloads = Vec::new();
    for packet in out(&mut r, "c") {
        if let Packet::Publish(p) = packet {
            payloads.push(p.payload.clone());
            if let QosPid::AtLeastOnce(pid) = p.qos_pid {
                r.session_mut("c").unwrap().on_puback(pid);
            }
        }
    }
    payloads.extend(
        out(&mut r, "c").into_iter().filter_map(|p| if let Packet::Publish(p) = p { Some(p.payload) } else { None }),
    );
    assert_eq!(payloads, [&b"3"[..]], "only what the reloaded ACL lets u read");
    assert_eq!(r.figures().stored_messages, 0, "the others are gone, not held forever");
}

#[test]
fn another_user_on_a_persistent_session_gets_only_what_it_may_read() {
    let mut r = Router::new(LIMITS, None);
    r.set_acl(Some(acl("user alice\ntopic read secret/#\nuser bob\ntopic read public/#\n")));
    r.connect(login("shared-id", Some("alice"), false, None), link(1));
    sub(&mut r, "shared-id", "secret/#", QoS::AtLeastOnce);
    r.disconnect("shared-id", 1);
    r.publish(&message("secret/x", b"s", QoS::AtLeastOnce, false));
    r.connect(login("shared-id", Some("bob"), false, None), link(2));
    assert!(out(&mut r, "shared-id").iter().all(|p| !matches!(p, Packet::Publish(_))));
}

#[test]
fn the_online_count_follows_connects_takeovers_and_disconnects() {
    let mut r = Router::new(LIMITS, None);
    let scanned = |r: &Router| r.sessions.values().filter(|s| s.is_online()).count();
    let check = |r: &Router, n: usize| {
        assert_eq!(r.figures().clients_connected, n);
        assert_eq!(scanned(r), n, "the kept count agrees with a scan");
    };
    r.connect(login("a", None, false, None), link(1));
    r.connect(login("b", None, true, None), link(2));
    check(&r, 2);
    r.connect(login("a", None, false, None), link(3)); // takes over, resumes
    check(&r, 2);
    r.connect(login("a", None, true, None), link(4)); // takes over a clean one: dropped, new
    check(&r, 2);
    r.disconnect("a", 3); // a late cleanup of a replaced connection changes nothing
    check(&r, 2);
    r.disconnect("b", 2); // clean: the session goes with it
    r.disconnect("a", 4);
    check(&r, 0);
    r.connect(login("c", None, false, None), link(5));
    r.disconnect("c", 5); // persistent: kept offline
    check(&r, 0);
    assert_eq!(r.figures().clients_maximum, 2);
}
