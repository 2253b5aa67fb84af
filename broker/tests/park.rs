//! Idle plain TCP connections park without a task (broker/src/broker/park/) and everything
//! still reaches them: their own packets, messages for them, keepalive, takeover, the peer
//! closing, shutdown, and the broker's runtime going away. Real sockets on loopback; waits are
//! bounded by `PATIENCE` and end as soon as the condition holds.

mod support;

use std::time::Duration;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid};
use support::{PATIENCE, RawClient, TestBroker, connect_packet, pid, publish, will};
use tokio::time::Instant;

/// Waits until `n` connections of `broker` are parked.
async fn parked(broker: &TestBroker, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    while broker.broker().parked_connections() != n {
        assert!(
            Instant::now() < deadline,
            "expected {n} parked connections, have {}",
            broker.broker().parked_connections()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn idle_clients_park_and_wake_for_their_own_packets_and_for_messages() {
    let broker = TestBroker::start().await;
    let mut sub = RawClient::connect(broker.addr, "sub").await;
    sub.subscribe(&[("lamp/#", QoS::AtLeastOnce)]).await;
    let mut publisher = RawClient::connect(broker.addr, "pub").await;
    parked(&broker, 2).await;

    // Its own packet: a PINGREQ is answered, then it parks again.
    publisher.send(Packet::PingReq).await;
    assert_eq!(publisher.recv().await, Packet::PingResp);
    parked(&broker, 2).await;

    // A message for a parked subscriber, from a parked publisher.
    let held_before = broker.figures().stored_messages;
    publisher
        .send(publish("lamp/pwm", br#"{"control":"PWM","value":50,"unit":"%"}"#, QosPid::AtLeastOnce(pid(7)), false))
        .await;
    assert!(matches!(publisher.recv().await, Packet::PubAck(a) if a.pid == pid(7)));
    let p = sub.recv_publish().await;
    assert_eq!(&p.payload[..], br#"{"control":"PWM","value":50,"unit":"%"}"#);
    let QosPid::AtLeastOnce(id) = p.qos_pid else { panic!("QoS 1 expected, got {:?}", p.qos_pid) };
    sub.send(Packet::PubAck(mqtt_lab_broker::codec::Ack::new(id))).await;
    parked(&broker, 2).await;
    assert_eq!(broker.figures().stored_messages, held_before, "the PUBACK of a parked subscriber was read");
    broker.stop().await;
}

#[tokio::test]
async fn a_parked_client_that_goes_away_is_noticed_and_its_will_published() {
    let broker = TestBroker::start().await;
    let mut watcher = RawClient::connect(broker.addr, "watcher").await;
    watcher.subscribe(&[("PV/status", QoS::AtMostOnce)]).await;
    let mut connect = connect_packet("plant", true, 60);
    connect.will = Some(will("PV/status", b"offline", QoS::AtMostOnce, false));
    let (plant, _) = RawClient::connect_with(broker.addr, connect).await;
    parked(&broker, 2).await;
    drop(plant);
    assert_eq!(&watcher.recv_publish().await.payload[..], b"offline");
    broker.wait_for_log("Client plant closed its connection.").await;
    parked(&broker, 1).await;
    broker.stop().await;
}

#[tokio::test]
async fn keepalive_closes_a_parked_client() {
    let broker = TestBroker::start().await;
    let (mut quiet, _) = RawClient::connect_with(broker.addr, connect_packet("quiet", true, 1)).await;
    parked(&broker, 1).await;
    let start = Instant::now();
    quiet.expect_closed().await;
    assert!(start.elapsed() >= Duration::from_secs(1), "closed after {:?}", start.elapsed());
    broker.wait_for_log("Client quiet has exceeded timeout, disconnecting.").await;
    parked(&broker, 0).await;
    broker.stop().await;
}

#[tokio::test]
async fn a_parked_client_is_taken_over_by_a_new_connection_with_its_id() {
    let broker = TestBroker::start().await;
    let mut first = RawClient::connect(broker.addr, "esp32").await;
    parked(&broker, 1).await;
    let mut second = RawClient::connect(broker.addr, "esp32").await;
    first.expect_closed().await;
    second.send(Packet::PingReq).await;
    assert_eq!(second.recv().await, Packet::PingResp);
    parked(&broker, 1).await;
    broker.stop().await;
}

#[tokio::test]
async fn shutdown_closes_parked_clients() {
    let broker = TestBroker::start().await;
    let mut a = RawClient::connect(broker.addr, "a").await;
    let mut b = RawClient::connect(broker.addr, "b").await;
    parked(&broker, 2).await;
    tokio::time::timeout(PATIENCE, broker.stop()).await.expect("shutdown waits for parked clients and ends");
    a.expect_closed().await;
    b.expect_closed().await;
}

#[tokio::test]
async fn a_busy_client_stays_on_its_task_and_parks_once_quiet() {
    let broker = TestBroker::start().await;
    let mut sink = RawClient::connect(broker.addr, "sink").await;
    sink.subscribe(&[("PV/data", QoS::AtMostOnce)]).await;
    // Keepalive 2 s: the keepalive timer looks at it at the latest 3 s after its last read.
    let (mut busy, _) = RawClient::connect_with(broker.addr, connect_packet("busy", true, 2)).await;
    parked(&broker, 2).await;
    for n in 0..50u32 {
        busy.send(publish("PV/data", n.to_string().as_bytes(), QosPid::AtMostOnce, false)).await;
        busy.send(Packet::PingReq).await;
        assert_eq!(busy.recv().await, Packet::PingResp);
    }
    for _ in 0..50 {
        sink.recv_publish().await;
    }
    // The subscriber got 50 messages in a row too: both are busy now; quiet, they park.
    assert!(broker.broker().parked_connections() < 2, "a busy client parked at once");
    parked(&broker, 2).await;
    busy.send(Packet::PingReq).await;
    assert_eq!(busy.recv().await, Packet::PingResp, "a client parked after being busy still answers");
    broker.stop().await;
}

#[test]
fn parked_clients_are_closed_when_the_brokers_runtime_goes_away() {
    let client_rt = tokio::runtime::Runtime::new().unwrap();
    let broker_rt = tokio::runtime::Runtime::new().unwrap();
    let broker = broker_rt.block_on(TestBroker::start());
    let mut client = client_rt.block_on(RawClient::connect(broker.addr, "left-behind"));
    broker_rt.block_on(parked(&broker, 1));
    // The broker is neither stopped nor dropped: only its runtime goes, and with it every task
    // (an embedding app that drops its runtime). Its parked client must not be left open.
    drop(broker_rt);
    client_rt.block_on(client.expect_closed());
    drop(broker);
}

/// The course's port 8883: `mosquitto_sub --psk` parks while it waits (OpenSSL's session kept
/// over a socket off the reactor) and still gets the plant's `mosquitto_pub --psk` message.
const PSK_KEY: &str = "0123456789abcdef0123";

/// A broker whose one listener is TLS-PSK, as the course's port 8883 (identity `btsiot1`).
async fn psk_broker(dir: &support::TempDir) -> TestBroker {
    let psk_file = dir.file("pskfile", &format!("btsiot1:{PSK_KEY}\n"));
    TestBroker::with(move |c| {
        c.psk_file = Some(psk_file);
        let psk = mqtt_lab_broker::config::ListenerConfig { psk_hint: Some("btsiot".into()), ..Default::default() };
        c.listeners.push(psk);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_psk_subscriber_parks_and_gets_its_message() {
    let dir = support::TempDir::new("park-psk");
    let broker = psk_broker(&dir).await;
    let port = broker.port().to_string();
    let common = ["-V", "mqttv311", "-h", "127.0.0.1", "-p", &port, "--psk-identity", "btsiot1", "--psk", PSK_KEY];
    let mut sub = std::process::Command::new("mosquitto_sub");
    sub.args(common).args(["-i", "pv-viewer", "-t", "PV/data", "-C", "1", "-W", "10"]);
    sub.stdout(std::process::Stdio::piped());
    let sub = sub.spawn().expect("mosquitto_sub (apt-get install mosquitto-clients)");
    broker.wait_for_log("pv-viewer").await;
    parked(&broker, 1).await;
    let mut publisher = std::process::Command::new("mosquitto_pub");
    publisher.args(common).args(["-i", "pv-plant", "-t", "PV/data", "-m", "4.2"]);
    let published =
        tokio::task::spawn_blocking(move || support::run_tool(&mut publisher, "mosquitto-clients")).await.unwrap();
    assert!(published.status.success(), "{}", String::from_utf8_lossy(&published.stderr));
    let out = tokio::task::spawn_blocking(move || sub.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "mosquitto_sub got nothing in 10 s");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "4.2");
    broker.stop().await;
}

/// A TLS-PSK subscriber that stops reading while megabytes are on their way to it: the
/// broker's write to it cannot finish, nor can its TLS close (`close_notify` is one more
/// write). Shutdown still ends: the connection gives each up after a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_with_a_tls_psk_client_that_stopped_reading() {
    const MESSAGES: usize = 64;
    const PAYLOAD: usize = 128 * 1024;
    let dir = support::TempDir::new("park-psk-stuck");
    let broker = psk_broker(&dir).await;
    let key: Vec<u8> =
        (0..PSK_KEY.len()).step_by(2).map(|i| u8::from_str_radix(&PSK_KEY[i..i + 2], 16).unwrap()).collect();
    let client = mqtt_lab_psk_hint::PskClient::new("btsiot1", &key, mqtt_lab_psk_hint::PskVersions::Any).unwrap();
    let psk_client = async |receive_buffer: Option<u32>, id: &str| {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if let Some(size) = receive_buffer {
            socket.set_recv_buffer_size(size).unwrap();
        }
        let tcp = socket.connect(broker.addr).await.unwrap();
        let mut c = RawClient::over(client.connect(tcp, "127.0.0.1").await.unwrap());
        c.handshake(connect_packet(id, true, 60)).await;
        c
    };
    // A small receive buffer: the broker's socket to it fills after a few kilobytes.
    let mut slow = psk_client(Some(4096), "slow-reader").await;
    slow.subscribe(&[("PV/data", QoS::AtMostOnce)]).await;
    // 8 MB for it, more than the sockets between hold: the rest waits in the broker.
    let mut plant = psk_client(None, "pv-plant").await;
    let payload = vec![b'7'; PAYLOAD];
    for _ in 0..MESSAGES {
        plant.send(publish("PV/data", &payload, QosPid::AtMostOnce, false)).await;
    }
    // Answered only once every PUBLISH before it has been routed.
    plant.send(Packet::PingReq).await;
    assert_eq!(plant.recv().await, Packet::PingResp);
    broker.stop().await;
    drop(slow);
}
