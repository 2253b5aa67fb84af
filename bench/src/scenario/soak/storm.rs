//! A soak's connect storm: every connection attempted as fast as the client can, `--at-once`
//! in flight, each from its source address in turn. An attempt that fails (TCP refused or
//! reset, no CONNACK in time, a CONNACK with a non-zero code, a refused SUBACK) is counted as
//! refused, by cause, and not retried: a broker that holds 100,000 connections must also take
//! them arriving together. Refusals are kept apart from disconnects, which are connections
//! lost after they were made.
//!
//! Before the storm, [`check_limits`] names the limit of this machine that would refuse
//! connections on the client's side (open files, local ports), so that a long run does not
//! end in a misleading count.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::client::{Client, ClientError, Target};
use crate::options::Options;

/// The longest an attempt may take, TCP to CONNACK (and SUBACK): a SYN dropped by a full listen
/// backlog is sent again after 1, 3, 7, 15 s, so a slow accept shows as slow, and only a
/// broker that does not answer at all as refused.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// File descriptors the load generator needs besides its connections (runtime, stdio, /proc).
const SPARE_FILES: u64 = 64;
/// The widest storm: a semaphore holds at most this many permits at once.
const WIDEST: usize = 1 << 20;
/// Linux's default ip_local_port_range, where /proc does not say.
const LOCAL_PORTS: RangeInclusive<u32> = 32768..=60999;

/// A source address, and the next of its ports to try. Ports are handed out here, not by the
/// kernel: its search for a free port at each `bind` slows as they fill (22 s of system time
/// for 19,000 connections from one address, against 2 s), where an explicit port costs nothing.
#[derive(Debug)]
struct Source {
    ip: IpAddr,
    next_port: AtomicU32,
}

/// Why attempts failed: a count and the first error of each cause, to tell a broker's refusal
/// from a limit of this machine.
#[derive(Debug, Default)]
struct Refusals {
    by_cause: BTreeMap<&'static str, (u64, String)>,
}

/// The storm shared by every attempt.
#[derive(Debug)]
pub(super) struct Storm {
    permits: Arc<Semaphore>,
    width: usize,
    sources: Vec<Source>,
    /// The ports each source address may use: ip_local_port_range, as the kernel would.
    ports: RangeInclusive<u32>,
    started: Instant,
    /// Microseconds from the first SYN to CONNACK (SUBACK for subscribers), per connection made.
    times_us: Mutex<Vec<u64>>,
    refusals: Mutex<Refusals>,
}

/// What [`Storm::summary`] reports.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Summary {
    pub attempted: u64,
    pub connected: u64,
    pub refused: u64,
    pub ramp_seconds: f64,
}

impl Storm {
    pub fn new(o: &Options) -> Arc<Self> {
        let width = o.at_once.clamp(1, WIDEST);
        let ports = local_ports().unwrap_or(LOCAL_PORTS);
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(width)),
            width,
            sources: o.sources.iter().map(|&ip| Source { ip, next_port: AtomicU32::new(*ports.start()) }).collect(),
            ports,
            started: Instant::now(),
            times_us: Mutex::new(Vec::with_capacity(usize::try_from(o.count).unwrap_or(0).min(1 << 24))),
            refusals: Mutex::default(),
        })
    }

    /// Waits until fewer than `--at-once` attempts are in flight; the permit ends the attempt.
    pub async fn permit(&self) -> OwnedSemaphorePermit {
        // The semaphore is never closed.
        self.permits.clone().acquire_owned().await.unwrap_or_else(|_| unreachable!())
    }

    /// Waits for every attempt to end: the storm is over.
    pub async fn finished(&self) {
        let all = u32::try_from(self.width).unwrap_or(u32::MAX);
        drop(self.permits.acquire_many(all).await);
    }

    /// Connection `n`: from its source address, CONNECT, and `subscribe` to a filter for a
    /// subscriber. `None` when it was refused (counted).
    pub async fn attempt(
        &self,
        n: u64,
        target: &Target,
        name: &str,
        keep_alive: u16,
        subscribe: Option<&str>,
    ) -> Option<Client> {
        let began = Instant::now();
        let made = tokio::time::timeout(ATTEMPT_TIMEOUT, async {
            let mut client = self.connect(n, target, name, keep_alive).await?;
            if let Some(filter) = subscribe {
                client.subscribe(filter, mqtt_lab_broker::codec::QoS::ExactlyOnce).await?;
            }
            Ok::<_, ClientError>(client)
        })
        .await
        .unwrap_or(Err(ClientError::Timeout(ATTEMPT_TIMEOUT, "a connection attempt, TCP to CONNACK")));
        match made {
            Ok(client) => {
                let took = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.times_us.lock().unwrap_or_else(PoisonError::into_inner).push(took);
                Some(client)
            }
            Err(e) => {
                let mut refusals = self.refusals.lock().unwrap_or_else(PoisonError::into_inner);
                let entry = refusals.by_cause.entry(cause(&e)).or_insert_with(|| (0, e.to_string()));
                entry.0 += 1;
                None
            }
        }
    }

    /// Connects from connection `n`'s source address (the addresses in turn) and its next free
    /// port: one still in TIME_WAIT, or bound by another program, is passed over.
    async fn connect(&self, n: u64, target: &Target, name: &str, keep_alive: u16) -> Result<Client, ClientError> {
        let Some(source) = self.source(n) else {
            return Client::connect_from(target, None, name, keep_alive).await;
        };
        loop {
            let port = source.next_port.fetch_add(1, Ordering::Relaxed);
            let from = SocketAddr::new(source.ip, u16::try_from(port).unwrap_or(0));
            if !self.ports.contains(&port) || from.port() == 0 {
                let taken = std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "every local port is taken");
                return Err(ClientError::Bind { from, source: taken });
            }
            match Client::connect_from(target, Some(from), name, keep_alive).await {
                Err(ClientError::Bind { source, .. }) if source.kind() == std::io::ErrorKind::AddrInUse => {}
                made => return made,
            }
        }
    }

    /// Connection `n`'s source address: the addresses in turn.
    fn source(&self, n: u64) -> Option<&Source> {
        let len = u64::try_from(self.sources.len()).ok().filter(|l| *l > 0)?;
        self.sources.get(usize::try_from(n % len).ok()?)
    }

    /// The storm's figures, and on stderr the line `soak storm {json}` that scripts/soak.sh
    /// sums over several load-generator processes: counts, refusals by cause with the first
    /// error of each, and connect times (a SYN dropped by a full backlog costs a second).
    pub fn summary(&self, attempted: u64) -> Summary {
        let ramp_seconds = self.started.elapsed().as_secs_f64();
        let mut times = self.times_us.lock().unwrap_or_else(PoisonError::into_inner).clone();
        times.sort_unstable();
        let refusals = self.refusals.lock().unwrap_or_else(PoisonError::into_inner);
        let refused = refusals.by_cause.values().map(|(count, _)| count).sum();
        let connected = times.len() as u64;
        let ms = |q: f64| quantile(&times, q).map(|us| us as f64 / 1000.0);
        let causes: serde_json::Map<String, serde_json::Value> = refusals
            .by_cause
            .iter()
            .map(|(cause, (count, first))| ((*cause).to_owned(), json!({ "count": count, "first": first })))
            .collect();
        let line = json!({
            "attempted": attempted,
            "connected": connected,
            "refused": refused,
            "causes": causes,
            "ramp_seconds": ramp_seconds,
            "per_second": connected as f64 / ramp_seconds.max(1e-9),
            "at_once": self.width,
            "sources": self.sources.len(),
            "connect_ms": { "p50": ms(0.50), "p90": ms(0.90), "p99": ms(0.99), "max": ms(1.0) },
            "over_1s": times.iter().filter(|us| **us >= 1_000_000).count(),
        });
        eprintln!("soak storm {line}");
        Summary { attempted, connected, refused, ramp_seconds }
    }
}

/// The value below which a fraction `q` of the sorted `values` lie (nearest rank).
fn quantile(sorted: &[u64], q: f64) -> Option<u64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    sorted.get(rank.saturating_sub(1).min(last)).copied()
}

/// A refusal's cause, as the summary names it.
fn cause(e: &ClientError) -> &'static str {
    use std::io::ErrorKind as K;
    match e {
        ClientError::Connect { source, .. } | ClientError::Io(source) => match source.kind() {
            K::ConnectionRefused => "tcp_refused",
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => "reset",
            K::TimedOut => "timeout",
            K::AddrInUse | K::AddrNotAvailable => "no_local_port",
            _ => "other",
        },
        ClientError::Bind { .. } => "no_local_port",
        ClientError::Closed(_) => "closed_before_connack",
        ClientError::Timeout(..) => "timeout",
        ClientError::Refused(_) => "connack_refused",
        ClientError::SubscribeRefused(_) => "suback_refused",
        ClientError::Tls(_) | ClientError::Unexpected(..) | ClientError::Frame(_) | ClientError::Limit(_) => "other",
    }
}

/// The limits of this machine that would refuse connections on the client's side: the open
/// files this process may hold, and the local ports of each source address towards one broker.
pub(super) fn check_limits(o: &Options) -> Result<(), ClientError> {
    if let Ok((soft, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        check_files(o.count, soft, hard)?;
    }
    let ports = local_ports().unwrap_or(LOCAL_PORTS);
    check_ports(o.count, o.sources.len(), u64::from(ports.end() - ports.start()) + 1)
}

/// `count` connections, and this process may hold `soft` open files.
fn check_files(count: u64, soft: u64, hard: u64) -> Result<(), ClientError> {
    let need = count.saturating_add(SPARE_FILES);
    if soft >= need {
        return Ok(());
    }
    Err(ClientError::Limit(format!(
        "{count} connections need {need} open files in this process, and it may hold {soft} (ulimit -n; hard \
         limit {hard}): split the count over several processes, as scripts/soak.sh does"
    )))
}

/// `count` connections from `sources` addresses (none: the kernel's one), with `ports` local
/// ports each.
fn check_ports(count: u64, sources: usize, ports: u64) -> Result<(), ClientError> {
    let addresses = sources.max(1) as u64;
    let each = count.div_ceil(addresses);
    if each <= ports {
        return Ok(());
    }
    let from = if sources == 0 { "one source address".to_owned() } else { format!("{addresses} source addresses") };
    Err(ClientError::Limit(format!(
        "{count} connections from {from} need {each} local ports per address, and ip_local_port_range \
         gives {ports}: give at least {} addresses with --source (127.0.0.2-127.0.0.9 are all loopback)",
        count.div_ceil(ports)
    )))
}

/// The local ports one source address has towards one destination: ip_local_port_range (Linux).
fn local_ports() -> Option<RangeInclusive<u32>> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut bounds = range.split_whitespace().map(str::parse::<u32>);
    let (low, high) = (bounds.next()?.ok()?, bounds.next()?.ok()?);
    (low <= high && u16::try_from(high).is_ok()).then_some(low..=high)
}

#[cfg(test)]
#[path = "storm_tests.rs"]
mod tests;
