//! Measurements for the integrator's targets, ignored by default; run in release, alone:
//! `cargo test --release -p mqtt-lab --lib tree::bench -- --ignored --nocapture --test-threads=1`.
//! Times are this thread's CPU time (a loaded machine's wall clock says little). They assert
//! only generous bounds; the figures they print are the point.
#![allow(clippy::cast_precision_loss)]

use cpu_time::ThreadTime as Instant;

use super::tests::{seen, t};
use super::{TopicTree, TreeView};

const TOPICS: usize = 100_000;

fn topics() -> Vec<String> {
    (0..TOPICS).map(|i| format!("site/b{}/floor{}/dev{i}/temp", i % 50, i % 20)).collect()
}

/// Resident memory of this process in bytes (Linux), 0 elsewhere.
fn resident() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()))
        .map_or(0, |pages| pages * 4096)
}

#[test]
#[ignore = "a measurement: run in release, alone"]
fn record_cost_and_memory_for_100k_topics() {
    let topics = topics();
    let payloads: Vec<String> = (0..TOPICS).map(|i| format!("{}.{}", 15 + i % 15, i % 10)).collect();
    let rss_before = resident();
    let mut tree = TopicTree::new();
    let start = Instant::now();
    for (i, topic) in topics.iter().enumerate() {
        tree.record(seen(topic, payloads[i].as_bytes(), t(i as u64 / 50)));
    }
    let first = start.elapsed();
    let rss_after = resident();
    let rounds = 10;
    let start = Instant::now();
    for round in 1..=rounds {
        for (i, topic) in topics.iter().enumerate() {
            let payload = &payloads[(i + round) % TOPICS];
            tree.record(seen(topic, payload.as_bytes(), t(((round * TOPICS + i) / 50) as u64)));
        }
    }
    let known = start.elapsed();
    let bytes = tree.memory_bytes();
    let per_new = first.as_nanos() as f64 / TOPICS as f64;
    let per_known = known.as_nanos() as f64 / (rounds * TOPICS) as f64;
    println!("new topics: {per_new:.0} ns/record; known topics (new value each): {per_known:.0} ns/record");
    println!(
        "{} topics, {} nodes: memory_bytes {:.1} MB ({} B/topic); RSS grew {:.1} MB while the tree was built",
        tree.len(),
        tree.node_count(),
        bytes as f64 / 1e6,
        bytes / TOPICS,
        (rss_after.saturating_sub(rss_before)) as f64 / 1e6
    );
    assert_eq!(tree.len(), TOPICS);
    assert!(bytes < 60_000_000, "{bytes} bytes");
}

#[test]
#[ignore = "a measurement: run in release, alone"]
fn flattening_100k_expanded_rows() {
    let topics = topics();
    let mut tree = TopicTree::new();
    for (i, topic) in topics.iter().enumerate() {
        tree.record(seen(topic, b"21.5", t(i as u64 / 50)));
    }
    let mut view = TreeView::new();
    let ids: Vec<_> = (0..tree.nodes.len() as u32).skip(1).map(super::NodeId).collect();
    for id in ids {
        // Leaves too: expanding one shows nothing more, and toggling it below rebuilds.
        view.set_expanded(id, true);
    }
    let now = t(10_000);
    let leaf = tree.find(topics.last().unwrap()).unwrap();
    view.set_expanded(leaf, false);
    let start = Instant::now();
    let rows = tree.rows(&view, now).len();
    let expanded = start.elapsed();
    let start = Instant::now();
    for i in 0..10 {
        // Any view change rebuilds; the children's name order is cached by now.
        view.set_expanded(leaf, i % 2 == 0);
        assert_eq!(tree.rows(&view, now).len(), rows);
    }
    let warm = start.elapsed() / 10;
    let start = Instant::now();
    for _ in 0..1000 {
        assert_eq!(tree.rows(&view, now).len(), rows);
    }
    let cached = start.elapsed() / 1000;
    view.set_sort(super::SortBy::Rate);
    let start = Instant::now();
    tree.rows(&view, now);
    let by_rate = start.elapsed();
    view.set_sort(super::SortBy::Name);
    view.set_filter("FLOOR7/dev1");
    let start = Instant::now();
    let matching = tree.rows(&view, now).len();
    let filtered = start.elapsed();
    println!(
        "{rows} rows expanded: flatten {expanded:?} first, {warm:?} again (name sort), {by_rate:?} (rate sort), \
         cached {cached:?}; \
         filter over {} nodes: {filtered:?} ({matching} rows)",
        tree.node_count()
    );
    assert!(rows > TOPICS * 2);
}
