//! Bridges (issue 24), judged by Debian's Mosquitto 2.0.11: the same `connection` section run by
//! Mosquitto and by ours, toward Mosquitto and toward ours, must give the same observations.
//! Every pair runs one scenario: `out` with prefixes at QoS 1, `in` at QoS 2, `both` at QoS 0
//! without an echo, a retained message, and the bridge's state topic on both sides.

mod support;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid};
use support::brokers::{BrokerProcess, Kind};
use support::{RawClient, TempDir, publish};

/// The bridge section both brokers get; `REMOTE` is the remote broker's port.
const BRIDGE: &str = "connection cloud
address 127.0.0.1:REMOTE
remote_clientid pi1
restart_timeout 1
topic PV/# out 1 \"\" school/pi1/
topic lamp/# in 2 esp/ cmd/
topic chat/# both 0
";

/// What one client saw: topic, payload, QoS, retain.
type Seen = (String, String, QoS, bool);

async fn next(client: &mut RawClient) -> Seen {
    let p = client.recv_publish().await;
    if let QosPid::AtLeastOnce(pid) = p.qos_pid {
        client.send(mqtt_lab_broker::codec::Packet::PubAck(pid.into())).await;
    }
    if let QosPid::ExactlyOnce(pid) = p.qos_pid {
        client.send(mqtt_lab_broker::codec::Packet::PubRec(pid.into())).await;
        let _ = client.recv().await;
        client.send(mqtt_lab_broker::codec::Packet::PubComp(pid.into())).await;
    }
    (p.topic.as_str().to_owned(), String::from_utf8_lossy(&p.payload).into_owned(), p.qos_pid.qos(), p.retain)
}

/// Waits on `broker` until the state topic of bridge `pi1` says `value`; answers the retained
/// copy a client subscribing then receives.
async fn state_is(broker: &BrokerProcess, value: &str, id: &str) -> Seen {
    let state = "$SYS/broker/connection/pi1/state";
    let mut watcher = RawClient::connect(broker.addr(), id).await;
    watcher.subscribe(&[(state, QoS::AtLeastOnce)]).await;
    while next(&mut watcher).await.1 != value {}
    let mut late = RawClient::connect(broker.addr(), &format!("{id}-late")).await;
    late.subscribe(&[(state, QoS::AtLeastOnce)]).await;
    next(&mut late).await
}

/// The scenario, with `local` bridged to `remote`; answers what every observer saw.
async fn scenario(local: &BrokerProcess, remote: &BrokerProcess) -> Vec<Seen> {
    let mut seen = Vec::new();
    // Connected: the state is 1 on both sides (retained, so a late watcher sees it).
    seen.push(state_is(remote, "1", "state-remote").await);
    seen.push(state_is(local, "1", "state-local").await);

    // out, with prefixes, QoS 1; and a retained message reaching a later subscriber.
    let mut cloud = RawClient::connect(remote.addr(), "cloud-reader").await;
    cloud.subscribe(&[("school/pi1/PV/#", QoS::AtLeastOnce)]).await;
    let mut pi = RawClient::connect(local.addr(), "pi-publisher").await;
    pi.send(publish("PV/data", b"7.5", QosPid::AtLeastOnce(support::pid(1)), false)).await;
    let _ = pi.recv().await; // PUBACK
    seen.push(next(&mut cloud).await);
    pi.send(publish("PV/sunshine", b"yes", QosPid::AtLeastOnce(support::pid(2)), true)).await;
    let _ = pi.recv().await;
    seen.push(next(&mut cloud).await);
    let mut late = RawClient::connect(remote.addr(), "cloud-late").await;
    late.subscribe(&[("school/pi1/PV/sunshine", QoS::AtLeastOnce)]).await;
    seen.push(next(&mut late).await);

    // in, QoS 2, prefixes swapped.
    let mut lamp = RawClient::connect(local.addr(), "esp32").await;
    lamp.subscribe(&[("esp/#", QoS::ExactlyOnce)]).await;
    let mut teacher = RawClient::connect(remote.addr(), "teacher").await;
    let command = br#"{"control":"PWM","value":50,"unit":"%"}"#;
    teacher.send(publish("cmd/lamp/1", command, QosPid::ExactlyOnce(support::pid(3)), false)).await;
    // Mosquitto passes a QoS 2 message on at PUBREL.
    let _ = teacher.recv().await; // PUBREC
    teacher.send(mqtt_lab_broker::codec::Packet::PubRel(support::pid(3).into())).await;
    let _ = teacher.recv().await; // PUBCOMP
    seen.push(next(&mut lamp).await);

    // both, QoS 0: each way once, and nothing echoed back (a marker sent after would come
    // after the echo on the same bridge connection).
    let mut chat_local = RawClient::connect(local.addr(), "chat-local").await;
    chat_local.subscribe(&[("chat/#", QoS::AtMostOnce)]).await;
    let mut chat_remote = RawClient::connect(remote.addr(), "chat-remote").await;
    chat_remote.subscribe(&[("chat/#", QoS::AtMostOnce)]).await;
    pi.send(publish("chat/pi", b"hello from the pi", QosPid::AtMostOnce, false)).await;
    seen.push(next(&mut chat_local).await);
    seen.push(next(&mut chat_remote).await);
    teacher.send(publish("chat/marker", b"marker", QosPid::AtMostOnce, false)).await;
    seen.push(next(&mut chat_remote).await);
    seen.push(next(&mut chat_local).await);
    assert!(chat_remote.sync().await.is_empty(), "{:?} -> {:?}: echo on the remote", local.kind, remote.kind);
    assert!(chat_local.sync().await.is_empty(), "{:?} -> {:?}: echo on the local broker", local.kind, remote.kind);
    seen
}

async fn run(local_kind: Kind, remote_kind: Kind, extra: &str) -> Vec<Seen> {
    let dir = TempDir::new(&format!("bridge-{local_kind:?}-{remote_kind:?}"));
    let remote = BrokerProcess::start(remote_kind, &dir, "listener PORT 127.0.0.1\nallow_anonymous true\n");
    let bridge = BRIDGE.replace("REMOTE", &remote.port.to_string());
    let conf = format!("listener PORT 127.0.0.1\nallow_anonymous true\n{bridge}{extra}");
    let local = BrokerProcess::start(local_kind, &dir, &conf);
    scenario(&local, &remote).await
}

/// What every pair must see.
fn expected() -> Vec<Seen> {
    let command = r#"{"control":"PWM","value":50,"unit":"%"}"#;
    [
        ("$SYS/broker/connection/pi1/state", "1", QoS::AtLeastOnce, true),
        ("$SYS/broker/connection/pi1/state", "1", QoS::AtLeastOnce, true),
        ("school/pi1/PV/data", "7.5", QoS::AtLeastOnce, false),
        ("school/pi1/PV/sunshine", "yes", QoS::AtLeastOnce, false),
        ("school/pi1/PV/sunshine", "yes", QoS::AtLeastOnce, true),
        ("esp/lamp/1", command, QoS::ExactlyOnce, false),
        ("chat/pi", "hello from the pi", QoS::AtMostOnce, false),
        ("chat/pi", "hello from the pi", QoS::AtMostOnce, false),
        ("chat/marker", "marker", QoS::AtMostOnce, false),
        ("chat/marker", "marker", QoS::AtMostOnce, false),
    ]
    .into_iter()
    .map(|(t, p, q, r)| (t.to_owned(), p.to_owned(), q, r))
    .collect()
}

/// Mosquitto bridged to Mosquitto is the reference; ours bridged to Mosquitto, Mosquitto
/// bridged to ours and ours to ours must see the same, with `extra` bridge lines.
async fn all_pairs(extra: &str) {
    let reference = run(Kind::Mosquitto, Kind::Mosquitto, extra).await;
    assert_eq!(reference, expected(), "Mosquitto bridged to Mosquitto, {extra:?}");
    for (local, remote) in [(Kind::Ours, Kind::Mosquitto), (Kind::Mosquitto, Kind::Ours), (Kind::Ours, Kind::Ours)] {
        assert_eq!(run(local, remote, extra).await, reference, "{local:?} bridged to {remote:?}, {extra:?}");
    }
}

/// MQTT 3.1.1 with the bridge bit (Mosquitto's defaults).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridges_in_out_and_both_as_mosquitto() {
    all_pairs("").await;
}

/// MQTT 5 bridges: No Local on the remote instead of the bridge bit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt5_bridges_as_mosquitto() {
    all_pairs("bridge_protocol_version mqttv50\n").await;
}

/// MQTT 3.1 (MQIsdp) bridges, and the remote session cleaned at each connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt31_bridges_with_clean_sessions_as_mosquitto() {
    all_pairs("bridge_protocol_version mqttv31\ncleansession true\n").await;
}

/// A burst of 60 QoS 2 messages through our bridge to Mosquitto, whose 3.1.1 clients may have
/// 20 unreleased at once (past that 2.0.11 answers PUBREC and drops the message): the bridge
/// keeps to that window, and all 60 arrive, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qos2_burst_keeps_to_the_remotes_window() {
    let dir = TempDir::new("bridge-window");
    let remote = BrokerProcess::start(Kind::Mosquitto, &dir, "listener PORT 127.0.0.1\nallow_anonymous true\n");
    let mut cloud = RawClient::connect(remote.addr(), "cloud-reader").await;
    cloud.subscribe(&[("school/pi1/PV/#", QoS::ExactlyOnce)]).await;
    let bridge = BRIDGE.replace("REMOTE", &remote.port.to_string()).replace("topic PV/# out 1", "topic PV/# out 2");
    let local =
        BrokerProcess::start(Kind::Ours, &dir, &format!("listener PORT 127.0.0.1\nallow_anonymous true\n{bridge}"));
    local.wait_for_log("Bridge cloud connected to", 0);
    let mut pi = RawClient::connect(local.addr(), "pv-plant").await;
    for n in 1..=60u16 {
        pi.send(publish("PV/data", n.to_string().as_bytes(), QosPid::ExactlyOnce(support::pid(n)), false)).await;
    }
    let mut got = Vec::new();
    while got.len() < 60 {
        match cloud.recv().await {
            Packet::Publish(p) => {
                got.push(String::from_utf8_lossy(&p.payload).parse::<u16>().unwrap());
                let QosPid::ExactlyOnce(id) = p.qos_pid else { panic!("QoS 2 all the way: {p:?}") };
                cloud.send(Packet::PubRec(id.into())).await;
            }
            Packet::PubRel(a) => cloud.send(Packet::PubComp(a.pid.into())).await,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, (1..=60).collect::<Vec<u16>>(), "{}", local.logs());
}
