//! Figures at scale, not a timed test: a version 2 file of 1,000,000 rows over 100,000 topics is
//! opened (migrated to 3), then the topic tree's reads, the reload and the writer's first figures
//! are timed and printed. Ignored by default (filling the file takes a while); run it with
//!
//! `cargo test --release -p mqtt-lab --lib history::scale_tests -- --ignored --nocapture`
//!
//! (`ROWS` and `TOPICS` in the environment change the size). It checks what it reads, so a
//! wrong answer fails it; how long things take is only printed.

use std::time::{Duration, Instant, SystemTime};

use super::migrate_tests::v2_file;

const PI: Whose<'static> = Whose { profile: "Pi", client: None };
use super::tests::{TempFile, record};
use super::*;
use crate::connection::ReceivedMessage;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    eprintln!("{what:<58} {:>9.1} ms", start.elapsed().as_secs_f64() * 1e3);
    out
}

#[test]
#[ignore = "a measurement over a file of a million rows: run on demand"]
fn a_million_rows_figures() {
    let (rows, topic_count) = (env_or("ROWS", 1_000_000), env_or("TOPICS", 100_000));
    let file = TempFile::new("scale");
    let t0_ms = 1_795_000_000_000;
    {
        let mut old = v2_file(&file.0);
        timed(&format!("fill a version 2 file: {rows} rows, {topic_count} topics"), || {
            fill_for_tests(&mut old, Fill { profile: "Pi", rows, topics: topic_count, start_ms: t0_ms }).unwrap();
        });
        old.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    }
    eprintln!("file size {} MB", retention::file_bytes(&file.0) / 1_000_000);

    let mut db = timed("open + migrate 2 -> 3", || open(&file.0).unwrap());
    drop(timed("open again (up to date)", || open(&file.0).unwrap()));
    topics_figures(&db, rows, topic_count);
    let busiest = fill_topic(rows - 1, topic_count);
    let recent = timed("recent(Pi, a topic, 100)", || recent(&db, PI, &busiest, 100).unwrap());
    assert_eq!(recent[0].payload, (rows - 1).to_string().as_bytes());
    let newest = timed("newest(Pi, 10000)", || newest(&db, "Pi", 10_000).unwrap());
    assert_eq!(newest.len() as u64, rows.min(10_000));
    timed("newest_of_client(Pi, a client, 10000), none stored", || {
        assert!(newest_of_client(&db, "Pi", "nobody", 10_000).unwrap().is_empty());
    });
    timed("count(Pi)", || count(&db, "Pi").unwrap());
    timed("retention::stats (the writer's first figures)", || retention::stats(&db, &file.0).unwrap());

    // What the indexes cost the writer: batches as the writer commits them, with both indexes
    // and then without the topic index the tree's reads use.
    let batches = 20;
    let batch_of = |base: u64| -> Vec<Record> {
        (0..5_000u64)
            .map(|i| {
                let n = base + i;
                let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_100_000_000 + n);
                record("Pi", &fill_topic(n * 7919, topic_count), &n.to_string(), at)
            })
            .collect()
    };
    let with: Vec<Vec<Record>> = (0..batches).map(|b| batch_of(b * 5_000)).collect();
    timed("insert 100,000 rows in batches of 5,000, both indexes", || {
        for b in &with {
            insert(&mut db, b).unwrap();
        }
    });
    db.execute_batch("DROP INDEX messages_by_topic;").unwrap();
    let without: Vec<Vec<Record>> = (batches..2 * batches).map(|b| batch_of(b * 5_000)).collect();
    timed("insert 100,000 rows in batches of 5,000, no topic index", || {
        for b in &without {
            insert(&mut db, b).unwrap();
        }
    });
    timed("CREATE INDEX (profile, topic, at_ms) over the file", || {
        db.execute_batch("CREATE INDEX messages_by_topic ON messages (profile, topic, at_ms);").unwrap();
    });
    drop(db);

    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    let writer = HistoryWriter::start(file.0.clone(), move |r| {
        let _ = tx.send(r);
    })
    .unwrap();
    eprintln!(
        "{:<58} {:>9.3} ms",
        "HistoryWriter::start returns (the UI thread's part)",
        started.elapsed().as_secs_f64() * 1e3
    );
    let first = rx.recv_timeout(Duration::from_mins(1)).unwrap();
    eprintln!("{:<58} {:>9.1} ms", "writer's first report (open + figures)", started.elapsed().as_secs_f64() * 1e3);
    assert!(matches!(first, Report::Stats(_)), "{first:?}");
    drop(writer);
}

/// `topics` timed against the query it replaced, each way of settling `retained`, and with a
/// partial index of the rows that say something of a retained message; checked against the fill.
fn topics_figures(db: &rusqlite::Connection, rows: u64, topic_count: u64) {
    // `topics` as it was before `retained` (counts and last rows only): what settling
    // `retained` adds to it.
    let before_retained = format!(
        "SELECT g.n, {}
         FROM (SELECT topic AS t, COUNT(*) AS n FROM messages WHERE profile = ?1 GROUP BY topic) AS g
         CROSS JOIN messages ON messages.id = (
             SELECT id FROM messages WHERE profile = ?1 AND topic = g.t ORDER BY at_ms DESC, id DESC LIMIT 1)",
        db::COLUMNS
    );
    let counts_and_last = || {
        let mut stmt = db.prepare(&before_retained).unwrap();
        let mut last: Vec<(i64, ReceivedMessage)> = stmt
            .query_map(["Pi"], |r| Ok((r.get(0)?, db::row_message_from(r, 1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        last.sort_by(|a, b| a.1.topic.cmp(&b.1.topic));
        assert_eq!(last.len() as u64, topic_count.min(rows));
    };
    timed("counts and last rows only (the query before `retained`)", counts_and_last);
    let found = timed("topics(Pi)", || topics(db, "Pi").unwrap());
    timed("counts and last rows only, again", counts_and_last);
    assert_eq!(found.len() as u64, topic_count.min(rows));
    assert_eq!(found.iter().map(|t| t.count).sum::<u64>(), rows);
    // Odd rows are retained (none empty): topic `t` has rows `t + k * topic_count`, so it is
    // retained when one of them is odd. With an even topic count, half the topics never are,
    // and finding that out walks all their rows: the worst case of `retained`.
    let has_odd_row = |t: u64| t % 2 == 1 || (topic_count % 2 == 1 && t + topic_count < rows);
    let retained = (0..topic_count.min(rows)).filter(|&t| has_odd_row(t)).count();
    assert_eq!(found.iter().filter(|t| t.retained).count(), retained);
    eprintln!("  of which retained: {retained}");
    for how in [tree::Settle::Walk, tree::Settle::Scan] {
        let settled = timed(&format!("topics(Pi), retained settled by {how:?} only"), || {
            tree::topics_settled(db, PI, i64::MAX, Some(how)).unwrap()
        });
        assert_eq!(settled, found);
    }
    // What a partial index of the rows that say something of the retained message would save
    // `retained` (one seek per topic instead of a walk), and what it costs to build: measured
    // for a possible schema step, dropped again so the writer's figures below are the schema's.
    timed("CREATE INDEX (profile, topic, at_ms) WHERE retain or empty", || {
        db.execute_batch(
            "CREATE INDEX messages_retained ON messages (profile, topic, at_ms)
             WHERE retain <> 0 OR length(payload) = 0;",
        )
        .unwrap();
    });
    let indexed = timed("topics(Pi) with that index", || topics(db, "Pi").unwrap());
    assert_eq!(indexed, found);
    db.execute_batch("DROP INDEX messages_retained;").unwrap();
}
