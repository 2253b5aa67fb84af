//! `soak`: N connections held for `--duration` with keepalive traffic and a mixed publish load.
//! `--publishers` of them publish at `--rate` messages/s in all, cycling QoS 0, 1 and 2, each on
//! its own topic; `--subscribers` of them subscribe to every topic at QoS 2; the rest only ping
//! every half keepalive. Every `--sample` seconds a sample is taken (the broker's memory with
//! `--pid`, connections alive, disconnects, messages published and delivered); at the end every
//! subscriber's count is checked against what was published.
//!
//! The connections open in a connect storm ([`storm`]): `--at-once` attempts in flight, from the
//! `--source` addresses in turn (one address has about 28,000 ports towards one broker);
//! refused attempts are counted apart from disconnects. The hold, and the load, last
//! `--duration` after the storm, so that a long storm does not shorten them.
//!
//! One process holds at most its open-file limit of connections: `scripts/soak.sh` splits a
//! larger count over several, the first carrying the publishers and subscribers (the others run
//! with `--publishers 0 --subscribers 0`), and sums their results.

mod roles;
mod storm;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior, interval};

use super::conn::rss_kb;
use super::{outcome, run_id, target};
use crate::client::ClientError;
use crate::options::Options;
use crate::payload::Tracker;
use crate::report::{Outcome, Sample};
use roles::{Ended, Role};
use storm::Storm;

#[derive(Debug, Default)]
pub(super) struct Counters {
    connected: AtomicU64,
    refused: AtomicU64,
    disconnects: AtomicU64,
    published: AtomicU64,
    delivered: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// What connection `n` does once connected.
enum Kind {
    Publisher,
    Subscriber,
    Idle,
}

pub(super) async fn run(o: &Options) -> Result<Outcome, ClientError> {
    storm::check_limits(o)?;
    let target = Arc::new(target(o)?);
    let id = run_id();
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop) = watch::channel(false);
    // Publishers start once every subscriber has subscribed, so that each gets every message.
    let (go_tx, go) = watch::channel(false);
    let publishers = u64::from(o.publishers).min(o.count);
    let subscribers = u64::from(o.subscribers).min(o.count - publishers);
    // Each publisher's share of the rate, and the most it can send in the run.
    let per_publisher_rate = o.rate / publishers.max(1) as f64;
    let every = Duration::from_secs_f64(1.0 / per_publisher_rate);
    let most = (per_publisher_rate * o.duration.as_secs_f64()).ceil() as u64 + 1;
    let started = Instant::now();
    let rss_start = o.pid.and_then(rss_kb);
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler = tokio::spawn(sample_every(o.clone(), counters.clone(), samples.clone(), started));
    let storm = Storm::new(o);
    let filter = format!("soak/{id}/#");
    let mut tasks = JoinSet::new();
    for n in 0..o.count {
        let permit = storm.permit().await;
        let kind = match n {
            n if n < publishers => Kind::Publisher,
            n if n < publishers + subscribers => Kind::Subscriber,
            _ => Kind::Idle,
        };
        let role = Role {
            keepalive: Duration::from_secs(u64::from(o.keepalive)),
            stop: stop.clone(),
            go: go.clone(),
            counters: counters.clone(),
        };
        let (storm, target, name, keep_alive) = (storm.clone(), target.clone(), format!("soak-{id}-c{n}"), o.keepalive);
        let (topic, filter, size) = (format!("soak/{id}/p{n}"), filter.clone(), o.payload);
        tasks.spawn(async move {
            let subscribe = matches!(kind, Kind::Subscriber).then_some(filter.as_str());
            let client = storm.attempt(n, &target, &name, keep_alive, subscribe).await;
            drop(permit);
            let Some(client) = client else {
                Counters::add(&role.counters.refused);
                return Ended::Refused;
            };
            Counters::add(&role.counters.connected);
            match kind {
                Kind::Publisher => {
                    let publisher = u32::try_from(n).unwrap_or(u32::MAX);
                    role.publish(client, &topic, publisher, every, size).await
                }
                Kind::Subscriber => {
                    role.subscribe(client, Tracker::new(u32::try_from(publishers).unwrap_or(u32::MAX), most)).await
                }
                Kind::Idle => role.idle(client).await,
            }
        });
    }
    storm.finished().await;
    let storm = storm.summary(o.count);
    let _ = go_tx.send(true);
    tokio::time::sleep(o.duration).await;
    let _ = stop_tx.send(true);
    let mut trackers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(Ended::Subscriber(t)) = joined {
            trackers.push(t);
        }
    }
    sampler.abort();
    let mut samples = std::mem::take(&mut *samples.lock().unwrap_or_else(PoisonError::into_inner));
    samples.push(report(o, &counters, started));

    let mut out = outcome(o);
    out.subscribers = u32::try_from(subscribers).unwrap_or(u32::MAX);
    out.publishers = u32::try_from(publishers).unwrap_or(u32::MAX);
    out.sent = Counters::get(&counters.published);
    // Per subscriber that subscribed: one refused in the storm is counted there, not as loss
    // (one lost later still counts every message it missed).
    out.expected = out.sent * trackers.len() as u64;
    out.received = trackers.iter().map(|t| t.unique).sum();
    out.duplicated = trackers.iter().map(|t| t.duplicated).sum();
    out.lost = out.expected.saturating_sub(out.received);
    out.seconds = started.elapsed().as_secs_f64();
    out.rate = out.received as f64 / o.duration.as_secs_f64();
    // Made, not asked for: the refused are the difference (and the `soak storm` line's causes).
    out.connections = Some(storm.connected);
    out.ramp_seconds = Some(storm.ramp_seconds);
    out.disconnects = Some(Counters::get(&counters.disconnects));
    (out.rss_before_kb, out.rss_after_kb) = (rss_start, samples.last().and_then(|s| s.rss_kb));
    out.samples = samples;
    Ok(out)
}

/// Samples every `--sample` from the start, storm included, until aborted: one clock for every
/// load-generator process of a run, so that their samples line up.
async fn sample_every(o: Options, counters: Arc<Counters>, samples: Arc<Mutex<Vec<Sample>>>, started: Instant) {
    let mut tick = interval(o.sample);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = report(&o, &counters, started);
        samples.lock().unwrap_or_else(PoisonError::into_inner).push(s);
    }
}

fn sample(o: &Options, c: &Counters, started: Instant) -> Sample {
    Sample {
        seconds: started.elapsed().as_secs_f64(),
        rss_kb: o.pid.and_then(rss_kb),
        connected: Counters::get(&c.connected),
        disconnects: Counters::get(&c.disconnects),
        published: Counters::get(&c.published),
        delivered: Counters::get(&c.delivered),
    }
}

/// Takes a sample and prints it as a row on stderr (unless `--quiet`).
fn report(o: &Options, c: &Counters, started: Instant) -> Sample {
    let s = sample(o, c, started);
    if !o.quiet {
        eprintln!(
            "soak {:>7.1} s  rss {:>8} KiB  connected {:>6}  refused {:>4}  disconnects {:>4}  published {:>9}  delivered {:>10}",
            s.seconds,
            s.rss_kb.map_or_else(|| "-".into(), |k| k.to_string()),
            s.connected,
            Counters::get(&c.refused),
            s.disconnects,
            s.published,
            s.delivered
        );
    }
    s
}
