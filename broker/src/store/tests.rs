//! The SQLite store: changes survive reopening the file, MQTT 5.0 parts included, and a file
//! written before those columns existed stays readable.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::columns::Clock;
use super::{Change, Store};
use crate::broker::{Message, Origin, Retained};
use crate::codec::v5::{PacketKind, Properties, Property};
use crate::codec::{PacketId, QoS, RetainHandling, SubOptions, TopicFilter, TopicName};

fn message(topic: &str, payload: &'static [u8], qos: QoS) -> Message {
    Message::new(TopicName::new(topic).unwrap(), Bytes::from_static(payload), qos, false)
}

/// A database file of its own, deleted when the test ends.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("mqtt-lab-store-{name}-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

#[test]
fn changes_survive_reopening_the_file() {
    let file = TempFile::new("reopen");
    let path = &file.0;
    let c: Arc<str> = "pv-logger".into();
    let one = PacketId::new(1).unwrap();
    {
        let mut store = Store::open(path).unwrap();
        store
            .apply(&[
                Change::Retain {
                    topic: TopicName::new("PV/sunshine").unwrap(),
                    message: Some(Retained {
                        message: Message { retain: true, ..message("PV/sunshine", b"yes", QoS::AtLeastOnce) },
                        origin: Origin {
                            publisher: Some(c.clone()),
                            stored_ms: 1_765_000_000_123,
                            ..Origin::default()
                        }
                        .with_username(Some("btsiot1".into())),
                    }),
                },
                Change::Session { client: c.clone(), username: Some("btsiot1".into()) },
                Change::Subscribe {
                    client: c.clone(),
                    filter: TopicFilter::new("PV/#").unwrap(),
                    options: SubOptions::from(QoS::ExactlyOnce),
                    id: None,
                },
                Change::Stored { client: c.clone(), seq: 1, message: message("PV/data", b"1.0", QoS::AtLeastOnce) },
                Change::Stored { client: c.clone(), seq: 2, message: message("PV/data", b"2.0", QoS::ExactlyOnce) },
                Change::Stored { client: c.clone(), seq: 3, message: message("PV/data", b"3.0", QoS::ExactlyOnce) },
                Change::Sent { client: c.clone(), seq: 2, pid: one },
                Change::Received { client: c.clone(), seq: 2 },
                Change::Done { client: c.clone(), seq: 1 },
                Change::IncomingQos2 { client: c.clone(), pid: one, present: true },
            ])
            .unwrap();
    }
    let restored = Store::open(path).unwrap().load().unwrap();
    assert_eq!(restored.retained.len(), 1);
    let origin = &restored.retained[0].origin;
    assert_eq!((origin.publisher.as_deref(), origin.stored_ms), (Some("pv-logger"), 1_765_000_000_123), "who and when");
    assert_eq!(origin.username(), Some("btsiot1"), "as which user (check_retain_source)");
    let s = &restored.sessions[&c];
    assert_eq!(s.username.as_deref(), Some("btsiot1"));
    assert_eq!(s.subscriptions, [(TopicFilter::new("PV/#").unwrap(), SubOptions::from(QoS::ExactlyOnce), None)]);
    assert_eq!(
        s.messages.iter().map(|m| (m.seq, m.pid, m.received)).collect::<Vec<_>>(),
        [(2, Some(one), true), (3, None, false)]
    );
    assert!(s.messages.iter().all(|m| m.message.properties.is_empty() && m.message.expires_at.is_none()));
    assert_eq!(s.incoming_qos2, [one]);
    Store::open(path).unwrap().apply(&[Change::DropSession { client: c.clone() }]).unwrap();
    assert!(Store::open(path).unwrap().load().unwrap().sessions.is_empty());
}

fn v5_properties(expiry: u32) -> Properties {
    Properties::new(
        PacketKind::PublishToClient,
        vec![
            Property::UserProperty("site".into(), "roof".into()),
            Property::ContentType("application/json".into()),
            Property::MessageExpiryInterval(expiry),
            Property::UserProperty("site".into(), "barn".into()),
            Property::SubscriptionIdentifier(NonZeroU32::new(9).unwrap()),
        ],
    )
    .unwrap()
}

/// A message as an MQTT 5.0 client published it at `clock`, expiring `expiry` s later.
fn v5_message(clock: &Clock, topic: &str, payload: &'static [u8], expiry: u32) -> Message {
    let m = message(topic, payload, QoS::AtLeastOnce);
    let expires_at = Some(clock.instant + Duration::from_secs(expiry.into()));
    Message { properties: v5_properties(expiry), expires_at, ..m }
}

#[test]
fn mqtt5_properties_expiry_and_subscription_options_survive_with_the_downtime_counted() {
    let file = TempFile::new("v5");
    let c: Arc<str> = "v5-logger".into();
    let saved_at = Clock::now();
    let options = SubOptions {
        qos: QoS::AtLeastOnce,
        no_local: true,
        retain_as_published: true,
        retain_handling: RetainHandling::OnNewSubscription,
    };
    let filter = TopicFilter::new("PV/#").unwrap();
    let retained = |topic: &str, expiry| Retained {
        message: Message { retain: true, ..v5_message(&saved_at, topic, b"r", expiry) },
        origin: Origin::default(),
    };
    let mut store = Store::open(&file.0).unwrap();
    store
        .apply(&[
            Change::Retain { topic: TopicName::new("PV/keep").unwrap(), message: Some(retained("PV/keep", 600)) },
            Change::Retain { topic: TopicName::new("PV/gone").unwrap(), message: Some(retained("PV/gone", 50)) },
            Change::Session { client: c.clone(), username: None },
            Change::Subscribe { client: c.clone(), filter: filter.clone(), options, id: NonZeroU32::new(9) },
            Change::Stored { client: c.clone(), seq: 1, message: v5_message(&saved_at, "PV/a", b"1", 50) },
            Change::Stored { client: c.clone(), seq: 2, message: v5_message(&saved_at, "PV/a", b"2", 50) },
            Change::Stored { client: c.clone(), seq: 3, message: v5_message(&saved_at, "PV/a", b"3", 600) },
            Change::Sent { client: c.clone(), seq: 2, pid: PacketId::new(4).unwrap() },
        ])
        .unwrap();
    drop(store);

    // 100 s of downtime: what had 50 s left has expired, what had 600 s has 500 s left.
    let later = Clock { instant: saved_at.instant, wall: saved_at.wall + Duration::from_secs(100) };
    let store = Store::open(&file.0).unwrap();
    let restored = store.load_at(later).unwrap();
    let left = |m: &Message| m.expires_at.map(|at| at.saturating_duration_since(later.instant));
    let close_to_500 = |d: Option<Duration>| d.is_some_and(|d| d <= Duration::from_secs(500) && d.as_secs() >= 499);
    assert_eq!(restored.retained.len(), 1, "the expired retained message is gone");
    let r = &restored.retained[0].message;
    assert_eq!((r.topic.as_str(), r.retain, &r.properties), ("PV/keep", true, &v5_properties(600)));
    assert!(close_to_500(left(r)), "{:?}", left(r));
    let s = &restored.sessions[&c];
    assert_eq!(s.subscriptions, [(filter, options, NonZeroU32::new(9))]);
    let seqs: Vec<_> = s.messages.iter().map(|m| (m.seq, &m.message.payload[..])).collect();
    assert_eq!(seqs, [(2, &b"2"[..]), (3, b"3")], "the expired queued message is deleted, the in-flight one kept");
    assert_eq!(left(&s.messages[0].message), Some(Duration::ZERO), "in flight and expired: due now");
    assert!(close_to_500(left(&s.messages[1].message)));
    assert!(s.messages.iter().all(|m| m.message.properties == v5_properties(if m.seq == 2 { 50 } else { 600 })));

    // The expired rows were deleted, not only skipped.
    let conn = rusqlite::Connection::open(&file.0).unwrap();
    let count = |table: &str| conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get::<_, i64>(0));
    assert_eq!((count("retained").unwrap(), count("messages").unwrap()), (1, 2));
}

#[test]
fn a_database_from_before_mqtt5_opens_and_reads_as_before() {
    let file = TempFile::new("old");
    let conn = rusqlite::Connection::open(&file.0).unwrap();
    // The first schema, as a 3.1.1-only broker wrote it.
    conn.execute_batch(
        "CREATE TABLE retained (topic TEXT PRIMARY KEY, payload BLOB NOT NULL, qos INTEGER NOT NULL);
         CREATE TABLE sessions (client_id TEXT PRIMARY KEY, username TEXT);
         CREATE TABLE subscriptions (
             client_id TEXT NOT NULL, filter TEXT NOT NULL, qos INTEGER NOT NULL, PRIMARY KEY (client_id, filter));
         CREATE TABLE messages (
             client_id TEXT NOT NULL, seq INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
             qos INTEGER NOT NULL, retain INTEGER NOT NULL, pid INTEGER, received INTEGER NOT NULL DEFAULT 0,
             PRIMARY KEY (client_id, seq));
         CREATE TABLE incoming_qos2 (client_id TEXT NOT NULL, pid INTEGER NOT NULL, PRIMARY KEY (client_id, pid));
         INSERT INTO retained VALUES ('PV/sunshine', X'796573', 1);
         INSERT INTO sessions VALUES ('pv-logger', NULL);
         INSERT INTO subscriptions VALUES ('pv-logger', 'PV/#', 2);
         INSERT INTO messages VALUES ('pv-logger', 7, 'PV/data', X'312E30', 2, 0, NULL, 0);",
    )
    .unwrap();
    drop(conn);
    let mut store = Store::open(&file.0).unwrap();
    let restored = store.load().unwrap();
    let retained: Vec<_> = restored.retained.iter().map(|r| &r.message).collect();
    assert_eq!(retained, [&Message { retain: true, ..message("PV/sunshine", b"yes", QoS::AtLeastOnce) }]);
    let origin = &restored.retained[0].origin;
    assert_eq!((origin.publisher.as_deref(), origin.username()), (None, None), "an old row names no publisher");
    assert!(origin.stored_ms > 0, "and reads as stored when loaded");
    let s = &restored.sessions["pv-logger"];
    assert_eq!(s.subscriptions, [(TopicFilter::new("PV/#").unwrap(), SubOptions::from(QoS::ExactlyOnce), None)]);
    assert_eq!(s.messages.len(), 1);
    assert_eq!(s.messages[0].message, message("PV/data", b"1.0", QoS::ExactlyOnce));
    // And it takes MQTT 5.0 rows now.
    let c: Arc<str> = "pv-logger".into();
    let now = Clock::now();
    store
        .apply(&[Change::Stored { client: c.clone(), seq: 8, message: v5_message(&now, "PV/data", b"2", 600) }])
        .unwrap();
    let restored = store.load().unwrap();
    assert_eq!(restored.sessions[&c].messages[1].message.properties, v5_properties(600));
}

#[test]
fn a_property_block_that_no_longer_decodes_skips_its_row() {
    let file = TempFile::new("bad-props");
    let c: Arc<str> = "v5-logger".into();
    let mut store = Store::open(&file.0).unwrap();
    let now = Clock::now();
    store
        .apply(&[
            Change::Session { client: c.clone(), username: None },
            Change::Stored { client: c.clone(), seq: 1, message: v5_message(&now, "PV/a", b"1", 600) },
            Change::Stored { client: c.clone(), seq: 2, message: v5_message(&now, "PV/a", b"2", 600) },
        ])
        .unwrap();
    let conn = rusqlite::Connection::open(&file.0).unwrap();
    conn.execute("UPDATE messages SET properties = X'051100000001' WHERE seq = 1", []).unwrap();
    let restored = store.load().unwrap();
    let seqs: Vec<u64> = restored.sessions[&c].messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [2], "a Session Expiry Interval in a PUBLISH block: not delivered changed");
}

#[test]
fn clearing_retained_messages_deletes_each_named_topic_and_no_other() {
    let file = TempFile::new("clear");
    let mut store = Store::open(&file.0).unwrap();
    let retain = |t: &str| Change::Retain {
        topic: TopicName::new(t).unwrap(),
        message: Some(Retained {
            message: Message { retain: true, ..message(t, b"1", QoS::AtMostOnce) },
            origin: Origin::default(),
        }),
    };
    store.apply(&[retain("a/1"), retain("a/2"), retain("b/1")]).unwrap();
    let topics = vec![TopicName::new("a/1").unwrap(), TopicName::new("a/2").unwrap()];
    store.apply(&[Change::RetainCleared { topics }]).unwrap();
    drop(store);
    let restored = Store::open(&file.0).unwrap().load().unwrap();
    let left: Vec<_> = restored.retained.iter().map(|r| r.message.topic.as_str()).collect();
    assert_eq!(left, ["b/1"]);
}
