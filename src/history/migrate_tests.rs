//! The schema's versions: a file from before versions and one of version 2 are migrated and keep
//! their rows, MQTT 5 properties go in and come back, stored rows are searched by them, and a
//! newer file is refused untouched.

use std::path::Path;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rusqlite::Connection;

use super::tests::{TempFile, record};
use super::*;
use crate::connection::Qos;
use crate::mqtt::{PayloadFormat, PublishProperties, UserProperty};

/// The schema exactly as files were created before versions (user_version 0).
const V1_FIXTURE: &str = "
    PRAGMA auto_vacuum = INCREMENTAL;
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS messages (
        id      INTEGER PRIMARY KEY,
        profile TEXT    NOT NULL,
        topic   TEXT    NOT NULL,
        payload BLOB    NOT NULL,
        qos     INTEGER NOT NULL,
        retain  INTEGER NOT NULL,
        at_ms   INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS messages_by_time ON messages (profile, at_ms);
    CREATE INDEX IF NOT EXISTS messages_by_topic ON messages (profile, topic, at_ms);
    CREATE TABLE IF NOT EXISTS settings (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
";

/// What a version 2 build left: the schema of before versions, then step 2's columns.
const V2_STEP: &str = "
    ALTER TABLE messages ADD COLUMN properties TEXT;
    ALTER TABLE messages ADD COLUMN dup INTEGER NOT NULL DEFAULT 0;
    PRAGMA user_version = 2;
";

/// Creates a file as a version 2 build left it, empty.
pub(super) fn v2_file(path: &Path) -> Connection {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let old = Connection::open(path).unwrap();
    old.execute_batch(V1_FIXTURE).unwrap();
    old.execute_batch(V2_STEP).unwrap();
    old
}

const T0_MS: i64 = 1_795_000_000_000;

fn user_version(path: &Path) -> i64 {
    Connection::open(path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

/// The file's bytes once no connection holds it (the last close checkpoints the WAL away).
fn bytes_of(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn v5_properties() -> PublishProperties {
    PublishProperties {
        payload_format: Some(PayloadFormat::Utf8),
        message_expiry: Some(60),
        content_type: Some("application/json".into()),
        response_topic: Some("lamp/reply".into()),
        correlation_data: Some(Bytes::from_static(b"req-7")),
        user_properties: vec![UserProperty::new("room", "B204"), UserProperty::new("room", "lab \"2\"")],
        topic_alias: Some(3),
        subscription_ids: vec![4, 9],
    }
}

/// The profile the migrated rows belong to, all its connections.
const PI: super::Whose<'static> = super::Whose { profile: "Pi", client: None };
#[test]
fn a_file_from_before_versions_is_migrated_once_and_keeps_every_row() {
    let file = TempFile::new("v1-fixture");
    std::fs::create_dir_all(file.0.parent().unwrap()).unwrap();
    {
        let old = Connection::open(&file.0).unwrap();
        old.execute_batch(V1_FIXTURE).unwrap();
        for i in 0..300_i64 {
            old.execute(
                "INSERT INTO messages (profile, topic, payload, qos, retain, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![
                    if i % 3 == 0 { "Lab" } else { "Pi" },
                    "PV/data",
                    format!("{i}").into_bytes(),
                    i % 3,
                    i % 2,
                    T0_MS + i
                ],
            )
            .unwrap();
        }
        old.execute("INSERT INTO settings (key, value) VALUES ('max_age_days', 7)", []).unwrap();
    }
    assert_eq!(user_version(&file.0), 0);

    let db = open(&file.0).unwrap();
    assert_eq!(count(&db, "Pi").unwrap() + count(&db, "Lab").unwrap(), 300);
    let newest = newest(&db, "Pi", 1).unwrap();
    assert_eq!((&newest[0].payload[..], newest[0].qos, newest[0].retain), (&b"299"[..], Qos::ExactlyOnce, true));
    assert!(newest[0].properties.is_empty() && !newest[0].dup, "old rows read as 3.1.1 messages");
    assert_eq!(retention::load(&db).unwrap().max_age_days, 7, "the settings stay");
    drop(db);
    assert_eq!(user_version(&file.0), 3);

    let migrated = bytes_of(&file.0);
    drop(open(&file.0).unwrap());
    assert_eq!(user_version(&file.0), 3);
    assert!(bytes_of(&file.0) == migrated, "opening an up-to-date file writes nothing, not even its header");
}

#[test]
fn a_version_2_file_gains_client_ids_keeping_its_rows_which_have_none() {
    let file = TempFile::new("v2-fixture");
    {
        let mut old = v2_file(&file.0);
        fill_for_tests(&mut old, Fill { profile: "Pi", rows: 1_000, topics: 10, start_ms: T0_MS }).unwrap();
        fill_for_tests(&mut old, Fill { profile: "Lab", rows: 5, topics: 1, start_ms: T0_MS }).unwrap();
        let json = serde_json::to_string(&v5_properties()).unwrap();
        old.execute(
            "INSERT INTO messages (profile, topic, payload, qos, retain, at_ms, properties, dup)
             VALUES ('Pi', 'lamp/status', X'6F6E', 1, 0, ?1, ?2, 1)",
            rusqlite::params![T0_MS + 5_000, json],
        )
        .unwrap();
    }
    assert_eq!(user_version(&file.0), 2);

    let mut db = open(&file.0).unwrap();
    assert_eq!(user_version(&file.0), 3);
    assert_eq!((count(&db, "Pi").unwrap(), count(&db, "Lab").unwrap()), (1_001, 5), "every row stays");
    let nulls: i64 = db.query_row("SELECT COUNT(*) FROM messages WHERE client_id IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(nulls, 1_006, "rows from before know no client id");
    let v5 = newest(&db, "Pi", 1).unwrap().remove(0);
    assert_eq!((v5.topic.as_str(), v5.properties.clone(), v5.dup), ("lamp/status", v5_properties(), true));
    assert_eq!(newest_of_client(&db, "Pi", "", 2000).unwrap().len(), 1_001, "an empty id reads them");

    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(T0_MS).unwrap() + 9_000);
    insert(&mut db, &[record("Pi", "lamp/status", "off", at)]).unwrap();
    let mine = newest_of_client(&db, "Pi", super::tests::CLIENT, 10).unwrap();
    assert_eq!(mine.len(), 1, "a new row carries its connection's id");
    assert_eq!(&mine[0].payload[..], b"off");
    assert_eq!(newest_of_client(&db, "Pi", "", 2000).unwrap().len(), 1_001, "and is not one of the old ones");
}

#[test]
fn properties_and_dup_round_trip_and_a_3_1_1_row_stores_null() {
    let file = TempFile::new("properties");
    let mut db = open(&file.0).unwrap();
    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(T0_MS).unwrap());
    let mut v5 = record("Pi", "lamp/status", "{\"on\":true}", at);
    v5.message.properties = v5_properties();
    v5.message.dup = true;
    let mut binary = record("Pi", "raw", "", at + Duration::from_millis(1));
    binary.message.properties.correlation_data = Some(Bytes::from_static(&[0, 0xff, 0x10]));
    let plain = record("Pi", "PV/data", "1.5", at + Duration::from_millis(2));
    insert(&mut db, &[v5.clone(), binary.clone(), plain.clone()]).unwrap();

    let nulls: i64 = db.query_row("SELECT COUNT(*) FROM messages WHERE properties IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(nulls, 1, "only the 3.1.1 message has none");
    let want = vec![plain.message.clone(), binary.message.clone(), v5.message.clone()];
    assert_eq!(newest(&db, "Pi", 10).unwrap(), want, "reload");
    assert_eq!(page_before(&db, PI, i64::MAX, "", (0, 10)).unwrap(), want, "the list's stored pages");
    let mut exported = Vec::new();
    each_before(&db, PI, i64::MAX, "", |m| {
        exported.push(m);
        Ok(())
    })
    .unwrap();
    assert_eq!(exported, want.into_iter().rev().collect::<Vec<_>>(), "exports, oldest first");
}

#[test]
fn stored_rows_are_found_by_the_text_of_their_properties() {
    let file = TempFile::new("search");
    let mut db = open(&file.0).unwrap();
    let at = SystemTime::now() - Duration::from_mins(1);
    let mut v5 = record("Pi", "lamp/status", "on", at);
    v5.message.properties = v5_properties();
    let plain = record("Pi", "PV/data", "1.5", at);
    insert(&mut db, &[v5, plain]).unwrap();
    let found = |query: &str| count_before(&db, PI, i64::MAX, query).unwrap();
    assert_eq!(found(""), 2);
    assert_eq!(found("B204"), 1, "a user property value");
    assert_eq!(found("lab \"2\""), 1, "a value with quotes, which JSON escapes");
    assert_eq!(found("room"), 1, "a user property name");
    assert_eq!(found("application/"), 1, "the content type");
    assert_eq!(found("lamp/reply"), 1, "the response topic");
    assert_eq!(found("req-7"), 1, "correlation data as text, though stored as hex");
    assert_eq!(found("user_properties"), 0, "the JSON's keys are not text the user sees");
    assert_eq!(found("nowhere"), 0);
    let page = page_before(&db, PI, i64::MAX, "B204", (0, 10)).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].topic, "lamp/status");
}

#[test]
fn a_file_from_a_newer_version_is_refused_and_left_untouched() {
    let file = TempFile::new("newer");
    std::fs::create_dir_all(file.0.parent().unwrap()).unwrap();
    {
        // A rollback-journal file: switching it to WAL would be a write this build must not do.
        let newer = Connection::open(&file.0).unwrap();
        newer.execute_batch("CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT NOT NULL);").unwrap();
        newer.execute("INSERT INTO messages (body) VALUES ('from the future')", []).unwrap();
        newer.pragma_update(None, "user_version", 4).unwrap();
    }
    let before = bytes_of(&file.0);

    let error = open(&file.0).unwrap_err().to_string();
    assert_eq!(
        error,
        "this history was written by a newer MQTT Lab (schema 4); this version reads up to 3, so it is left as it is"
    );

    let (tx, rx) = std::sync::mpsc::channel();
    let writer = HistoryWriter::start(file.0.clone(), move |r| {
        let _ = tx.send(r);
    })
    .unwrap();
    let Report::Note(note) = rx.recv_timeout(Duration::from_secs(20)).unwrap() else { panic!("a note first") };
    assert!(note.starts_with("History is off: cannot open") && note.contains("(schema 4)"), "{note}");
    writer.record(record("Pi", "a", "b", SystemTime::now()));
    drop(writer);

    assert!(bytes_of(&file.0) == before, "the newer file is byte for byte as it was");
    assert_eq!(user_version(&file.0), 4);
}
