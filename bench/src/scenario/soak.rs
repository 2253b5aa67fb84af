//! `soak`: N connections held for `--duration` with keepalive traffic and a mixed publish load.
//! `--publishers` of them publish at `--rate` messages/s in all, cycling QoS 0, 1 and 2, each on
//! its own topic; `--subscribers` of them subscribe to every topic at QoS 2; the rest only ping
//! every half keepalive. Every `--sample` seconds a sample is taken (the broker's memory with
//! `--pid`, connections alive, disconnects, messages published and delivered); at the end every
//! subscriber's count is checked against what was published.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use mqtt_lab_broker::codec::QoS;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep};

use super::conn::rss_kb;
use super::{outcome, run_id, target};
use crate::client::{Client, ClientError};
use crate::options::Options;
use crate::payload::{Stamp, Tracker, now_ns};
use crate::report::{Outcome, Sample};
use crate::wire::{Frame, PUBACK, PUBCOMP, PUBREC, PUBREL, drain_frames, put_ack, put_pingreq, put_publish};

/// Connections opened at once (see `conn`).
const AT_ONCE: u64 = 100;
/// After the publishers stop, how long a silence ends a subscriber's wait.
const QUIET: Duration = Duration::from_secs(3);

#[derive(Debug, Default)]
struct Counters {
    connected: AtomicU64,
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

/// What one client's loop ended with.
enum Ended {
    Idle,
    Publisher,
    Subscriber(Tracker),
}

pub(super) async fn run(o: &Options) -> Result<Outcome, ClientError> {
    let target = target(o)?;
    let id = run_id();
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop) = watch::channel(false);
    // Publishers start once every subscriber has subscribed, so that each gets every message.
    let (go_tx, go) = watch::channel(false);
    let publishers = u64::from(o.publishers).min(o.count);
    let subscribers = u64::from(o.subscribers).min(o.count - publishers);
    // Each publisher's share of the rate, and the most it can send in the run.
    let per_publisher_rate = o.rate / publishers.max(1) as f64;
    let most = (per_publisher_rate * o.duration.as_secs_f64()).ceil() as u64 + 1;
    let started = Instant::now();
    let rss_start = o.pid.and_then(rss_kb);
    let mut samples = vec![sample(o, &counters, started)];
    let mut tasks = JoinSet::new();
    let mut next_sample = started + o.sample;
    for batch in (0..o.count).step_by(usize::try_from(AT_ONCE).unwrap_or(100)) {
        let mut connecting = JoinSet::new();
        for n in batch..(batch + AT_ONCE).min(o.count) {
            let (target, name) = (target.clone(), format!("soak-{id}-c{n}"));
            let keep_alive = o.keepalive;
            connecting.spawn(async move { (n, Client::connect(&target, &name, keep_alive).await) });
        }
        while let Some(joined) = connecting.join_next().await {
            let (n, client) = joined.map_err(|e| ClientError::Io(std::io::Error::other(e)))?;
            let mut client = client?;
            Counters::add(&counters.connected);
            let role = Role {
                keepalive: Duration::from_secs(u64::from(o.keepalive)),
                stop: stop.clone(),
                go: go.clone(),
                counters: counters.clone(),
            };
            if n < publishers {
                let topic = format!("soak/{id}/p{n}");
                let every = Duration::from_secs_f64(1.0 / per_publisher_rate);
                let (payload, publisher) = (o.payload, u32::try_from(n).unwrap_or(u32::MAX));
                tasks.spawn(async move { role.publish(client, &topic, publisher, every, payload).await });
            } else if n < publishers + subscribers {
                client.subscribe(&format!("soak/{id}/#"), QoS::ExactlyOnce).await?;
                let tracker = Tracker::new(u32::try_from(publishers).unwrap_or(u32::MAX), most);
                tasks.spawn(async move { role.subscribe(client, tracker).await });
            } else {
                tasks.spawn(async move { role.idle(client).await });
            }
        }
        if Instant::now() >= next_sample {
            samples.push(report(o, &counters, started));
            next_sample += o.sample;
        }
    }
    let ramp = started.elapsed().as_secs_f64();
    let _ = go_tx.send(true);
    let end = started + o.duration;
    while next_sample < end {
        tokio::time::sleep_until(next_sample).await;
        samples.push(report(o, &counters, started));
        next_sample += o.sample;
    }
    tokio::time::sleep_until(end).await;
    let _ = stop_tx.send(true);
    let mut trackers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(Ended::Subscriber(t)) = joined {
            trackers.push(t);
        }
    }
    samples.push(report(o, &counters, started));

    let mut out = outcome(o);
    out.subscribers = u32::try_from(subscribers).unwrap_or(u32::MAX);
    out.publishers = u32::try_from(publishers).unwrap_or(u32::MAX);
    out.sent = Counters::get(&counters.published);
    out.expected = out.sent * subscribers;
    out.received = trackers.iter().map(|t| t.unique).sum();
    out.duplicated = trackers.iter().map(|t| t.duplicated).sum();
    out.lost = out.expected.saturating_sub(out.received);
    out.seconds = started.elapsed().as_secs_f64();
    out.rate = out.received as f64 / o.duration.as_secs_f64();
    out.connections = Some(o.count);
    out.ramp_seconds = Some(ramp);
    out.disconnects = Some(Counters::get(&counters.disconnects));
    (out.rss_before_kb, out.rss_after_kb) = (rss_start, samples.last().and_then(|s| s.rss_kb));
    out.samples = samples;
    Ok(out)
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
            "soak {:>7.1} s  rss {:>8} KiB  connected {:>6}  disconnects {:>4}  published {:>9}  delivered {:>10}",
            s.seconds,
            s.rss_kb.map_or_else(|| "-".into(), |k| k.to_string()),
            s.connected,
            s.disconnects,
            s.published,
            s.delivered
        );
    }
    s
}

/// DISCONNECT, then waits for the broker to close: closing with acknowledgements unread would
/// reset the connection, and the broker could lose the last PUBLISHes still in its socket.
async fn goodbye(mut client: Client) {
    let _ = client.stream.write_all(&[0xE0, 0]).await;
    let _ = client.stream.shutdown().await;
    let drained = async {
        while matches!(client.stream.read_buf(&mut client.rbuf).await, Ok(n) if n > 0) {
            client.rbuf.clear();
        }
    };
    let _ = tokio::time::timeout(QUIET, drained).await;
}

/// What every client loop shares.
struct Role {
    keepalive: Duration,
    stop: watch::Receiver<bool>,
    go: watch::Receiver<bool>,
    counters: Arc<Counters>,
}

impl Role {
    /// The broker closed the connection, or it failed: counted, and the loop ends.
    fn lost(&self) {
        Counters::add(&self.counters.disconnects);
        self.counters.connected.fetch_sub(1, Ordering::Relaxed);
    }

    fn ping_every(&self) -> tokio::time::Interval {
        let mut ping = interval(self.keepalive / 2);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ping
    }

    /// Pings every half keepalive until stopped.
    async fn idle(mut self, mut client: Client) -> Ended {
        let mut ping = self.ping_every();
        let mut wbuf = BytesMut::new();
        loop {
            tokio::select! {
                _ = self.stop.changed() => {
                    goodbye(client).await;
                    return Ended::Idle;
                }
                _ = ping.tick() => {
                    put_pingreq(&mut wbuf);
                    if client.stream.write_all(&wbuf.split()).await.is_err() {
                        self.lost();
                        return Ended::Idle;
                    }
                }
                r = client.stream.read_buf(&mut client.rbuf) => {
                    if !matches!(r, Ok(n) if n > 0) || drain_frames(&mut client.rbuf, client.v5, |_| {}).is_err() {
                        self.lost();
                        return Ended::Idle;
                    }
                }
            }
        }
    }

    /// Once told to go, publishes every `every`, cycling QoS 0, 1, 2, and answers PUBREC with
    /// PUBREL; pings while it waits.
    async fn publish(mut self, mut client: Client, topic: &str, publisher: u32, every: Duration, size: usize) -> Ended {
        let mut tick = interval(every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut ping = self.ping_every();
        let (mut seq, mut wbuf, mut payload) = (0u64, BytesMut::new(), Vec::with_capacity(size));
        loop {
            let going = *self.go.borrow();
            tokio::select! {
                _ = self.go.changed(), if !going => {}
                _ = ping.tick(), if !going => put_pingreq(&mut wbuf),
                _ = self.stop.changed() => {
                    goodbye(client).await;
                    return Ended::Publisher;
                }
                _ = tick.tick(), if going => {
                    payload.clear();
                    Stamp { publisher, seq, sent_ns: now_ns() }.put(&mut payload, size);
                    let qos = u8::try_from(seq % 3).unwrap_or(0);
                    let pid = u16::try_from(seq % u64::from(u16::MAX)).unwrap_or(0) + 1;
                    put_publish(&mut wbuf, client.v5, topic, qos, false, pid, &payload);
                    seq += 1;
                    Counters::add(&self.counters.published);
                }
                r = client.stream.read_buf(&mut client.rbuf) => {
                    let ok = matches!(r, Ok(n) if n > 0)
                        && drain_frames(&mut client.rbuf, client.v5, |f| {
                            if let Frame::Ack { kind: PUBREC, pid, reason: ..0x80 } = f {
                                put_ack(&mut wbuf, PUBREL, pid);
                            }
                        })
                        .is_ok();
                    if !ok {
                        self.lost();
                        return Ended::Publisher;
                    }
                }
            }
            if !wbuf.is_empty() && client.stream.write_all(&wbuf.split()).await.is_err() {
                self.lost();
                return Ended::Publisher;
            }
        }
    }

    /// Acknowledges every delivery and pings every half keepalive; after the stop, listens
    /// until the broker has been quiet for [`QUIET`].
    async fn subscribe(mut self, mut client: Client, mut tracker: Tracker) -> Ended {
        let mut ping = self.ping_every();
        let mut wbuf = BytesMut::new();
        let mut quiet_until: Option<Instant> = None;
        loop {
            let stopping = quiet_until.is_some();
            tokio::select! {
                r = self.stop.changed(), if !stopping => {
                    let _ = r;
                    quiet_until = Some(Instant::now() + QUIET);
                }
                () = sleep(quiet_until.map_or(Duration::ZERO, |t| t.saturating_duration_since(Instant::now()))), if stopping => {
                    goodbye(client).await;
                    return Ended::Subscriber(tracker);
                }
                _ = ping.tick(), if !stopping => put_pingreq(&mut wbuf),
                r = client.stream.read_buf(&mut client.rbuf) => {
                    let counters = &self.counters;
                    let before = tracker.unique + tracker.duplicated + tracker.foreign;
                    let ok = matches!(r, Ok(n) if n > 0)
                        && drain_frames(&mut client.rbuf, client.v5, |f| match f {
                            Frame::Publish { qos, pid, payload, .. } => {
                                match qos {
                                    1 => put_ack(&mut wbuf, PUBACK, pid),
                                    2 => put_ack(&mut wbuf, PUBREC, pid),
                                    _ => {}
                                }
                                match Stamp::read(payload) {
                                    Some(stamp) => tracker.record(stamp),
                                    None => tracker.foreign += 1,
                                }
                                Counters::add(&counters.delivered);
                            }
                            Frame::Ack { kind: PUBREL, pid, .. } => put_ack(&mut wbuf, PUBCOMP, pid),
                            // PINGRESP, SUBACK: nothing to answer.
                            _ => {}
                        })
                        .is_ok();
                    if !ok {
                        self.lost();
                        return Ended::Subscriber(tracker);
                    }
                    // Only deliveries count as noise: PINGRESP must not keep the wait going.
                    if stopping && tracker.unique + tracker.duplicated + tracker.foreign > before {
                        quiet_until = Some(Instant::now() + QUIET);
                    }
                }
            }
            if !wbuf.is_empty() && client.stream.write_all(&wbuf.split()).await.is_err() {
                self.lost();
                return Ended::Subscriber(tracker);
            }
        }
    }
}
