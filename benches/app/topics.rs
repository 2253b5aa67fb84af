//! Issue 22's scenarios for several connections and the topic tree, driven as a user does: the
//! subscribe form's filter typed (`site/#`), Connect and Subscribe clicked, the Topics tab shown
//! and its first levels expanded by clicking their arrows as soon as they appear, while a
//! publisher sends 100,000 distinct topics (`site/b{i%50}/floor{i%20}/dev{i}/temp`, cycling).
//!
//! - tree: one connection, 50,000 msg/s for 5 s.
//! - three: three connections to the built-in broker at once (Connect, then "Open again" twice,
//!   each subscribed), one publisher at 20,000 msg/s for 5 s: the broker sends each message to
//!   all three, so each connection receives 20,000 msg/s.
//!
//! Each reports the frames (wall and UI-thread CPU), whether the lists and trees kept up
//! (received against sent, topics in the tree), the trees' `memory_bytes` and the process's RSS
//! growth over the run (the app, its built-in broker and the publisher share the process).

use std::sync::Arc;
use std::time::Instant;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mqtt_lab::App;
use mqtt_lab::connection::ConnectionStatus;
use mqtt_lab::model::SubscriptionState;
use mqtt_lab::tree::TopicTree;
use mqtt_lab_bench::wire::put_publish;

use crate::support::{ProfileDir, app_harness, runtime, set_field, settle, step_until};
use crate::{SECONDS, frames, publish_with, timed_frames};

/// Distinct topics the publisher cycles through.
const TOPICS: usize = 100_000;
/// The subscription each connection makes.
const FILTER: &str = "site/#";
/// Levels expanded in the Topics tab, in order (each appears once its first message arrived).
const EXPAND: [&str; 4] = ["site", "site/b0", "site/b0/floor0", "site/b0/floor0/dev0"];

fn topic_names() -> Vec<String> {
    (0..TOPICS).map(|i| format!("site/b{}/floor{}/dev{i}/temp", i % 50, i % 20)).collect()
}

/// Resident memory of this process in bytes (Linux).
fn resident() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

fn connected(app: &App, i: usize) -> bool {
    app.model_of(i).is_some_and(|m| matches!(m.status, ConnectionStatus::Connected { .. }))
}

fn subscribed(app: &App) -> bool {
    app.model().subscriptions.list.iter().any(|s| matches!(s.state, SubscriptionState::Active(_)))
}

/// Clicks `label` (a button) and waits until session `i` is connected and subscribed to `FILTER`.
fn open(harness: &mut Harness<'_, App>, label: &str, i: usize) {
    harness.get_by_role_and_label(Role::Button, label).click();
    step_until(harness, "connected", |app| connected(app, i) && app.connections().1 == i);
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(harness, "the SUBACK", subscribed);
}

/// The app with `n` connections to its built-in broker, each subscribed to `FILTER`, and the
/// Topics tab on view (of the last one opened).
fn app_with(rt: &tokio::runtime::Runtime, dir: &ProfileDir, n: usize) -> Harness<'static, App> {
    let mut harness = app_harness(rt, dir);
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    set_field(&mut harness, "Filter", FILTER);
    open(&mut harness, "Connect", 0);
    for i in 1..n {
        open(&mut harness, "Open again", i);
    }
    assert_eq!(harness.state().connections().0.len(), n, "{n} connections listed");
    harness.get_by_role_and_label(Role::Button, "Topics").click();
    settle(&mut harness);
    harness
}

/// Publishes the cycling topics at `rate` for `SECONDS` to the built-in broker.
fn publisher(rt: &tokio::runtime::Runtime, harness: &Harness<'_, App>, rate: u64) -> tokio::task::JoinHandle<u64> {
    let Some(addr) = harness.state().builtin_addr() else { panic!("no broker") };
    let topics = Arc::new(topic_names());
    rt.spawn(publish_with(addr.port(), rate, false, move |buf, n| {
        let i = usize::try_from(n).unwrap_or(0) % TOPICS;
        let payload = format!("{}.{}", 15 + n % 15, n % 10);
        put_publish(buf, false, &topics[i], 0, false, 0, payload.as_bytes());
    }))
}

/// Runs frames until every one of `n` sessions received `expected` more messages (bounded),
/// clicking the next of `EXPAND` as soon as its arrow is drawn; prints the frames.
fn run(harness: &mut Harness<'_, App>, label: &str, n: usize, expected: u64) {
    let before: Vec<u64> = (0..n).map(|i| harness.state().model_of(i).map_or(0, |m| m.messages.total())).collect();
    let done = |app: &App| (0..n).all(|i| app.model_of(i).map_or(0, |m| m.messages.total()) - before[i] >= expected);
    let mut expand = EXPAND.iter().peekable();
    let mut expanded = 0;
    // Before each frame: messages taken in and topics in the trees so far, to say what the
    // slowest frames did.
    let mut seen: Vec<(u64, usize)> = Vec::new();
    // When each frame began (CLOCK_MONOTONIC, as `perf record -k CLOCK_MONOTONIC` stamps its
    // samples), to find a slow frame's samples with `perf script --time`.
    let mut began = Vec::new();
    let (wall, cpu, took) = timed_frames(harness, done, |h| {
        seen.push(intake(h.state(), n));
        began.push(Instant::now());
        if let Some(topic) = expand.peek()
            && let Some(arrow) = h.query_by_label(&format!("Expand {topic}"))
        {
            arrow.click();
            expand.next();
            expanded += 1;
        }
    });
    for (i, first) in before.iter().enumerate() {
        let app = harness.state();
        let received = app.model_of(i).map_or(0, |m| m.messages.total()) - first;
        let tree = app.tree_of(i).expect("the session's tree");
        println!(
            "{label}: connection {i}: took in {received} in {:.2} s ({:.0} msg/s); its tree: {} topics, {} messages, \
             memory_bytes {:.1} MB",
            took.as_secs_f64(),
            received as f64 / took.as_secs_f64(),
            tree.len(),
            tree.message_count(),
            tree.memory_bytes() as f64 / 1e6
        );
    }
    seen.push(intake(harness.state(), n));
    let mut slowest: Vec<usize> = (0..cpu.len()).collect();
    slowest.sort_by_key(|&k| std::cmp::Reverse(cpu[k]));
    for &k in slowest.iter().take(5) {
        let ((m0, t0), (m1, t1)) = (seen[k], seen[k + 1]);
        println!(
            "{label}: frame {k}: {:.2} ms CPU, {:.2} ms wall; took in {} messages, {} new topics ({t1} in all); \
             began at {:?}",
            cpu[k].as_secs_f64() * 1000.0,
            wall[k].as_secs_f64() * 1000.0,
            m1 - m0,
            t1 - t0,
            began[k]
        );
    }
    let drawn = harness.query_all_by_label_contains("Expand site/b0/floor0/dev").count();
    println!("{label}: {expanded} of {} levels expanded by clicks; {drawn} device rows drawn at the end", EXPAND.len());
    frames(&format!("{label} frames"), wall, cpu);
}

/// Messages taken in and topics in the trees of the first `n` sessions, all together.
fn intake(app: &App, n: usize) -> (u64, usize) {
    (0..n).fold((0, 0), |(m, t), i| {
        (m + app.model_of(i).map_or(0, |x| x.messages.total()), t + app.tree_of(i).map_or(0, TopicTree::len))
    })
}

/// Waits for the history writer to hold `n` messages and says how many it holds.
fn history(harness: &mut Harness<'_, App>, label: &str, n: u64) {
    step_until(harness, "the history writer to catch up", |app| app.history_stats().is_some_and(|s| s.messages() >= n));
    let stats = harness.state().history_stats().map_or(0, mqtt_lab::history::Stats::messages);
    println!("{label}: the history file holds {stats} messages");
}

/// The tree and the list at 50,000 msg/s of 100,000 distinct topics on one connection.
pub fn tree() {
    const RATE: u64 = 50_000;
    let rt = runtime();
    let dir = ProfileDir::new("bench-tree");
    let mut harness = app_with(&rt, &dir, 1);
    let rss = resident();
    let publisher = publisher(&rt, &harness, RATE);
    run(&mut harness, "tree", 1, RATE * SECONDS);
    let grown = resident().saturating_sub(rss);
    let sent = rt.block_on(publisher).expect("the publisher ran");
    println!(
        "tree: {sent} messages published at {RATE}/s over {TOPICS} topics; process RSS grew {:.1} MB",
        grown as f64 / 1e6
    );
    history(&mut harness, "tree", sent);
}

/// Three connections at once, each receiving 20,000 msg/s.
pub fn three() {
    const RATE: u64 = 20_000;
    let rt = runtime();
    let dir = ProfileDir::new("bench-three");
    let mut harness = app_with(&rt, &dir, 3);
    let rss = resident();
    let publisher = publisher(&rt, &harness, RATE);
    run(&mut harness, "three", 3, RATE * SECONDS);
    let grown = resident().saturating_sub(rss);
    let sent = rt.block_on(publisher).expect("the publisher ran");
    let memory: usize = (0..3).filter_map(|i| harness.state().tree_of(i)).map(TopicTree::memory_bytes).sum();
    println!(
        "three: {sent} messages published at {RATE}/s, each received by 3 connections; trees' memory_bytes \
         together {:.1} MB; process RSS grew {:.1} MB",
        memory as f64 / 1e6,
        grown as f64 / 1e6
    );
    history(&mut harness, "three", 3 * sent);
}
