//! Retained messages' origin, the retained messages under a filter, clearing them at once,
//! and a topic's readers (issue 22), in the router without sockets.

use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::tests::{link, login, message, sub};
use super::*;
use crate::broker::Message;
use crate::codec::v5::Properties;
use crate::codec::{PacketId, QoS, TopicFilter, Unsubscribe};
use crate::store::Entry;

const LIMITS: Limits = Limits { max_inflight: 20, max_queued: 100, ..Limits::NONE };

fn filter(f: &str) -> TopicFilter {
    TopicFilter::new(f).unwrap()
}

fn topics(r: &Router, f: &str) -> Vec<String> {
    r.retained_matching(&filter(f)).map(|m| m.message.topic.to_string()).collect()
}

fn publish_as(r: &mut Router, client: &str, topic: &str, payload: &'static [u8]) {
    let l = link(99);
    r.publish_from(&message(topic, payload, QoS::AtLeastOnce, true), Some((client, &l)));
}

#[test]
fn a_retained_message_names_its_publisher_and_when_it_was_stored() {
    let mut r = Router::new(LIMITS, None);
    r.connect(login("pv-logger", None, true, None), link(1));
    let before = SystemTime::now() - Duration::from_millis(1);
    publish_as(&mut r, "pv-logger", "PV/power", b"42");
    r.publish(&message("PV/sys", b"from the broker", QoS::AtMostOnce, true));
    let stored = r.retained_at("PV/power").unwrap();
    assert_eq!(stored.origin.publisher.as_deref(), Some("pv-logger"));
    let at = stored.origin.stored_at();
    assert!(at >= before && at <= SystemTime::now(), "{at:?}");
    let session_id = &r.sessions.get("pv-logger").unwrap().client_id;
    assert!(Arc::ptr_eq(stored.origin.publisher.as_ref().unwrap(), session_id), "the session's id, not a copy");
    assert_eq!(r.retained_at("PV/sys").unwrap().origin.publisher, None);
    assert!(r.retained_at("PV/none").is_none());
}

#[test]
fn the_origin_adds_32_bytes_per_retained_message() {
    // The user name and memory charge (check_retain_source, memory_limit) are boxed.
    assert_eq!(std::mem::size_of::<Origin>(), 32, "the session's id, a u64 and a pointer");
    assert_eq!(std::mem::size_of::<Retained>(), std::mem::size_of::<Message>() + 32);
}

#[test]
fn a_retained_will_names_the_client_that_left_it() {
    let mut r = Router::new(LIMITS, None);
    let will = LastWill {
        topic: TopicName::new("lamp/status").unwrap(),
        payload: Bytes::from_static(b"offline"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties::default(),
    };
    r.connect(login("lamp", None, true, Some(&will)), link(1));
    r.connect(login("lamp", None, true, None), link(2));
    assert_eq!(r.retained_at("lamp/status").unwrap().origin.publisher.as_deref(), Some("lamp"));
}

#[test]
fn a_filter_finds_only_its_retained_messages_and_hash_skips_dollar_topics() {
    let mut r = Router::new(LIMITS, None);
    for t in ["a", "a/b", "a/b/c", "a/bc", "ab", "b/b", "$SYS/x", "/a"] {
        r.publish(&message(t, b"1", QoS::AtMostOnce, true));
    }
    assert_eq!(topics(&r, "a/b/#"), ["a/b", "a/b/c"], "a/bc shares the prefix, not the level");
    assert_eq!(topics(&r, "a/#"), ["a", "a/b", "a/b/c", "a/bc"]);
    assert_eq!(topics(&r, "+/b"), ["a/b", "b/b"]);
    assert_eq!(topics(&r, "#"), ["/a", "a", "a/b", "a/b/c", "a/bc", "ab", "b/b"], "[MQTT-4.7.2-1]");
    assert_eq!(topics(&r, "$SYS/#"), ["$SYS/x"]);
    assert_eq!(topics(&r, "a/b"), ["a/b"]);
    assert_eq!(topics(&r, "+/a"), ["/a"]);
}

#[test]
fn clearing_deletes_every_match_at_once_and_journals_one_change() {
    let (journal, entries) = crate::store::Journal::channel();
    let mut r = Router::new(LIMITS, Some(journal));
    for t in ["a/1", "a/2/x", "b/1", "$SYS/a"] {
        r.publish(&message(t, b"1", QoS::AtMostOnce, true));
    }
    while entries.try_recv().is_ok() {}
    assert_eq!(r.clear_retained(&filter("a/#")), 2);
    assert_eq!(topics(&r, "#"), ["b/1"]);
    assert_eq!(r.figures().retained, 2, "b/1 and $SYS/a");
    let changes: Vec<_> = entries.try_iter().collect();
    let [Entry::Change(Change::RetainCleared { topics })] = &changes[..] else { panic!("{changes:?}") };
    let names: Vec<_> = topics.iter().map(TopicName::as_str).collect();
    assert_eq!(names, ["a/1", "a/2/x"]);
    assert_eq!(r.clear_retained(&filter("$SYS/#")), 1);
    assert!(entries.try_recv().is_err(), "$SYS messages are not saved, so their clearing is not either");
    assert_eq!(r.clear_retained(&filter("nothing/#")), 0);
}

#[test]
fn readers_are_every_matching_subscription_with_its_qos_and_share_group() {
    let mut r = Router::new(LIMITS, None);
    for (i, c) in ["s1", "s2", "g1", "g2", "other"].into_iter().enumerate() {
        r.connect(login(c, None, c != "s2", None), link(i as u64 + 1));
    }
    sub(&mut r, "s1", "PV/#", QoS::AtMostOnce);
    sub(&mut r, "s1", "PV/power", QoS::ExactlyOnce);
    sub(&mut r, "s2", "+/power", QoS::AtLeastOnce);
    sub(&mut r, "g1", "$share/loggers/PV/+", QoS::AtLeastOnce);
    sub(&mut r, "g2", "$share/loggers/PV/+", QoS::AtMostOnce);
    sub(&mut r, "other", "PV/energy", QoS::AtLeastOnce);
    r.disconnect("s2", 2);
    let readers: Vec<_> = r
        .readers_of("PV/power")
        .into_iter()
        .map(|x| (x.client.to_string(), x.filter.to_string(), x.sub.options.qos, x.online))
        .collect();
    let row = |c: &str, f: &str, q, online| (c.to_owned(), f.to_owned(), q, online);
    assert_eq!(
        readers,
        [
            row("g1", "$share/loggers/PV/+", QoS::AtLeastOnce, true),
            row("g2", "$share/loggers/PV/+", QoS::AtMostOnce, true),
            row("s1", "PV/#", QoS::AtMostOnce, true),
            row("s1", "PV/power", QoS::ExactlyOnce, true),
            row("s2", "+/power", QoS::AtLeastOnce, false),
        ]
    );
    assert!(r.readers_of("$SYS/power").is_empty(), "+/power does not match a $ topic");
    let unsubscribe = Unsubscribe {
        pid: PacketId::new(2).unwrap(),
        properties: Properties::default(),
        filters: vec![filter("PV/#")],
    };
    r.unsubscribe("s1", &unsubscribe);
    assert_eq!(r.readers_of("PV/power").iter().filter(|x| &*x.client == "s1").count(), 1, "PV/# is gone");
}
