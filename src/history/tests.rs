use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::*;
use crate::connection::{Qos, ReceivedMessage};

struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
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

fn record(profile: &str, topic: &str, payload: &str, at: SystemTime) -> Record {
    Record {
        profile: profile.into(),
        message: ReceivedMessage {
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload.as_bytes()),
            qos: Qos::AtLeastOnce,
            retain: true,
            dup: false,
            at,
        },
    }
}

#[test]
fn the_writer_commits_in_batches_and_a_new_connection_reads_them_back() {
    let file = TempFile::new("batches");
    let writer = HistoryWriter::start(file.0.clone(), |e| panic!("{e}")).unwrap();
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
        let writer = HistoryWriter::start(file.0.clone(), |e| panic!("{e}")).unwrap();
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
    let report = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(report.starts_with("History is off: cannot open"), "{report}");
    writer.record(record("Pi", "a", "b", SystemTime::now()));
    drop(writer);
}
