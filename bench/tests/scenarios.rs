//! Every scenario of mqtt-lab-bench against real brokers on loopback: ours in-process on port 0,
//! and Debian's Mosquitto (installed by .ci/run) on a free port; over TCP and TLS-PSK.

use std::net::SocketAddr;
use std::time::Duration;

use mqtt_lab_bench::transport::{Security, parse_hex_key};
use mqtt_lab_bench::{Options, Outcome, Scenario, scenario};
use mqtt_lab_broker::Broker;
use mqtt_lab_broker::config::{Config, ListenerConfig};
use mqtt_lab_broker::log::LogDest;
use tokio::net::TcpListener;

/// Bounds the wait for Mosquitto to start (used by the shared helper).
const PATIENCE: Duration = Duration::from_secs(20);

#[path = "../../tests/support/mosquitto.rs"]
mod mosquitto;
use mosquitto::{Mosquitto, free_port};

#[path = "../../tests/support/s_server.rs"]
mod s_server;

/// Our broker on 127.0.0.1:0, logging nowhere, after `edit` changes its configuration.
async fn our_broker(edit: impl FnOnce(&mut Config)) -> (Broker, SocketAddr) {
    let mut config = Config { allow_anonymous: Some(true), ..Config::default() };
    config.log.set_dest(LogDest::None);
    edit(&mut config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker = Broker::start(config).unwrap();
    broker.listen(listener, &ListenerConfig::default()).unwrap();
    (broker, addr)
}

fn options(scenario: Scenario, addr: SocketAddr, count: u64) -> Options {
    let mut o = Options::new(scenario, addr);
    o.count = count;
    o.duration = Duration::from_secs(30);
    o.label = "test".into();
    o
}

fn assert_complete(o: &Outcome, expected: u64) {
    assert_eq!((o.expected, o.received, o.lost, o.duplicated), (expected, expected, 0, 0), "{o:?}");
    assert!(o.rate > 0.0 && o.seconds > 0.0, "{o:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_in_at_every_qos_loses_nothing_even_with_a_ten_message_queue() {
    // Four publishers at full speed against one subscriber that must acknowledge each message:
    // with a queue of 10 the subscriber falls behind at once, and only back-pressure on the
    // publishers (not dropping) delivers everything.
    let (broker, addr) = our_broker(|c| {
        c.max_queued_messages = 10;
        c.max_inflight_messages = 5;
    })
    .await;
    for qos in [0, 1, 2] {
        let mut o = options(Scenario::FanIn, addr, 3000);
        o.qos = qos;
        let out = scenario::run(&o).await.unwrap();
        assert_eq!((out.publishers, out.subscribers, out.qos), (4, 1, qos));
        assert_complete(&out, 12_000);
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_pub_latency_retained_and_conn_report_their_figures() {
    let (broker, addr) = our_broker(|_| {}).await;
    let mut o = options(Scenario::FanOut, addr, 500);
    o.subscribers = 10;
    assert_complete(&scenario::run(&o).await.unwrap(), 5000);

    let mut o = options(Scenario::Pub, addr, 1000);
    o.qos = 1;
    let out = scenario::run(&o).await.unwrap();
    assert_eq!((out.sent, out.subscribers), (4000, 0), "{out:?}");
    assert!(out.rate > 0.0);

    let mut o = options(Scenario::Latency, addr, 200);
    (o.qos, o.rate) = (1, 2000.0);
    let out = scenario::run(&o).await.unwrap();
    assert_complete(&out, 200);
    let (p50, p99, max) = (out.p50_us.unwrap(), out.p99_us.unwrap(), out.max_us.unwrap());
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{out:?}");
    let late = out.over_1ms.unwrap();
    assert!(late <= 200 && (late == 0) == (max <= 1000.0), "{out:?}");

    let out = scenario::run(&options(Scenario::Retained, addr, 2000)).await.unwrap();
    assert_complete(&out, 2000);
    assert_eq!(out.retained, Some(2000), "every one arrives with RETAIN=1");
    // The run cleared its topics: a second run finds exactly its own again.
    let again = scenario::run(&options(Scenario::Retained, addr, 100)).await.unwrap();
    assert_eq!((again.received, again.retained), (100, Some(100)), "{again:?}");

    // Our own process holds the broker: its memory grows with 200 connections.
    let mut o = options(Scenario::Conn, addr, 200);
    o.pid = Some(std::process::id());
    let out = scenario::run(&o).await.unwrap();
    assert_eq!(out.sent, 200, "{out:?}");
    assert!(out.rss_after_kb.unwrap() > 0 && out.bytes_per_connection.is_some(), "{out:?}");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenarios_run_against_mosquitto_too() {
    let dir = std::env::temp_dir().join(format!("mqtt-lab-bench-mosquitto-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\n")).unwrap();
    let mosquitto = Mosquitto::start(&conf);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // QoS 1: at QoS 2 with more than 20 messages in flight, Mosquitto 2.0.11 acknowledges
    // everything but stops delivering after about 100 (docs/PERFORMANCE.md).
    let mut o = options(Scenario::Sub, addr, 500);
    o.qos = 1;
    assert_complete(&scenario::run(&o).await.unwrap(), 500);
    let out = scenario::run(&options(Scenario::Retained, addr, 300)).await.unwrap();
    assert_complete(&out, 300);
    let mut o = options(Scenario::Conn, addr, 100);
    o.pid = Some(mosquitto.pid());
    let out = scenario::run(&o).await.unwrap();
    assert!(out.rss_after_kb.unwrap() >= out.rss_before_kb.unwrap(), "{out:?}");
    drop(mosquitto);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_holds_every_connection_and_delivers_every_message_of_the_mixed_load() {
    let (broker, addr) = our_broker(|_| {}).await;
    let mut o = options(Scenario::Soak, addr, 60);
    (o.publishers, o.subscribers, o.rate) = (4, 4, 200.0);
    o.duration = Duration::from_secs(3);
    o.sample = Duration::from_secs(1);
    o.pid = Some(std::process::id());
    o.quiet = true;
    let out = scenario::run(&o).await.unwrap();
    assert_eq!((out.connections, out.disconnects), (Some(60), Some(0)), "{out:?}");
    assert!(out.sent > 0, "{out:?}");
    assert_eq!((out.expected, out.received, out.lost, out.duplicated), (out.sent * 4, out.sent * 4, 0, 0));
    assert!(out.samples.len() >= 4, "{:?}", out.samples);
    let last = out.samples.last().unwrap();
    assert_eq!((last.connected, last.published), (60, out.sent));
    assert!(last.rss_kb.is_some_and(|kb| kb > 0));
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_subscriber_does_not_cost_the_others_a_message() {
    let (broker, addr) = our_broker(|c| {
        c.max_queued_messages = 100;
        c.max_inflight_messages = 20;
    })
    .await;
    let mut o = options(Scenario::FanOut, addr, 2000);
    (o.qos, o.subscribers, o.stuck, o.payload) = (1, 5, 1, 1024);
    o.pid = Some(std::process::id());
    let out = scenario::run(&o).await.unwrap();
    assert_eq!(out.stuck, Some(1));
    assert_complete(&out, 10_000);
    assert!(out.rss_before_kb.is_some() && out.rss_after_kb.is_some(), "{out:?}");
    broker.shutdown().await;
}

/// The course's TLS-PSK set-up: identity btsiot1, a hint, the key in a psk_file.
const PSK_KEY: &str = "0123456789abcdef0123";

fn psk(o: &mut Options, key: &str) {
    o.security = Security::Psk { identity: "btsiot1".into(), key: parse_hex_key(key).unwrap() };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_run_over_tls_psk_against_ours_and_mosquitto_and_a_wrong_key_is_named() {
    let dir = std::env::temp_dir().join(format!("mqtt-lab-bench-psk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let psk_file = dir.join("pskfile");
    std::fs::write(&psk_file, format!("btsiot1:{PSK_KEY}\n")).unwrap();

    let mut config = Config { allow_anonymous: Some(true), psk_file: Some(psk_file.clone()), ..Config::default() };
    config.log.set_dest(LogDest::None);
    let broker = Broker::start(config).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ours = listener.local_addr().unwrap();
    broker.listen(listener, &ListenerConfig { psk_hint: Some("btsiot".into()), ..ListenerConfig::default() }).unwrap();

    let port = free_port();
    let conf = dir.join("mosquitto.conf");
    let text =
        format!("listener {port} 127.0.0.1\npsk_hint btsiot\npsk_file {}\nallow_anonymous true\n", psk_file.display());
    std::fs::write(&conf, text).unwrap();
    let mosquitto = Mosquitto::start(&conf);

    for addr in [ours, SocketAddr::from(([127, 0, 0, 1], port))] {
        let mut o = options(Scenario::Sub, addr, 500);
        o.qos = 1;
        psk(&mut o, PSK_KEY);
        let out = scenario::run(&o).await.unwrap();
        assert_eq!(out.transport, "tls-psk");
        assert_complete(&out, 500);
        let mut o = options(Scenario::Latency, addr, 100);
        (o.qos, o.rate) = (1, 2000.0);
        psk(&mut o, PSK_KEY);
        let out = scenario::run(&o).await.unwrap();
        assert_complete(&out, 100);
        assert!(out.p99_us.unwrap() > 0.0, "{out:?}");

        let mut o = options(Scenario::Pub, addr, 10);
        psk(&mut o, "00112233");
        let e = scenario::run(&o).await.unwrap_err().to_string();
        assert!(e.contains("the broker refused the pre-shared key") && e.contains("identity and key"), "{e}");
        // A plain MQTT client on a TLS port is refused (its CONNECT is not a TLS record).
        let plain = options(Scenario::Pub, addr, 10);
        assert!(scenario::run(&plain).await.is_err());
    }
    drop(mosquitto);
    broker.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_does_not_use_the_psk_is_refused_before_the_connect() {
    // Issue 18: a certificate instead of the PSK (TLS 1.3 allows it) must not get a CONNECT.
    let dir = std::env::temp_dir().join(format!("mqtt-lab-bench-impostor-{}", std::process::id()));
    let (cert, key) = s_server::self_signed(&dir);
    let mut impostor = s_server::SServer::certificate_only(&cert, &key);
    let mut o = options(Scenario::Pub, SocketAddr::from(([127, 0, 0, 1], impostor.port())), 10);
    psk(&mut o, PSK_KEY);
    let e = scenario::run(&o).await.unwrap_err().to_string();
    assert!(e.contains("the server did not use the pre-shared key: it is not the broker you configured"), "{e}");
    let seen = tokio::task::block_in_place(|| impostor.after_connections(1));
    assert!(!seen.contains("MQTT"), "the CONNECT reached the impostor:\n{seen}");
    drop(impostor);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A CA and a certificate for localhost signed by it, as PEM files in `dir`: (ca, cert, key).
fn certificates(dir: &std::path::Path, ca_name: &str) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, ca_name);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    let files = (dir.join(format!("{ca_name}.pem")), dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&files.0, ca.pem()).unwrap();
    std::fs::write(&files.1, cert.pem()).unwrap();
    std::fs::write(&files.2, key.serialize_pem()).unwrap();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_run_over_certificate_tls_and_a_certificate_from_another_ca_is_refused() {
    let dir = std::env::temp_dir().join(format!("mqtt-lab-bench-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (other_ca, ..) = certificates(&dir, "other-ca");
    let (ca, cert, key) = certificates(&dir, "course-ca");
    let (broker, _) = our_broker(|_| {}).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = ListenerConfig { certfile: Some(cert), keyfile: Some(key), ..ListenerConfig::default() };
    broker.listen(listener, &settings).unwrap();

    let tls = |o: &mut Options, cafile: &std::path::Path, insecure: bool| {
        o.host = "localhost".into();
        o.security = Security::Tls { cafile: Some(cafile.to_owned()), insecure };
    };
    let mut o = options(Scenario::FanIn, addr, 300);
    o.qos = 2;
    tls(&mut o, &ca, false);
    let out = scenario::run(&o).await.unwrap();
    assert_eq!(out.transport, "tls");
    assert_complete(&out, 1200);

    let mut o = options(Scenario::Pub, addr, 10);
    tls(&mut o, &other_ca, false);
    let e = scenario::run(&o).await.unwrap_err().to_string();
    assert!(e.contains("TLS handshake failed") && e.contains("certificate verify failed"), "{e}");
    // --insecure: the same wrong CA, and no check.
    tls(&mut o, &other_ca, true);
    assert_eq!(scenario::run(&o).await.unwrap().sent, 40);
    broker.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_floor_relay_carries_every_qos_and_the_latency_scenario() {
    // `mqtt-lab-bench relay` stands in for a broker when measuring the machine's floor: it must
    // deliver everything it acknowledges, at every QoS, or its figures mean nothing.
    let relay = mqtt_lab_bench::relay::Relay::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = relay.local_addr().unwrap();
    std::thread::Builder::new().name("test-relay".into()).spawn(move || relay.serve()).unwrap();
    for qos in [0, 1, 2] {
        let mut o = options(Scenario::FanIn, addr, 2000);
        o.qos = qos;
        assert_complete(&scenario::run(&o).await.unwrap(), 8000);
    }
    let mut o = options(Scenario::FanOut, addr, 500);
    (o.subscribers, o.qos) = (5, 1);
    assert_complete(&scenario::run(&o).await.unwrap(), 2500);
    let mut o = options(Scenario::Latency, addr, 200);
    (o.qos, o.rate) = (1, 2000.0);
    let out = scenario::run(&o).await.unwrap();
    assert_complete(&out, 200);
    assert!(out.p99_us.unwrap() > 0.0, "{out:?}");
}
