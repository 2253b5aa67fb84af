//! The topic tree's reads (each topic's count and last message, a topic's recent messages) and
//! rows that belong to the connection that received them, through the writer.

use std::time::{Duration, SystemTime};

use super::tests::{TempFile, no_failures, record};
use super::*;
use crate::connection::Qos;

const PI: Whose<'static> = Whose { profile: "Pi", client: None };

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000)
}

fn at(ms: u64) -> SystemTime {
    t0() + Duration::from_millis(ms)
}

#[test]
fn topics_count_each_topic_and_keep_its_last_message() {
    let file = TempFile::new("topics");
    let mut db = open(&file.0).unwrap();
    let mut rows = Vec::new();
    // 3 topics with 1, 2 and 7 messages, interleaved, and out of time order within a batch.
    for (i, topic) in ["b/2", "a/1", "b/2", "c", "c", "c", "c", "c", "c", "c"].iter().enumerate() {
        let i = i as u64;
        rows.push(record("Pi", topic, &format!("p{i}"), at(1_000 - i * 10)));
    }
    let mut last_c = record("Pi", "c", "newest", at(5_000));
    last_c.message.qos = Qos::ExactlyOnce;
    last_c.message.retain = false;
    rows.push(last_c.clone());
    // Another profile's messages on the same topics are not counted.
    rows.push(record("Lab", "a/1", "other", at(9_000)));
    rows.push(record("Lab", "z", "other", at(9_000)));
    insert(&mut db, &rows).unwrap();

    let found = topics(&db, "Pi").unwrap();
    let summary: Vec<(&str, u64, &[u8])> =
        found.iter().map(|t| (t.topic.as_str(), t.count, &t.last.payload[..])).collect();
    assert_eq!(summary, vec![("a/1", 1, &b"p1"[..]), ("b/2", 2, &b"p0"[..]), ("c", 8, &b"newest"[..])]);
    let c = &found[2];
    assert_eq!(c.last, last_c.message, "time, retain flag and QoS of the last one");
    assert_eq!((c.last.qos, c.last.retain, c.last.at), (Qos::ExactlyOnce, false, at(5_000)));
    assert_eq!(found[0].last.at, at(990), "the last one is the newest by time, not the last stored");
    assert_eq!(topics(&db, "Lab").unwrap().len(), 2);
    assert!(topics(&db, "Nobody").unwrap().is_empty());
}

#[test]
fn topics_before_a_moment_leave_out_what_came_at_or_after_it() {
    let file = TempFile::new("topics-before");
    let mut db = open(&file.0).unwrap();
    let rows = [
        record("Pi", "a", "1", at(10)),
        record("Pi", "a", "2", at(20)),
        record("Pi", "a", "live", at(30)),
        record("Pi", "b", "live only", at(31)),
    ];
    insert(&mut db, &rows).unwrap();
    let cut = db::millis(at(30));
    let found = topics_before(&db, PI, cut).unwrap();
    let summary: Vec<(&str, u64, &[u8])> =
        found.iter().map(|t| (t.topic.as_str(), t.count, &t.last.payload[..])).collect();
    assert_eq!(summary, vec![("a", 2, &b"2"[..])], "the last one before the cut, counted without the live one");
    assert_eq!(topics(&db, "Pi").unwrap().len(), 2, "without a cut, all of them");
}

#[test]
fn of_two_messages_in_the_same_millisecond_the_last_stored_is_the_last() {
    let file = TempFile::new("topics-tie");
    let mut db = open(&file.0).unwrap();
    insert(&mut db, &[record("Pi", "t", "first", at(7)), record("Pi", "t", "second", at(7))]).unwrap();
    insert(&mut db, &[record("Pi", "t", "third", at(7))]).unwrap();
    let found = topics(&db, "Pi").unwrap();
    assert_eq!((found[0].count, &found[0].last.payload[..]), (3, &b"third"[..]));
    let recent: Vec<Vec<u8>> = recent(&db, PI, "t", 10).unwrap().iter().map(|m| m.payload.to_vec()).collect();
    assert_eq!(recent, [&b"third"[..], b"second", b"first"], "the same order for the detail pane");
}

#[test]
fn recent_gives_one_topics_newest_messages_first_up_to_the_limit() {
    let file = TempFile::new("recent");
    let mut db = open(&file.0).unwrap();
    let mut rows: Vec<Record> = (0..50u64).map(|i| record("Pi", "PV/data", &i.to_string(), at(i * 100))).collect();
    rows.push(record("Pi", "PV/data/sub", "child", at(99_999)));
    rows.push(record("Pi", "PV", "parent", at(99_999)));
    rows.push(record("Lab", "PV/data", "other profile", at(99_999)));
    rows.reverse();
    insert(&mut db, &rows).unwrap();

    let got = recent(&db, PI, "PV/data", 5).unwrap();
    let payloads: Vec<String> = got.iter().map(|m| String::from_utf8_lossy(&m.payload).into_owned()).collect();
    assert_eq!(payloads, ["49", "48", "47", "46", "45"]);
    assert!(got.windows(2).all(|w| w[0].at > w[1].at), "newest first");
    assert!(got.iter().all(|m| m.topic == "PV/data"), "only the topic itself, not its subtree");
    assert_eq!(recent(&db, PI, "PV/data", 1_000).unwrap().len(), 50, "all when fewer than the limit");
    assert!(recent(&db, PI, "PV/data", 0).unwrap().is_empty());
    assert!(recent(&db, PI, "nowhere", 5).unwrap().is_empty());
}

#[test]
fn topics_of_a_filled_file_match_what_the_fill_wrote() {
    let file = TempFile::new("topics-fill");
    let mut db = open(&file.0).unwrap();
    let (rows, topic_count) = (1_003_u64, 10_u64);
    fill_for_tests(&mut db, Fill { profile: "Pi", rows, topics: topic_count, start_ms: 1_000 }).unwrap();
    let found = topics(&db, "Pi").unwrap();
    assert_eq!(found.len(), 10);
    for how in [tree::Settle::Walk, tree::Settle::Scan] {
        assert_eq!(tree::topics_settled(&db, PI, i64::MAX, Some(how)).unwrap(), found, "{how:?}");
    }
    assert_eq!(found.iter().map(|t| t.count).sum::<u64>(), rows);
    for t in &found {
        // The newest row of a topic is the highest i with that topic.
        let i = (0..rows).rev().find(|&i| fill_topic(i, topic_count) == t.topic).unwrap();
        assert_eq!(t.last.payload, i.to_string().as_bytes(), "{}", t.topic);
        assert_eq!(t.count, (0..rows).filter(|&j| fill_topic(j, topic_count) == t.topic).count() as u64);
        // Odd rows are retained, and no payload is empty: retained when the topic has an odd row.
        let odd = (0..rows).any(|j| j % 2 == 1 && fill_topic(j, topic_count) == t.topic);
        assert_eq!(t.retained, odd, "{}", t.topic);
    }
}

/// A row of `topic` with the RETAIN flag as given.
fn flagged(topic: &str, payload: &str, retain: bool, ms: u64) -> Record {
    let mut r = record("Pi", topic, payload, at(ms));
    r.message.retain = retain;
    r
}

/// `(topic, retained)` of each topic of "Pi" with messages before `before_ms`, the same whether
/// the topics are settled by walks, by a scan or the cheaper way.
fn retained_flags(db: &rusqlite::Connection, before_ms: i64) -> Vec<(String, bool)> {
    let of = |how| -> Vec<(String, bool)> {
        let found = tree::topics_settled(db, PI, before_ms, how).unwrap();
        found.into_iter().map(|t| (t.topic, t.retained)).collect()
    };
    let walked = of(Some(tree::Settle::Walk));
    assert_eq!(of(Some(tree::Settle::Scan)), walked, "a scan settles as the walks do");
    assert_eq!(of(None), walked);
    walked
}

#[test]
fn a_retained_message_stays_retained_under_the_live_rows_after_it() {
    let file = TempFile::new("retained-live");
    let mut db = open(&file.0).unwrap();
    // What a subscriber stores: the broker's replay (RETAIN 1), then live messages (RETAIN 0).
    let mut rows = vec![flagged("sensor", "20.5", true, 10)];
    rows.extend((0..5).map(|i| flagged("sensor", &format!("2{i}.0"), false, 20 + i)));
    rows.push(flagged("stream", "1", false, 10));
    rows.push(flagged("stream", "2", false, 20));
    rows.push(flagged("state", "on", true, 10));
    insert(&mut db, &rows).unwrap();

    let found = topics(&db, "Pi").unwrap();
    let sensor = &found[0];
    assert_eq!((sensor.topic.as_str(), sensor.last.retain, sensor.retained), ("sensor", false, true));
    assert_eq!(
        retained_flags(&db, i64::MAX),
        [("sensor".into(), true), ("state".into(), true), ("stream".into(), false)],
        "retained then live, retained last, never retained"
    );
}

#[test]
fn a_retained_empty_payload_deletes_the_retained_message() {
    let file = TempFile::new("retained-deleted");
    let mut db = open(&file.0).unwrap();
    insert(
        &mut db,
        &[
            flagged("a", "on", true, 10),
            flagged("a", "", true, 20),
            // Deleted, then live rows: still nothing retained.
            flagged("b", "on", true, 10),
            flagged("b", "", true, 20),
            flagged("b", "off", false, 30),
            // Deleted, then stored again.
            flagged("c", "on", true, 10),
            flagged("c", "", true, 20),
            flagged("c", "again", true, 30),
            flagged("c", "live", false, 40),
        ],
    )
    .unwrap();
    assert_eq!(retained_flags(&db, i64::MAX), [("a".into(), false), ("b".into(), false), ("c".into(), true)]);
    let cut = db::millis(at(20));
    assert_eq!(
        retained_flags(&db, cut),
        [("a".into(), true), ("b".into(), true), ("c".into(), true)],
        "a delete at or after the cut is not counted"
    );
}

#[test]
fn an_empty_live_payload_after_a_retained_one_is_taken_as_its_delete() {
    let file = TempFile::new("retained-empty-live");
    let mut db = open(&file.0).unwrap();
    // "Delete retained…" as the deleting subscriber stores it: the empty payload with RETAIN 0.
    insert(
        &mut db,
        &[
            flagged("deleted", "on", true, 10),
            flagged("deleted", "", false, 20),
            flagged("deleted", "live after", false, 30),
            flagged("empty-first", "", false, 10),
            flagged("empty-first", "stored", true, 20),
            flagged("empty-first", "live", false, 30),
        ],
    )
    .unwrap();
    assert_eq!(
        retained_flags(&db, i64::MAX),
        [("deleted".into(), false), ("empty-first".into(), true)],
        "only an empty payload after the newest retained one deletes it"
    );
    assert_eq!(topics(&db, "Pi").unwrap()[0].last.payload, &b"live after"[..], "the last message is the newest row");
}

#[test]
fn the_writer_stores_each_connections_client_id() {
    let file = TempFile::new("client-ids");
    let writer = HistoryWriter::start(file.0.clone(), no_failures).unwrap();
    // One profile open twice: a publisher and a subscriber side by side.
    let mut publisher = record("Pi", "lamp/set", "on", at(1));
    publisher.client_id = "lab-publisher".into();
    let mut subscriber = record("Pi", "lamp/set", "on", at(2));
    subscriber.client_id = "lab-subscriber".into();
    let unknown = Record::new("Pi", "", record("Pi", "lamp/set", "?", at(3)).message);
    for r in [publisher.clone(), subscriber.clone(), subscriber.clone(), unknown] {
        writer.record(r);
    }
    writer.flush().recv().unwrap();

    let db = open(&file.0).unwrap();
    let mut stmt = db.prepare("SELECT client_id FROM messages ORDER BY id").unwrap();
    let ids: Vec<Option<String>> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    let named = |s: &str| Some(s.to_owned());
    assert_eq!(ids, [named("lab-publisher"), named("lab-subscriber"), named("lab-subscriber"), None]);
    assert_eq!(newest_of_client(&db, "Pi", "lab-publisher", 10).unwrap(), [publisher.message]);
    assert_eq!(newest_of_client(&db, "Pi", "lab-subscriber", 10).unwrap().len(), 2);
    assert_eq!(newest_of_client(&db, "Other", "lab-subscriber", 10).unwrap().len(), 0, "per profile too");
    assert_eq!(newest(&db, "Pi", 10).unwrap().len(), 4, "the profile's list has them all");
}

#[test]
fn a_connection_of_a_profile_open_twice_has_the_topics_and_messages_of_its_own_rows() {
    let (file, mut db) = (TempFile::new("tree-clients"), None);
    let mut rows = Vec::new();
    for (client, topic, payload, retain, ms) in [
        ("lab-sub", "PV/data", "1.0", false, 1),
        ("lab-sub", "PV/data", "2.0", false, 2),
        ("lab-pub", "lamp/set", "on", true, 3),
        ("lab-pub", "PV/data", "9.9", false, 4),
        ("", "PV/sunshine", "yes", false, 5),
    ] {
        let mut r = flagged(topic, payload, retain, ms);
        r.client_id = client.into();
        rows.push(r);
    }
    let db = db.insert(open(&file.0).unwrap());
    insert(db, &rows).unwrap();
    let of = |client: Option<&str>| -> Vec<(String, u64, String, bool)> {
        let whose = Whose { profile: "Pi", client };
        let found = topics_before(db, whose, i64::MAX).unwrap();
        found
            .into_iter()
            .map(|t| (t.topic, t.count, String::from_utf8_lossy(&t.last.payload).into_owned(), t.retained))
            .collect()
    };
    let row = |t: &str, n: u64, p: &str, r: bool| (t.to_owned(), n, p.to_owned(), r);
    assert_eq!(of(Some("lab-sub")), [row("PV/data", 2, "2.0", false)]);
    assert_eq!(of(Some("lab-pub")), [row("PV/data", 1, "9.9", false), row("lamp/set", 1, "on", true)]);
    assert!(of(Some("nobody")).is_empty());
    assert_eq!(
        of(None),
        [row("PV/data", 3, "9.9", false), row("PV/sunshine", 1, "yes", false), row("lamp/set", 1, "on", true)],
        "the whole profile"
    );
    let payloads = |client| -> Vec<String> {
        let found = recent(db, Whose { profile: "Pi", client }, "PV/data", 10).unwrap();
        found.iter().map(|m| String::from_utf8_lossy(&m.payload).into_owned()).collect()
    };
    assert_eq!(payloads(Some("lab-sub")), ["2.0", "1.0"]);
    assert_eq!(payloads(Some("lab-pub")), ["9.9"]);
    assert_eq!(payloads(None), ["9.9", "2.0", "1.0"]);
}
