//! Bridges when things go wrong (issue 24): the remote down (and this broker killed meanwhile)
//! with nothing acknowledged lost and the order kept, failover to the next `address`, and a
//! remote that refuses the bridge bit (`try_private`), with what the log says.

mod support;

use std::time::Duration;

use mqtt_lab_broker::codec::v5::Properties;
use mqtt_lab_broker::codec::{ConnectReturnCode, Packet, QoS, QosPid, SubAck, SubAckCode};
use support::brokers::{BrokerProcess, Kind};
use support::{RawClient, TempDir, connect_packet, pid, publish};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Publishes `count` QoS 1 messages `PV/data` = "0", "1", ... from `start`, each acknowledged.
async fn publish_series(broker: &BrokerProcess, start: u16, count: u16) {
    let mut pi = RawClient::connect(broker.addr(), "pv-plant").await;
    for n in start..start + count {
        pi.send(publish("PV/data", n.to_string().as_bytes(), QosPid::AtLeastOnce(pid(n + 1)), false)).await;
        assert!(matches!(pi.recv().await, Packet::PubAck(a) if a.pid == pid(n + 1)), "message {n} acknowledged");
    }
    pi.disconnect().await;
}

/// Reads what a persistent subscriber has waiting until `last` arrives; answers the payloads.
async fn drain_until(client: &mut RawClient, last: &str) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        let p = client.recv_publish().await;
        if let QosPid::AtLeastOnce(id) = p.qos_pid {
            client.send(Packet::PubAck(id.into())).await;
        }
        let payload = String::from_utf8_lossy(&p.payload).into_owned();
        let done = payload == last;
        got.push(payload);
        if done {
            return got;
        }
    }
}

/// The remote is stopped, 20 messages are published and acknowledged on the Pi, the Pi's
/// broker is killed (kill -9) and started again, then the remote comes back: a persistent
/// subscriber on the remote receives every message, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_while_the_remote_is_down() {
    let dir = TempDir::new("bridge-held");
    // Mosquitto started as root drops to the `mosquitto` user, which must write its file here.
    std::fs::set_permissions(&dir.0, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let remote_conf = format!(
        "listener PORT 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n",
        dir.0.display()
    );
    let remote = BrokerProcess::start(Kind::Mosquitto, &dir, &remote_conf);
    let remote_port = remote.port;
    let subscriber = || connect_packet("cloud-db", false, 60);
    let (mut db, _) = RawClient::connect_with(remote.addr(), subscriber()).await;
    db.subscribe(&[("school/pi1/PV/#", QoS::AtLeastOnce)]).await;
    db.disconnect().await;

    let store = TempDir::new("bridge-held-pi");
    let local_conf = format!(
        "listener PORT 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n\
         connection cloud\naddress 127.0.0.1:{remote_port}\nremote_clientid pi1\nrestart_timeout 1\n\
         topic PV/# out 1 \"\" school/pi1/\n",
        store.0.display()
    );
    let local = BrokerProcess::start(Kind::Ours, &store, &local_conf);
    local.wait_for_log("Bridge cloud connected to", 0);
    publish_series(&local, 0, 1).await;

    let from = local.log_len();
    remote.terminate();
    local.wait_for_log("Bridge cloud: connection to", from);
    publish_series(&local, 1, 20).await;
    // Killed with the messages held for the remote: they are in its store.
    drop(local);
    let local = BrokerProcess::start(Kind::Ours, &store, &local_conf);
    assert!(local.logs().contains("persistent sessions"), "{}", local.logs());

    let remote = BrokerProcess::start(Kind::Mosquitto, &dir, &remote_conf.replace("PORT", &remote_port.to_string()));
    local.wait_for_log("Bridge cloud connected to", 0);
    // `remote.port` is the harness's pick; this config names the old port itself.
    let remote_addr = std::net::SocketAddr::from(([127, 0, 0, 1], remote_port));
    let (mut db, present) = RawClient::connect_with(remote_addr, subscriber()).await;
    assert!(present, "the subscriber's session survived the remote's restart:\n{}", remote.logs());
    let got = drain_until(&mut db, "20").await;
    let mut unique = got.clone();
    unique.dedup();
    let expected: Vec<String> = (0..=20).map(|n| n.to_string()).collect();
    assert_eq!(unique, expected, "every acknowledged message, in order (at least once: {} copies)", got.len());
}

/// Two addresses: the first one is stopped while the bridge uses it; the bridge goes on to the
/// second, and what is published meanwhile arrives there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_fails_over_to_the_next_address() {
    let dir = TempDir::new("bridge-failover");
    let first = BrokerProcess::start(
        Kind::Ours,
        &TempDir::new("bridge-failover-a"),
        "listener PORT 127.0.0.1\nallow_anonymous true\n",
    );
    let second = BrokerProcess::start(Kind::Mosquitto, &dir, "listener PORT 127.0.0.1\nallow_anonymous true\n");
    let conf = format!(
        "listener PORT 127.0.0.1\nallow_anonymous true\nconnection cloud\naddress 127.0.0.1:{} 127.0.0.1:{}\n\
         remote_clientid pi1\nrestart_timeout 1\ntopic PV/# out 1\n",
        first.port, second.port
    );
    let local = BrokerProcess::start(Kind::Ours, &TempDir::new("bridge-failover-pi"), &conf);
    local.wait_for_log(&format!("Bridge cloud connected to 127.0.0.1:{}", first.port), 0);
    let from = local.log_len();
    drop(first);
    local.wait_for_log(&format!("Bridge cloud connected to 127.0.0.1:{}", second.port), from);
    let mut cloud = RawClient::connect(second.addr(), "cloud").await;
    cloud.subscribe(&[("PV/#", QoS::AtLeastOnce)]).await;
    publish_series(&local, 0, 3).await;
    assert_eq!(drain_until(&mut cloud, "2").await, ["0", "1", "2"]);
}

/// A stand-in for brokers that refuse the bridge bit: answers CONNACK 1 (unacceptable protocol
/// level) to a CONNECT with level | 0x80, CONNACK 0 otherwise, or closes the socket (as HiveMQ
/// CE does) when `close` is set. Answers the levels it saw.
async fn refusing_remote(listener: TcpListener, close: bool, attempts: usize) -> Vec<u8> {
    let mut levels = Vec::new();
    let mut open = Vec::new();
    while levels.len() < attempts {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 256];
        let mut n = 0;
        // Fixed header (2), protocol name (2 + 4), level: 9 bytes are enough to read the level.
        while n < 9 {
            let read = socket.read(&mut buf[n..]).await.unwrap();
            assert!(read > 0, "the bridge closed before its CONNECT");
            n += read;
        }
        let level = buf[8];
        levels.push(level);
        if level & 0x80 != 0 && close {
            drop(socket);
            continue;
        }
        let code = u8::from(level & 0x80 != 0);
        socket.write_all(&[0x20, 2, 0, code]).await.unwrap();
        open.push(socket);
    }
    levels
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_refusing_the_bridge_bit_is_named_and_the_bridge_goes_on_without_it() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shim = tokio::spawn(refusing_remote(listener, false, 2));
    let conf = format!(
        "listener PORT 127.0.0.1\nallow_anonymous true\nconnection strict\naddress 127.0.0.1:{port}\nrestart_timeout 1\ntopic a/# out\n"
    );
    let local = BrokerProcess::start(Kind::Ours, &TempDir::new("bridge-private-refused"), &conf);
    let levels = tokio::time::timeout(Duration::from_secs(20), shim).await.unwrap().unwrap();
    assert_eq!(levels, [0x84, 0x04], "first with the bridge bit, then without");
    local.wait_for_log("does not accept the bridge bit (try_private); trying without it next", 0);
    local.wait_for_log("Bridge strict connected to", 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_closing_on_the_bridge_bit_gets_a_hint_in_the_log() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shim = tokio::spawn(refusing_remote(listener, true, 2));
    let conf = format!(
        "listener PORT 127.0.0.1\nallow_anonymous true\nconnection hivemq\naddress 127.0.0.1:{port}\nrestart_timeout 1\ntopic a/# out\n"
    );
    let local = BrokerProcess::start(Kind::Ours, &TempDir::new("bridge-private-closed"), &conf);
    let levels = tokio::time::timeout(Duration::from_secs(20), shim).await.unwrap().unwrap();
    assert_eq!(levels, [0x84, 0x84], "the bit is kept: a closed socket is no proof it was the bit");
    local.wait_for_log("set try_private false, or bridge_protocol_version mqttv50", 0);
}

/// One side of a scripted remote: answers the bridge's CONNECT and SUBSCRIBE (and its state
/// message), then hands the connection back.
async fn accept_bridge(listener: &TcpListener) -> RawClient {
    let (socket, _) = listener.accept().await.unwrap();
    let mut bridge = RawClient::over(socket);
    assert!(matches!(bridge.recv().await, Packet::Connect(_)));
    bridge.send(Packet::ConnAck(mqtt_lab_broker::codec::ConnAck::new(true, ConnectReturnCode::Accepted))).await;
    loop {
        match bridge.recv().await {
            Packet::Subscribe(s) => {
                let codes = vec![SubAckCode::Granted(QoS::ExactlyOnce); s.filters.len()];
                bridge.send(Packet::SubAck(SubAck { pid: s.pid, properties: Properties::default(), codes })).await;
                return bridge;
            }
            Packet::Publish(p) => {
                if let QosPid::AtLeastOnce(id) = p.qos_pid {
                    bridge.send(Packet::PubAck(id.into())).await;
                }
            }
            _ => {}
        }
    }
}

/// A remote QoS 2 message, step by step; `release`: go on past PUBREC.
async fn deliver_qos2(bridge: &mut RawClient, n: u16, payload: &[u8], dup: bool, release: bool) {
    let Packet::Publish(mut p) = publish("cmd/lamp", payload, QosPid::ExactlyOnce(pid(n)), false) else {
        unreachable!()
    };
    p.dup = dup;
    bridge.send(Packet::Publish(p)).await;
    assert_eq!(bridge.recv().await, Packet::PubRec(pid(n).into()), "PUBREC for {n}");
    if release {
        bridge.send(Packet::PubRel(pid(n).into())).await;
        assert_eq!(bridge.recv().await, Packet::PubComp(pid(n).into()), "PUBCOMP for {n}");
    }
}

/// The remote's connection drops between PUBREC and PUBREL of a QoS 2 message; after the
/// reconnect it resends that message (DUP, same id) and sends a new one. The Pi's subscriber
/// gets each of the three exactly once (a relay numbering its own ids delivered the resend
/// again and lost the new one, whose id the Pi's session still held).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qos2_message_interrupted_by_a_reconnect_arrives_once() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let conf = format!(
        "listener PORT 127.0.0.1\nallow_anonymous true\nconnection cloud\naddress 127.0.0.1:{port}\nrestart_timeout 1\n\
         topic lamp in 2 \"\" cmd/\n"
    );
    let local = BrokerProcess::start(Kind::Ours, &TempDir::new("bridge-qos2-reconnect"), &conf);
    let mut bridge = accept_bridge(&listener).await;
    let mut esp32 = RawClient::connect(local.addr(), "esp32").await;
    esp32.subscribe(&[("lamp", QoS::ExactlyOnce)]).await;
    deliver_qos2(&mut bridge, 7, b"A", false, true).await;
    deliver_qos2(&mut bridge, 8, b"B", false, false).await;
    drop(bridge);
    let mut bridge = accept_bridge(&listener).await;
    deliver_qos2(&mut bridge, 8, b"B", true, true).await;
    deliver_qos2(&mut bridge, 9, b"C", false, true).await;
    let (mut got, mut released) = (Vec::new(), 0);
    while released < 3 {
        match esp32.recv().await {
            Packet::Publish(p) => {
                let QosPid::ExactlyOnce(id) = p.qos_pid else { panic!("{p:?}") };
                got.push(String::from_utf8_lossy(&p.payload).into_owned());
                esp32.send(Packet::PubRec(id.into())).await;
            }
            Packet::PubRel(a) => {
                released += 1;
                esp32.send(Packet::PubComp(a.pid.into())).await;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(esp32.sync().await.is_empty(), "nothing more after {got:?}");
    assert_eq!(got, ["A", "B", "C"]);
}
