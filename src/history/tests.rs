use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::*;
use crate::connection::{Qos, ReceivedMessage};

/// A file in its own temporary directory, removed with it.
pub(super) struct TempFile(pub(super) std::path::PathBuf);

impl TempFile {
    pub(super) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mqtt-lab-history-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir.join("history.sqlite3"))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The client id `record` gives: the profile's one connection.
pub(super) const CLIENT: &str = "mqtt-lab-test";

pub(super) fn record(profile: &str, topic: &str, payload: &str, at: SystemTime) -> Record {
    Record {
        profile: profile.into(),
        client_id: CLIENT.into(),
        message: ReceivedMessage {
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload.as_bytes()),
            qos: Qos::AtLeastOnce,
            retain: true,
            dup: false,
            at,
            properties: crate::mqtt::PublishProperties::default(),
        },
    }
}

/// A writer's reports in a test: figures are fine, a note is a failure.
pub(super) fn no_failures(report: Report) {
    if let Report::Note(text) = report {
        panic!("{text}");
    }
}

#[test]
fn the_writer_commits_in_batches_and_a_new_connection_reads_them_back() {
    let file = TempFile::new("batches");
    let writer = HistoryWriter::start(file.0.clone(), no_failures).unwrap();
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    for i in 0..10_000u64 {
        writer.record(record("Pi", "PV/data", &format!("{}", i % 100), t0 + Duration::from_millis(i * 1000)));
    }
    writer.record(record("Other", "lamp/lum", "{\"value\":3}", t0));
    writer.flush().recv().unwrap();
    let db = open(&file.0).unwrap();
    assert_eq!(count(&db, "Pi").unwrap(), 10_000);
    assert_eq!(count(&db, "Other").unwrap(), 1);
    let newest = newest(&db, "Pi", 3).unwrap();
    assert_eq!(newest.len(), 3);
    assert_eq!(&newest[0].payload[..], b"99", "newest first");
    assert_eq!(newest[0].at, t0 + Duration::from_secs(9_999), "millisecond times round-trip");
    assert_eq!((newest[0].qos, newest[0].retain, newest[0].topic.as_str()), (Qos::AtLeastOnce, true, "PV/data"));
    assert!(size_bytes(&db).unwrap() > 100_000);
}

#[test]
fn dropping_the_writer_commits_what_is_left_and_binary_payloads_survive() {
    let file = TempFile::new("drop");
    let now = SystemTime::now();
    {
        let writer = HistoryWriter::start(file.0.clone(), no_failures).unwrap();
        let mut r = record("Pi", "raw", "", now);
        r.message.payload = Bytes::from_static(&[0, 159, 146, 150, 255]);
        writer.record(r);
    }
    let db = open(&file.0).unwrap();
    let back = newest(&db, "Pi", 10).unwrap();
    assert_eq!(&back[0].payload[..], &[0, 159, 146, 150, 255]);
}

#[test]
fn retention_and_clear_remove_only_what_they_name() {
    let file = TempFile::new("retention");
    let mut db = open(&file.0).unwrap();
    let now = SystemTime::now();
    let old = now - Duration::from_hours(72);
    db::insert(&mut db, &[record("Pi", "a", "old", old), record("Pi", "a", "new", now), record("Lab", "b", "x", now)])
        .unwrap();
    assert_eq!(delete_older(&db, now - Duration::from_hours(24)).unwrap(), 1);
    assert_eq!(count(&db, "Pi").unwrap(), 1);
    assert_eq!(clear(&db, "Pi").unwrap(), 1);
    assert_eq!(count(&db, "Pi").unwrap(), 0);
    assert_eq!(count(&db, "Lab").unwrap(), 1, "another profile's history stays");
}

#[test]
fn an_unopenable_file_is_reported_and_recording_does_nothing() {
    let (tx, rx) = std::sync::mpsc::channel();
    // A directory where the file should be: SQLite cannot open it.
    let file = TempFile::new("unopenable");
    std::fs::create_dir_all(&file.0).unwrap();
    let writer = HistoryWriter::start(file.0.clone(), move |e| {
        let _ = tx.send(e);
    })
    .unwrap();
    let Report::Note(report) = rx.recv_timeout(Duration::from_secs(20)).unwrap() else { panic!("a note first") };
    assert!(report.starts_with("History is off: cannot open"), "{report}");
    writer.record(record("Pi", "a", "b", SystemTime::now()));
    drop(writer);
}

#[test]
fn a_size_limit_removes_the_oldest_messages_and_gives_the_space_back() {
    let file = TempFile::new("size-limit");
    let mut db = open(&file.0).unwrap();
    let t0 = SystemTime::now() - Duration::from_hours(1);
    let payload = "x".repeat(1_000);
    let batch: Vec<Record> =
        (0..4_000u64).map(|i| record("Pi", "PV/data", &payload, t0 + Duration::from_millis(i))).collect();
    db::insert(&mut db, &batch).unwrap();
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    let before = std::fs::metadata(&file.0).unwrap().len();
    let mode: i64 = db.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, 2, "incremental");
    assert!(before > 4_000_000, "{before}");
    let limit = Retention { max_age_days: 0, max_megabytes: 2 };
    let removed = retention::apply(&db, limit, SystemTime::now()).unwrap();
    let after = std::fs::metadata(&file.0).unwrap().len();
    assert!(after <= 2_000_000, "the file shrank to the limit: {before} -> {after}");
    assert!((2_000..4_000).contains(&removed), "about half removed: {removed}");
    let kept = newest(&db, "Pi", 1).unwrap();
    assert_eq!(db::millis(kept[0].at), db::millis(t0 + Duration::from_millis(3_999)), "the newest stay");
    assert_eq!(retention::apply(&db, Retention::default(), SystemTime::now()).unwrap(), 0, "0 means no limit");
}

#[test]
fn the_writer_keeps_retention_in_the_file_and_clears_one_profile() {
    let file = TempFile::new("writer-retention");
    let (tx, rx) = std::sync::mpsc::channel();
    let writer = HistoryWriter::start(file.0.clone(), move |r| {
        let _ = tx.send(r);
    })
    .unwrap();
    let first = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(first, Report::Stats(Stats { file_bytes: first_size(&first), ..Stats::default() }));
    let now = SystemTime::now();
    writer.record(record("Pi", "a", "old", now - Duration::from_hours(50)));
    writer.record(record("Pi", "a", "new", now));
    writer.record(record("Lab", "b", "x", now));
    writer.set_retention(Retention { max_age_days: 2, max_megabytes: 0 });
    let reports: Vec<Report> = (0..3).map(|_| rx.recv_timeout(Duration::from_secs(20)).unwrap()).collect();
    let Report::Stats(committed) = &reports[0] else { panic!("{reports:?}") };
    assert_eq!((committed.of("Pi"), committed.of("Lab")), (2, 1), "each commit updates the figures");
    assert_eq!(reports[1], Report::Note("History: 1 old message(s) removed by the retention settings.".into()));
    let Report::Stats(stats) = &reports[2] else { panic!("{reports:?}") };
    assert_eq!((stats.of("Pi"), stats.of("Lab"), stats.retention.max_age_days), (1, 1, 2));
    writer.clear("Pi");
    let reports: Vec<Report> = (0..3).map(|_| rx.recv_timeout(Duration::from_secs(20)).unwrap()).collect();
    assert_eq!(reports[1], Report::Cleared("Pi".into()));
    let Report::Stats(stats) = &reports[2] else { panic!("{reports:?}") };
    assert_eq!((stats.of("Pi"), stats.of("Lab")), (0, 1));
    drop(writer);
    let db = open(&file.0).unwrap();
    assert_eq!(retention::load(&db).unwrap().max_age_days, 2, "the settings are kept in the file");
}

fn first_size(report: &Report) -> u64 {
    match report {
        Report::Stats(s) => s.file_bytes,
        _ => 0,
    }
}
