//! `pub`, `sub`, `fanin` and `fanout`: publishers as fast as the broker takes them, every
//! subscriber counting what arrives.

use std::time::Duration;

use mqtt_lab_broker::codec::QoS;
use tokio::sync::watch;
use tokio::time::Instant;

use super::conn::rss_kb;
use super::cpu::Mark;
use super::{outcome, run_id, target};
use crate::client::{Client, ClientError};
use crate::options::{Options, Scenario};
use crate::payload::Tracker;
use crate::publisher::{Plan, Sent, publish};
use crate::report::{Outcome, percentile};
use crate::subscriber::{Heard, Until, listen};

/// After the last publisher is done, a silence this long ends the subscribers' wait.
const QUIET: Duration = Duration::from_secs(2);

/// What a run of publishers and subscribers gave.
pub(super) struct Exchanged {
    pub sent: Vec<Sent>,
    pub heard: Vec<Heard>,
    /// When the publishers started.
    pub started: Instant,
    /// The broker's memory (with `--pid`) before the run, and at its end with the `--stuck`
    /// subscribers still connected.
    pub rss_kb: (Option<u64>, Option<u64>),
    /// Processor time when the publishers started and when the last subscriber was done.
    pub cpu: (Mark, Mark),
}

/// Runs publishers and subscribers on `base/<publisher>`, with `--stuck` more subscribers that
/// never read a byte after their SUBACK.
pub(super) async fn exchange(
    o: &Options,
    subscribers: u32,
    rate: Option<f64>,
    latency: bool,
) -> Result<Exchanged, ClientError> {
    let target = target(o)?;
    let id = run_id();
    let base = format!("bench/{id}");
    let qos = QoS::from_u8(o.qos).unwrap_or(QoS::AtMostOnce);
    let rss_before = o.pid.and_then(rss_kb);
    let mut stuck = Vec::new();
    for k in 0..o.stuck {
        let mut c = Client::connect(&target, &format!("bench-{id}-stuck{k}"), 600).await?;
        c.subscribe(&format!("{base}/+"), qos).await?;
        stuck.push(c);
    }
    let mut subs = Vec::new();
    for s in 0..subscribers {
        let mut c = Client::connect(&target, &format!("bench-{id}-s{s}"), 60).await?;
        c.subscribe(&format!("{base}/+"), qos).await?;
        subs.push(c);
    }
    let mut pubs = Vec::new();
    for p in 0..o.publishers {
        pubs.push(Client::connect(&target, &format!("bench-{id}-p{p}"), 60).await?);
    }
    let started = Instant::now();
    let cpu_start = Mark::now(o.pid);
    let deadline = started + o.duration;
    let (done_tx, done_rx) = watch::channel(false);
    let listeners: Vec<_> = subs
        .into_iter()
        .map(|mut c| {
            let until = Until { publishers_done: done_rx.clone(), quiet: QUIET, deadline: deadline + QUIET };
            let tracker = Tracker::new(o.publishers, o.count);
            tokio::spawn(async move { listen(&mut c, tracker, latency, until).await })
        })
        .collect();
    let publishers: Vec<_> = pubs
        .into_iter()
        .enumerate()
        .map(|(p, mut c)| {
            let plan = Plan {
                topic: format!("{base}/{p}"),
                topic_per_message: false,
                publisher: p as u32,
                count: o.count,
                qos: o.qos,
                retain: false,
                payload_len: o.payload,
                window: o.inflight,
                rate,
                deadline,
            };
            tokio::spawn(async move { publish(&mut c, &plan).await })
        })
        .collect();
    let mut sent = Vec::new();
    for p in publishers {
        sent.push(p.await.map_err(|e| ClientError::Io(std::io::Error::other(e)))??);
    }
    let _ = done_tx.send(true);
    let mut heard = Vec::new();
    for l in listeners {
        heard.push(l.await.map_err(|e| ClientError::Io(std::io::Error::other(e)))??);
    }
    let cpu_end = Mark::now(o.pid);
    let rss_after = o.pid.and_then(rss_kb);
    drop(stuck);
    Ok(Exchanged { sent, heard, started, rss_kb: (rss_before, rss_after), cpu: (cpu_start, cpu_end) })
}

/// Fills in counts and rate from what was sent and heard.
pub(super) fn tally(mut out: Outcome, sent: &[Sent], heard: &[Heard], started: Instant) -> Outcome {
    out.sent = sent.iter().map(|s| s.sent).sum();
    out.refused = sent.iter().map(|s| s.refused).sum();
    out.expected = out.sent * heard.len() as u64;
    out.received = heard.iter().map(|h| h.tracker.unique).sum();
    out.duplicated = heard.iter().map(|h| h.tracker.duplicated).sum();
    out.lost = out.expected.saturating_sub(out.received);
    let end = if heard.is_empty() {
        sent.iter().map(|s| s.finished).max()
    } else {
        heard.iter().filter_map(|h| h.last).max()
    };
    out.seconds = end.map_or(0.0, |e| e.duration_since(started).as_secs_f64());
    let counted = if heard.is_empty() { sent.iter().map(|s| s.acknowledged).sum() } else { out.received };
    out.rate = if out.seconds > 0.0 { counted as f64 / out.seconds } else { 0.0 };
    let mut latencies: Vec<u64> = heard.iter().flat_map(|h| h.latencies.iter().copied()).collect();
    latencies.sort_unstable();
    let us = |p| percentile(&latencies, p).map(|ns| ns / 1000.0);
    (out.p50_us, out.p90_us, out.p99_us, out.max_us) = (us(50.0), us(90.0), us(99.0), us(100.0));
    out.over_1ms = (!latencies.is_empty()).then(|| latencies.iter().filter(|&&ns| ns > 1_000_000).count() as u64);
    out
}

pub(super) async fn run(o: &Options) -> Result<Outcome, ClientError> {
    let mut o = o.clone();
    match o.scenario {
        Scenario::Pub => o.subscribers = 0,
        Scenario::FanOut => o.publishers = 1,
        _ => {}
    }
    let run = exchange(&o, o.subscribers, None, false).await?;
    let mut out = tally(outcome(&o), &run.sent, &run.heard, run.started);
    (out.rss_before_kb, out.rss_after_kb) = run.rss_kb;
    let counted = if run.heard.is_empty() { run.sent.iter().map(|s| s.acknowledged).sum() } else { out.received };
    (out.broker_cpu_us, out.load_cpu_us) = run.cpu.1.per_delivery_us(&run.cpu.0, counted);
    out.stuck = (o.stuck > 0).then_some(o.stuck);
    Ok(out)
}
