use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mqtt_lab_broker::Broker;
use mqtt_lab_broker::config::{Config, ListenerConfig};
use mqtt_lab_broker::log::LogDest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::options::{Scenario, parse_sources};

/// A broker that answers every CONNECT with CONNACK return code `code` (0: accepted; `None`:
/// closes at once) and notes each client's source address.
async fn fake_broker(code: Option<u8>) -> (SocketAddr, Arc<Mutex<Vec<SocketAddr>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peers = Arc::new(Mutex::new(Vec::new()));
    let seen = peers.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, peer)) = listener.accept().await {
            seen.lock().unwrap().push(peer);
            let Some(code) = code else { continue };
            tokio::spawn(async move {
                let mut buf = [0u8; 256];
                if tcp.read(&mut buf).await.is_ok_and(|n| n > 0) {
                    let _ = tcp.write_all(&[0x20, 2, 0, code]).await;
                }
                // Held until the client goes.
                while tcp.read(&mut buf).await.is_ok_and(|n| n > 0) {}
            });
        }
    });
    (addr, peers)
}

fn options(addr: SocketAddr, sources: &str) -> Options {
    let mut o = Options::new(Scenario::Soak, addr);
    o.sources = if sources.is_empty() { Vec::new() } else { parse_sources(sources).unwrap() };
    o
}

#[tokio::test]
async fn each_connection_comes_from_the_next_source_address() {
    let (addr, peers) = fake_broker(Some(0)).await;
    let o = options(addr, "127.0.0.2-127.0.0.3,127.0.0.7");
    let (storm, target) = (Storm::new(&o), crate::scenario::target(&o).unwrap());
    let mut held = Vec::new();
    for n in 0..5 {
        held.push(storm.attempt(n, &target, &format!("c{n}"), 30, None).await.expect("connected"));
    }
    let expected: Vec<IpAddr> = parse_sources("127.0.0.2,127.0.0.3,127.0.0.7,127.0.0.2,127.0.0.3").unwrap();
    assert_eq!(peers.lock().unwrap().iter().map(SocketAddr::ip).collect::<Vec<_>>(), expected);
    let summary = storm.summary(5);
    assert_eq!((summary.attempted, summary.connected, summary.refused), (5, 5, 0));
}

#[tokio::test]
async fn a_taken_port_is_passed_over() {
    let (addr, peers) = fake_broker(Some(0)).await;
    let storm = Storm::new(&options(addr, "127.0.0.6"));
    let target = crate::scenario::target(&options(addr, "")).unwrap();
    let first = u16::try_from(storm.sources[0].next_port.load(Ordering::Relaxed)).unwrap();
    let _taken = std::net::TcpListener::bind(("127.0.0.6", first)).unwrap();
    let _held = storm.attempt(0, &target, "c", 30, None).await.expect("connected from the next port");
    // The next port, or a later one if an earlier run's TIME_WAIT holds it.
    let peer = peers.lock().unwrap()[0];
    assert!(peer.ip() == IpAddr::from([127, 0, 0, 6]) && peer.port() > first, "{peer} after {first}");
    // The last port handed out, the source has none left: refused here, not by the broker.
    storm.sources[0].next_port.store(*storm.ports.end() + 1, Ordering::Relaxed);
    assert!(storm.attempt(1, &target, "c", 30, None).await.is_none());
    assert_eq!(storm.refusals.lock().unwrap().by_cause["no_local_port"].0, 1);
}

#[tokio::test]
async fn refusals_are_counted_by_cause_not_retried() {
    let (refusing, _) = fake_broker(Some(5)).await;
    let (closing, _) = fake_broker(None).await;
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let storm = Storm::new(&options(refusing, ""));
    let mut attempted = 0;
    for (addr, n) in [(refusing, 2), (closing, 1), (closed, 1)] {
        let target = crate::scenario::target(&options(addr, "")).unwrap();
        for _ in 0..n {
            assert!(storm.attempt(attempted, &target, "c", 30, None).await.is_none());
            attempted += 1;
        }
    }
    let summary = storm.summary(attempted);
    assert_eq!((summary.connected, summary.refused), (0, 4));
    let refusals = storm.refusals.lock().unwrap();
    let counts: Vec<(&str, u64)> = refusals.by_cause.iter().map(|(cause, (count, _))| (*cause, *count)).collect();
    // Closed before CONNACK reads as end of file or as a reset, whichever the kernel reports.
    let closing_cause = counts.iter().find(|(c, _)| *c == "closed_before_connack" || *c == "reset");
    assert_eq!(closing_cause.map(|(_, n)| *n), Some(1), "{counts:?}");
    assert!(counts.contains(&("connack_refused", 2)) && counts.contains(&("tcp_refused", 1)), "{counts:?}");
    assert!(refusals.by_cause["connack_refused"].1.contains("0x05"), "{:?}", refusals.by_cause);
}

#[test]
fn limits_name_what_to_change() {
    assert!(check_files(19_000, 20_000, 20_000).is_ok());
    let e = check_files(100_000, 20_000, 20_000).unwrap_err().to_string();
    assert!(e.starts_with("100000 connections need 100064 open files in this process, and it may hold 20000"), "{e}");
    assert!(check_ports(28_232, 0, 28_232).is_ok());
    let e = check_ports(100_000, 0, 28_232).unwrap_err().to_string();
    assert!(e.contains("from one source address need 100000 local ports") && e.contains("at least 4 addresses"), "{e}");
    assert!(check_ports(100_000, 4, 28_232).is_ok());
    assert!(check_ports(100_000, 3, 28_232).unwrap_err().to_string().contains("3 source addresses need 33334"));
}

#[test]
fn quantiles_are_nearest_rank() {
    let values: Vec<u64> = (1..=100).collect();
    assert_eq!([0.5, 0.9, 0.99, 1.0].map(|q| quantile(&values, q)), [Some(50), Some(90), Some(99), Some(100)]);
    assert_eq!(quantile(&[7], 0.5), Some(7));
    assert_eq!(quantile(&[], 0.5), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_from_three_sources_holds_every_connection_of_our_broker() {
    let mut config = Config { allow_anonymous: Some(true), ..Config::default() };
    config.log.set_dest(LogDest::None);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker = Broker::start(config).unwrap();
    broker.listen(listener, &ListenerConfig::default()).unwrap();
    let mut o = options(addr, "127.0.0.2-127.0.0.4");
    (o.count, o.at_once, o.publishers, o.subscribers, o.rate) = (300, 300, 2, 2, 100.0);
    (o.duration, o.sample, o.quiet) = (Duration::from_secs(1), Duration::from_millis(200), true);
    let out = crate::scenario::run(&o).await.unwrap();
    assert_eq!((out.connections, out.disconnects), (Some(300), Some(0)), "{out:?}");
    assert!(out.sent > 0 && out.lost == 0 && out.received == out.sent * 2, "{out:?}");
    assert!(out.ramp_seconds.is_some_and(|s| s > 0.0), "{out:?}");
    // The load lasts --duration after the storm, sampled from the start.
    assert!(out.seconds >= 1.0 && out.samples.len() >= 5, "{out:?}");
    broker.shutdown().await;
}
