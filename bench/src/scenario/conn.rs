//! `conn`: N idle connections held open; with the broker's pid, its resident memory before
//! and after gives the cost of one connection. "Before" is read after the first [`WARM_UP`]
//! connections: what the broker's first clients touch once (code pages of its binary read in,
//! its threads' stacks, first buffers) is not a cost per connection, and counted it made the
//! figure depend on N. Every broker is measured the same way.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{outcome, run_id, target};
use crate::client::{Client, ClientError};
use crate::options::Options;
use crate::report::Outcome;

/// Connections opened at once: enough to be quick, few enough not to overflow the broker's
/// listen backlog.
const AT_ONCE: u64 = 100;
/// Time for the broker to settle before its memory is read.
const SETTLE: Duration = Duration::from_secs(1);
/// Connections opened (and kept) before the first reading.
const WARM_UP: u64 = 100;

pub(super) async fn run(o: &Options) -> Result<Outcome, ClientError> {
    let target = target(o)?;
    let id = run_id();
    let started = Instant::now();
    let deadline = started + o.duration;
    let mut held = Vec::with_capacity(usize::try_from(o.count).unwrap_or(0));
    let mut next = 0;
    let warm_up = if o.pid.is_some() && o.count > 2 * WARM_UP { WARM_UP } else { 0 };
    let mut rss_before = None;
    while next < o.count && Instant::now() < deadline {
        if next == warm_up && rss_before.is_none() {
            if warm_up > 0 {
                tokio::time::sleep(SETTLE).await;
            }
            rss_before = o.pid.and_then(rss_kb);
        }
        let mut batch = JoinSet::new();
        for n in next..(next + AT_ONCE).min(o.count) {
            let (target, name) = (target.clone(), format!("bench-{id}-c{n}"));
            batch.spawn(async move { Client::connect(&target, &name, 600).await });
        }
        next = (next + AT_ONCE).min(o.count);
        while let Some(joined) = batch.join_next().await {
            held.push(joined.map_err(|e| ClientError::Io(std::io::Error::other(e)))??);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let rss_after = o.pid.and_then(rss_kb);
    let mut out = outcome(o);
    (out.publishers, out.subscribers, out.payload) = (0, 0, 0);
    out.sent = held.len() as u64;
    out.seconds = seconds;
    out.rate = out.sent as f64 / seconds;
    (out.rss_before_kb, out.rss_after_kb) = (rss_before, rss_after);
    let measured = out.sent.saturating_sub(warm_up);
    if let (Some(a), Some(b)) = (rss_before, rss_after)
        && measured > 0
    {
        out.bytes_per_connection = Some((b as f64 - a as f64) * 1024.0 / measured as f64);
    }
    drop(held);
    Ok(out)
}

/// Resident set size of a process in KiB, from /proc (Linux).
pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
