//! Session expiry, delayed wills and message expiry in the router, on paused tokio time.

use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use tokio::time::{Instant, advance};

use super::*;
use crate::broker::Message;
use crate::broker::wake::Wake;
use crate::codec::v5::{PacketKind, Property, PropertyId};
use crate::codec::{Decoded, PacketId, QoS, SubOptions, Subscribe, TopicFilter, decode};
use crate::store::{Entry, RestoredSession};

const LIMITS: Limits = Limits { max_inflight: 20, max_queued: 100, ..Limits::NONE };

fn link(id: u64) -> Link {
    Link { id, wake: Arc::new(Wake::default()) }
}

fn v5(expiry: Option<u32>) -> Properties {
    Properties::new(PacketKind::Connect, expiry.map(Property::SessionExpiryInterval).into_iter().collect()).unwrap()
}

fn login<'a>(client_id: &'a str, clean: bool, properties: &'a Properties, will: Option<&'a LastWill>) -> Login<'a> {
    Login {
        client_id,
        username: None,
        clean_session: clean,
        protocol: Protocol::V5,
        will,
        connect_properties: properties,
        connack_properties: Properties::default(),
    }
}

fn will(delay: u32) -> LastWill {
    LastWill {
        topic: TopicName::new("dev/status").unwrap(),
        payload: Bytes::from_static(b"lost"),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Properties::new(PacketKind::Will, vec![Property::WillDelayInterval(delay)]).unwrap(),
    }
}

fn out(r: &mut Router, client: &str) -> Vec<Packet> {
    let mut buf = BytesMut::new();
    r.session_mut(client).unwrap().write_outbox(&mut buf);
    let mut v = Vec::new();
    while let Ok(Decoded::Packet(p, n)) = decode(&buf, usize::MAX, Protocol::V5) {
        v.push(p);
        let _ = buf.split_to(n);
    }
    v
}

fn sub(r: &mut Router, client: &str, filter: &str, qos: QoS) {
    let filters = vec![(TopicFilter::new(filter).unwrap(), SubOptions::from(qos))];
    r.subscribe(client, &Subscribe { pid: PacketId::new(1).unwrap(), properties: Properties::default(), filters });
}

fn present(r: &mut Router, client: &str, properties: &Properties, link_id: u64) -> bool {
    r.connect(login(client, false, properties, None), link(link_id)).session_present
}

#[tokio::test(start_paused = true)]
async fn a_session_lives_its_expiry_interval_after_the_connection() {
    let mut r = Router::new(LIMITS, None);
    let ten = v5(Some(10));
    r.connect(login("c", true, &ten, None), link(1));
    r.disconnect("c", 1);
    advance(Duration::from_secs(9)).await;
    r.expire(Instant::now());
    assert!(present(&mut r, "c", &ten, 2), "resumed at 9 s");
    r.disconnect("c", 2);
    advance(Duration::from_secs(11)).await;
    let expired = r.expire(Instant::now());
    assert_eq!(expired.sessions, [Arc::<str>::from("c")]);
    assert_eq!(r.figures().clients_expired, 1);
    assert!(!present(&mut r, "c", &ten, 3), "gone at 11 s");
}

#[tokio::test(start_paused = true)]
async fn an_absent_expiry_ends_the_session_with_its_connection() {
    let mut r = Router::new(LIMITS, None);
    let none = v5(None);
    r.connect(login("c", false, &none, None), link(1));
    r.disconnect("c", 1);
    assert_eq!(r.figures().clients_total, 0);
    assert!(!present(&mut r, "c", &none, 2));
}

#[tokio::test(start_paused = true)]
async fn a_session_past_its_end_is_not_resumed_before_the_sweep() {
    let mut r = Router::new(LIMITS, None);
    let two = v5(Some(2));
    r.connect(login("c", true, &two, None), link(1));
    r.disconnect("c", 1);
    advance(Duration::from_secs(2)).await;
    assert!(!present(&mut r, "c", &two, 2));
}

#[tokio::test(start_paused = true)]
async fn disconnect_may_not_give_a_session_of_expiry_zero_one() {
    let mut r = Router::new(LIMITS, None);
    let none = v5(None);
    r.connect(login("c", true, &none, None), link(1));
    let e = r.set_disconnect_expiry("c", 1, 5).unwrap_err();
    assert!(e.contains("[MQTT-3.14.2-2]"), "{e}");
    let ten = v5(Some(10));
    r.connect(login("d", true, &ten, None), link(2));
    r.set_disconnect_expiry("d", 2, 0).unwrap();
    r.disconnect("d", 2);
    assert_eq!(r.figures().clients_total, 1, "only c is left; d ended with expiry 0");
}

#[tokio::test(start_paused = true)]
async fn a_delayed_will_waits_and_a_reconnect_cancels_it() {
    let mut r = Router::new(LIMITS, None);
    let none = v5(None);
    let long = v5(Some(100));
    r.connect(login("watcher", true, &none, None), link(9));
    sub(&mut r, "watcher", "dev/status", QoS::AtMostOnce);
    let _ = out(&mut r, "watcher");
    let w = will(5);
    r.connect(login("lamp", true, &long, Some(&w)), link(1));
    assert_eq!(r.publish_will("lamp", 1), WillOutcome::Delayed(Duration::from_secs(5)));
    r.disconnect("lamp", 1);
    advance(Duration::from_millis(4900)).await;
    assert!(r.expire(Instant::now()).wills.is_empty());
    assert!(out(&mut r, "watcher").is_empty());
    advance(Duration::from_millis(100)).await;
    assert_eq!(r.expire(Instant::now()).wills.len(), 1);
    assert!(matches!(&out(&mut r, "watcher")[..], [Packet::Publish(p)] if &p.payload[..] == b"lost"));

    r.connect(login("lamp", false, &long, Some(&w)), link(2));
    r.publish_will("lamp", 2);
    r.disconnect("lamp", 2);
    advance(Duration::from_secs(3)).await;
    assert_eq!(r.connect(login("lamp", false, &long, None), link(3)).old_will, WillOutcome::None);
    advance(Duration::from_secs(10)).await;
    r.expire(Instant::now());
    assert!(out(&mut r, "watcher").is_empty(), "reconnected before the delay [MQTT-3.1.3-9]");
}

#[tokio::test(start_paused = true)]
async fn a_session_ending_before_the_will_delay_sends_the_will() {
    let mut r = Router::new(LIMITS, None);
    let none = v5(None);
    r.connect(login("watcher", true, &none, None), link(9));
    sub(&mut r, "watcher", "dev/status", QoS::AtMostOnce);
    let _ = out(&mut r, "watcher");
    let (w, two) = (will(5), v5(Some(2)));
    r.connect(login("lamp", true, &two, Some(&w)), link(1));
    assert_eq!(r.publish_will("lamp", 1), WillOutcome::Delayed(Duration::from_secs(2)));
    r.disconnect("lamp", 1);
    advance(Duration::from_secs(2)).await;
    let expired = r.expire(Instant::now());
    assert_eq!((expired.sessions.len(), expired.wills.len()), (1, 1));
    assert_eq!(out(&mut r, "watcher").len(), 1);
    // Expiry 0: the session ends at once, and so the will goes at once.
    r.connect(login("lamp", true, &none, Some(&w)), link(2));
    assert!(matches!(r.publish_will("lamp", 2), WillOutcome::Published(_)));
}

#[tokio::test(start_paused = true)]
async fn a_queued_message_expires_and_is_sent_with_the_time_left() {
    let mut r = Router::new(LIMITS, None);
    let long = v5(Some(100));
    r.connect(login("sub", true, &long, None), link(1));
    sub(&mut r, "sub", "t/#", QoS::AtLeastOnce);
    r.disconnect("sub", 1);
    let props = Properties::new(PacketKind::PublishToServer, vec![Property::MessageExpiryInterval(5)]).unwrap();
    let message = |payload: &'static [u8]| Message {
        expires_at: session_expiry::deadline(&props, Instant::now()),
        properties: props.clone(),
        ..Message::new(TopicName::new("t/a").unwrap(), Bytes::from_static(payload), QoS::AtLeastOnce, false)
    };
    r.publish(&message(b"one"));
    advance(Duration::from_secs(3)).await;
    r.publish(&message(b"two"));
    let mut got = Vec::new();
    present(&mut r, "sub", &long, 2);
    for p in out(&mut r, "sub") {
        if let Packet::Publish(p) = p {
            got.push((p.payload, p.properties.get(PropertyId::MessageExpiryInterval).cloned()));
        }
    }
    assert_eq!(
        got,
        [
            (Bytes::from_static(b"one"), Some(Property::MessageExpiryInterval(2))),
            (Bytes::from_static(b"two"), Some(Property::MessageExpiryInterval(5)))
        ]
    );
    r.disconnect("sub", 2);
    r.publish(&message(b"three"));
    advance(Duration::from_secs(6)).await;
    present(&mut r, "sub", &long, 3);
    let resent: Vec<_> = out(&mut r, "sub").into_iter().filter(|p| matches!(p, Packet::Publish(_))).collect();
    assert_eq!(resent.len(), 2, "one and two were in flight and go again; three expired: {resent:?}");
    assert!(resent.iter().all(|p| matches!(p, Packet::Publish(p) if &p.payload[..] != b"three")));
}

#[tokio::test(start_paused = true)]
async fn an_expired_retained_message_is_deleted() {
    let (journal, entries) = crate::store::Journal::channel();
    let mut r = Router::new(LIMITS, Some(journal));
    let props = Properties::new(PacketKind::PublishToServer, vec![Property::MessageExpiryInterval(5)]).unwrap();
    let message = Message {
        expires_at: session_expiry::deadline(&props, Instant::now()),
        properties: props,
        ..Message::new(TopicName::new("t").unwrap(), Bytes::from_static(b"r"), QoS::AtMostOnce, true)
    };
    r.publish(&message);
    let first = r.expire(Instant::now());
    assert_eq!(first.next, Some(Instant::now() + Duration::from_secs(5)));
    advance(Duration::from_secs(5)).await;
    assert_eq!(r.expire(Instant::now()).retained, 1);
    assert_eq!(r.figures().retained, 0);
    let cleared = entries.try_iter().any(|e| matches!(e, Entry::Change(Change::Retain { message: None, .. })));
    assert!(cleared, "the store forgets it too");
}

#[tokio::test(start_paused = true)]
async fn persistent_client_expiration_bounds_311_and_v5_sessions() {
    let mut r = Router::new(LIMITS, None);
    r.set_persistent_expiry(Some(Duration::from_hours(1)));
    let none = Properties::default();
    let v311 = Login { protocol: Protocol::V311, ..login("old", false, &none, None) };
    r.connect(v311.clone(), link(1));
    r.disconnect("old", 1);
    let never = v5(Some(u32::MAX));
    r.connect(login("new", false, &never, None), link(2));
    r.disconnect("new", 2);
    advance(Duration::from_secs(3599)).await;
    assert!(r.expire(Instant::now()).sessions.is_empty());
    advance(Duration::from_secs(1)).await;
    assert_eq!(r.expire(Instant::now()).sessions.len(), 2);
    // Without the option a 3.1.1 persistent session never expires.
    let mut r = Router::new(LIMITS, None);
    r.connect(v311, link(1));
    r.disconnect("old", 1);
    advance(Duration::from_hours(100 * 365 * 24)).await;
    assert!(r.expire(Instant::now()).sessions.is_empty());
    assert_eq!(r.expire(Instant::now()).next, None);
}

#[tokio::test(start_paused = true)]
async fn a_restored_session_counts_from_its_disconnect() {
    let (journal, _entries) = crate::store::Journal::channel();
    let mut r = Router::new(LIMITS, Some(journal));
    let saved = RestoredSession {
        expiry: 10,
        disconnected: Some(SystemTime::now() - Duration::from_secs(8)),
        ..RestoredSession::default()
    };
    let forever = RestoredSession::default();
    let sessions = [("soon".into(), saved), ("forever".into(), forever)].into_iter().collect();
    r.restore(crate::store::Restored { retained: Vec::new(), sessions });
    advance(Duration::from_millis(1900)).await;
    assert!(r.expire(Instant::now()).sessions.is_empty());
    advance(Duration::from_millis(200)).await;
    assert_eq!(r.expire(Instant::now()).sessions, [Arc::<str>::from("soon")]);
    assert_eq!(r.figures().clients_total, 1);
}
