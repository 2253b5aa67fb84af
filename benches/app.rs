//! The app's targets, one command: `cargo bench --bench app` (or `-- <name>` for one of them;
//! issue 9: `ingest`, `scroll`, `startup`; issue 22: `tree`, `three`, `cold`).
//!
//! - ingest: the real App (egui_kittest harness, no window) connected to its built-in broker while
//!   a publisher sends 50,000 msg/s for 5 s (PV/data numbers and PV/sunshine, so every message
//!   reaches the list, the history file, the schema check and the plot); frames are stepped at
//!   60 Hz and each one timed (wall clock and this thread's CPU time). `-- ingest --mqtt5` runs it
//!   with MQTT 5 on both sides (issue 21): the app's profile set to version 5 before it connects,
//!   and the publisher connecting with MQTT 5, its PUBLISHes carrying an empty property block
//!   (no properties), so the app reads and stores MQTT 5 packets at the same rate.
//! - scroll: 1,000,000 messages in a real history file; the message list is scrolled with the
//!   mouse wheel through hundreds of thousands of older rows, each frame timed.
//! - startup: the real `mqtt-lab` binary under Xvfb with a fresh home: time from spawning it to
//!   its first frame, and its resident memory after 5 s idle (5 runs). See `app/real.rs`.
//! - tree, three: 100,000 distinct topics into the Topics tab, at 50,000 msg/s over one
//!   connection, and at 20,000 msg/s to each of three connections. See `app/topics.rs`.
//! - cold: `startup` with 10 profiles and 1,000,000 messages in history. See `app/real.rs`.

// Counts become rates and sizes: f64 precision is plenty.
#![allow(clippy::cast_precision_loss)]

#[path = "app/real.rs"]
mod real;
#[path = "../tests/support/mod.rs"]
mod support;
#[path = "app/topics.rs"]
mod topics;

/// The allocator of the app's binary (src/main.rs), so the frames timed are the ones users get.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::time::{Duration, Instant};

use bytes::BytesMut;
use cpu_time::ThreadTime;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mqtt_lab::App;
use mqtt_lab::connection::ConnectionStatus;
use mqtt_lab_bench::client::{Client, Target};
use mqtt_lab_bench::wire::put_publish;
use support::{ProfileDir, app_harness, connect_and_subscribe, runtime, step_until, stored_history};
use tokio::io::AsyncWriteExt;

const FRAME: Duration = Duration::from_micros(16_667);
/// The target; `-- ingest --rate=N` measures the headroom above it.
const RATE: u64 = 50_000;
const SECONDS: u64 = 5;

fn main() {
    let chosen: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let wants = |name: &str| chosen.is_empty() || chosen.iter().any(|c| c == name);
    if wants("ingest") {
        // Published in 1 ms batches: at least 1,000 msg/s.
        let rate = std::env::args().find_map(|a| a.strip_prefix("--rate=").and_then(|r| r.parse().ok()));
        let v5 = std::env::args().any(|a| a == "--mqtt5");
        ingest(rate.filter(|r| *r >= 1000).unwrap_or(RATE), v5);
    }
    if wants("scroll") {
        scroll();
    }
    if wants("startup") {
        real::startup();
    }
    if wants("tree") {
        topics::tree();
    }
    if wants("three") {
        topics::three();
    }
    if wants("cold") {
        real::cold();
    }
}

/// Frame times as a line: median, p95, max, and how many went over 16 ms (wall and CPU).
fn frames(label: &str, mut wall: Vec<Duration>, mut cpu: Vec<Duration>) {
    wall.sort();
    cpu.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |v: &[Duration], p: usize| v[(v.len() * p / 100).min(v.len() - 1)];
    let over = wall.iter().filter(|d| **d > Duration::from_millis(16)).count();
    let cpu_over = cpu.iter().filter(|d| **d > Duration::from_millis(16)).count();
    println!(
        "{label}: {} frames; wall median {:.2} ms, p95 {:.2} ms, max {:.2} ms, {over} over 16 ms; \
         UI-thread CPU median {:.2} ms, p95 {:.2} ms, max {:.2} ms, {cpu_over} over 16 ms",
        wall.len(),
        ms(at(&wall, 50)),
        ms(at(&wall, 95)),
        ms(wall[wall.len() - 1]),
        ms(at(&cpu, 50)),
        ms(at(&cpu, 95)),
        ms(cpu[cpu.len() - 1]),
    );
}

/// Publishes `rate` messages a second for `SECONDS` to the broker at `port`, in 1 ms batches;
/// `put` writes message `n` (from 0) into the batch. With `v5` the publisher connects with MQTT 5.
async fn publish_with(port: u16, rate: u64, v5: bool, mut put: impl FnMut(&mut BytesMut, u64)) -> u64 {
    use mqtt_lab_broker::codec::Protocol;
    let target = Target {
        addr: ([127, 0, 0, 1], port).into(),
        username: None,
        password: None,
        client_prefix: String::new(),
        connector: mqtt_lab_bench::transport::Connector::plain(),
        protocol: if v5 { Protocol::V5 } else { Protocol::V311 },
    };
    let mut client = Client::connect(&target, "bench-publisher", 60).await.expect("the publisher connects");
    let per_ms = rate / 1000;
    let start = tokio::time::Instant::now();
    let mut buf = BytesMut::new();
    let mut sent = 0u64;
    for ms in 0..SECONDS * 1000 {
        tokio::time::sleep_until(start + Duration::from_millis(ms)).await;
        for _ in 0..per_ms {
            put(&mut buf, sent);
            sent += 1;
        }
        client.stream.write_all(&buf).await.expect("the broker takes the messages");
        buf.clear();
    }
    sent
}

/// Issue 9's traffic: PV/data numbers and, one in ten, PV/sunshine yes/no; with `v5` each
/// PUBLISH carries an empty property block.
async fn publish(port: u16, rate: u64, v5: bool) -> u64 {
    publish_with(port, rate, v5, move |buf, n| {
        if n.is_multiple_of(10) {
            put_publish(buf, v5, "PV/sunshine", 0, false, 0, if n.is_multiple_of(20) { b"yes" } else { b"no" });
        } else {
            let kw = format!("{:.3}", (n % 4500) as f64 / 1000.0);
            put_publish(buf, v5, "PV/data", 0, false, 0, kw.as_bytes());
        }
    })
    .await
}

/// Steps frames at 60 Hz until `done` holds (at most a minute), calling `between` before each
/// (what a user does meanwhile); each step timed by wall clock and by this thread's CPU time.
/// Returns those times and how long it took.
fn timed_frames(
    harness: &mut Harness<'_, App>,
    done: impl Fn(&App) -> bool,
    mut between: impl FnMut(&mut Harness<'_, App>),
) -> (Vec<Duration>, Vec<Duration>, Duration) {
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let mut next = start;
    while !done(harness.state()) && start.elapsed() < Duration::from_mins(1) {
        between(harness);
        let (w, c) = (Instant::now(), ThreadTime::now());
        harness.step();
        wall.push(w.elapsed());
        cpu.push(c.elapsed());
        next += FRAME;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    (wall, cpu, start.elapsed())
}

fn ingest(rate: u64, v5: bool) {
    let rt = runtime();
    let dir = ProfileDir::new("bench-ingest");
    let mut harness = app_harness(&rt, &dir);
    let version = if v5 { mqtt_lab::mqtt::MqttVersion::V5 } else { mqtt_lab::mqtt::MqttVersion::V311 };
    harness.state_mut().selected_profile_mut().version = version;
    connect_and_subscribe(&mut harness);
    // An MQTT 5 CONNACK is the only one with what the broker granted.
    let granted = matches!(harness.state().status(), ConnectionStatus::Connected { granted: Some(_), .. });
    assert_eq!(granted, v5, "the app connected with {version:?}");
    let Some(addr) = harness.state().builtin_addr() else { panic!("no broker") };
    let before = harness.state().model().messages.total();
    let publisher = rt.spawn(publish(addr.port(), rate, v5));
    let expected = rate * SECONDS;
    let (wall, cpu, took) = timed_frames(&mut harness, |app| app.model().messages.total() - before >= expected, |_| {});
    let sent = rt.block_on(publisher).expect("the publisher ran");
    let received = harness.state().model().messages.total() - before;
    println!(
        "ingest ({}): {sent} messages published at {rate}/s; the app took in {received} in {:.2} s ({:.0} msg/s)",
        if v5 { "MQTT 5" } else { "MQTT 3.1.1" },
        took.as_secs_f64(),
        received as f64 / took.as_secs_f64()
    );
    frames("ingest frames", wall, cpu);
    step_until(&mut harness, "the history writer to catch up", |app| {
        app.history_stats().is_some_and(|s| s.messages() >= received)
    });
    let stats = harness.state().history_stats().map_or(0, mqtt_lab::history::Stats::messages);
    println!("ingest: the history file holds {stats} messages");
}

fn scroll() {
    let rt = runtime();
    let dir = ProfileDir::new("bench-scroll");
    let t = Instant::now();
    stored_history(&dir, 1_000_000, Duration::from_hours(30), |i| format!("{:.3}", (i % 4500) as f64 / 1000.0));
    println!("scroll: 1,000,000 rows written in {:.1} s", t.elapsed().as_secs_f64());
    let mut harness = app_harness(&rt, &dir);
    step_until(&mut harness, "the history counted", |app| app.model().stored.len() == 990_000);
    let header = harness.get_by_label_contains("older in history");
    let list = egui::pos2(header.rect().center().x, header.rect().bottom() + 200.0);
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for frame in 0..600 {
        // 300 frames down at 20,000 points (about 1,000 rows) a frame, then back up.
        let delta = if frame < 300 { -20_000.0 } else { 20_000.0 };
        let input = harness.input_mut();
        input.events.push(egui::Event::PointerMoved(list));
        input.events.push(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, delta),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        let (w, c) = (Instant::now(), ThreadTime::now());
        harness.step();
        wall.push(w.elapsed());
        cpu.push(c.elapsed());
        std::thread::sleep(FRAME.saturating_sub(w.elapsed()));
    }
    let shown = harness.query_all_by_label_contains("PV/data").count();
    println!(
        "scroll: 990,000 older rows; {} rows read from the file and held; {shown} rows on screen at the end",
        harness.state().model().stored.held()
    );
    frames("scroll frames", wall, cpu);
}
