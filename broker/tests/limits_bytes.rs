//! Byte limits per client (issue 24): `max_inflight_bytes` with `max_inflight_messages`,
//! `max_queued_bytes` with `max_queued_messages`, and `queue_qos0_messages` under them. Each
//! config text and each client's bytes go through Debian's Mosquitto 2.0.11 and ours.
//!
//! Both count payload bytes only, and let a message in while the bytes already there are below
//! the limit (so one larger message still goes, alone). Where 2.0.11 does not do what
//! mosquitto.conf(5) says, the test asserts each broker's answer and says why.

mod support;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid};
use support::brokers::{BrokerProcess, both};
use support::{RawClient, TempDir, connect_packet, pid, publish};

/// The payloads in `packets`' PUBLISHes, and their packet ids.
fn publishes(packets: Vec<Packet>) -> Vec<(Vec<u8>, u16)> {
    packets
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => {
                Some((p.payload.to_vec(), p.qos_pid.pid().map_or(0, mqtt_lab_broker::codec::PacketId::get)))
            }
            _ => None,
        })
        .collect()
}

/// Publishes QoS 1 messages of these payloads and waits for every PUBACK.
async fn publish_acked(broker: &BrokerProcess, client_id: &str, topic: &str, payloads: &[Vec<u8>], qos: QoS) {
    let mut publisher = RawClient::connect(broker.addr(), client_id).await;
    for (i, payload) in payloads.iter().enumerate() {
        let n = u16::try_from(i + 1).unwrap();
        let qos_pid = if qos == QoS::AtMostOnce { QosPid::AtMostOnce } else { QosPid::AtLeastOnce(pid(n)) };
        publisher.send(publish(topic, payload, qos_pid, false)).await;
        if qos != QoS::AtMostOnce {
            assert_eq!(publisher.recv().await, Packet::PubAck(pid(n).into()), "{:?}", broker.kind);
        }
    }
    publisher.disconnect().await;
}

/// Messages numbered 1.. of `len` bytes each (the first byte is the number).
fn numbered(count: u8, len: usize) -> Vec<Vec<u8>> {
    (1..=count)
        .map(|n| {
            let mut p = vec![b'x'; len];
            p[0] = n;
            p
        })
        .collect()
}

/// What a live QoS 1 subscriber that does not acknowledge has in flight after `payloads`,
/// then after each PUBACK it sends, in turn: the first byte of each PUBLISH.
async fn in_flight_steps(broker: &BrokerProcess, payloads: &[Vec<u8>], acks: usize) -> Vec<Vec<u8>> {
    let mut sub = RawClient::connect(broker.addr(), "bytes-sub").await;
    sub.subscribe(&[("lab/bytes", QoS::AtLeastOnce)]).await;
    publish_acked(broker, "bytes-pub", "lab/bytes", payloads, QoS::AtLeastOnce).await;
    let mut steps = Vec::new();
    let mut sent = publishes(sub.sync().await);
    for _ in 0..acks {
        steps.push(sent.iter().map(|(p, _)| p[0]).collect());
        let Some((_, first)) = sent.first().cloned() else { break };
        sub.send(Packet::PubAck(pid(first).into())).await;
        sent.remove(0);
        sent.extend(publishes(sub.sync().await));
    }
    sub.disconnect().await;
    steps
}

/// `max_inflight_bytes 10` and 8-byte payloads: two in flight (0 and 8 bytes were below 10),
/// the third once the first is acknowledged; 20-byte payloads go one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_inflight_bytes_holds_messages_back_as_mosquitto() {
    let dir = TempDir::new("limits-inflight-bytes");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 20\nmax_inflight_bytes 10\n";
    for broker in both(&dir, conf) {
        let small = in_flight_steps(&broker, &numbered(3, 8), 2).await;
        assert_eq!(small, [vec![1, 2], vec![2, 3]], "{:?}: 8-byte messages", broker.kind);
        let large = in_flight_steps(&broker, &numbered(2, 20), 2).await;
        assert_eq!(large, [vec![1], vec![2]], "{:?}: 20-byte messages, alone", broker.kind);
    }
}

/// With `max_inflight_messages 2` the count is reached first: 1-byte messages two at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_inflight_messages_and_bytes_whichever_comes_first() {
    let dir = TempDir::new("limits-inflight-either");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 2\nmax_inflight_bytes 100\n";
    for broker in both(&dir, conf) {
        let steps = in_flight_steps(&broker, &numbered(3, 1), 1).await;
        assert_eq!(steps, [vec![1, 2]], "{:?}", broker.kind);
    }
}

/// Five 8-byte messages under `max_inflight_bytes 10`: we keep two in flight, as
/// mosquitto.conf(5) says. Mosquitto 2.0.11 sends four: a message over the byte limit is
/// queued, and then moved into flight by the count alone (`db__message_write_queued_out`
/// looks at `inflight_quota`, not at the bytes), each queued one costing two of the quota.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_inflight_bytes_where_mosquitto_2_0_11_lets_queued_messages_through() {
    let dir = TempDir::new("limits-inflight-bug");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 20\nmax_inflight_bytes 10\n";
    let [mosquitto, ours] = both(&dir, conf);
    assert_eq!(in_flight_steps(&mosquitto, &numbered(5, 8), 1).await, [vec![1, 2, 3, 4]], "Mosquitto 2.0.11");
    assert_eq!(in_flight_steps(&ours, &numbered(5, 8), 1).await, [vec![1, 2]], "ours");
}

/// What an offline persistent subscriber at QoS 1 finds when it comes back after `payloads`
/// were published at `qos`: the payload sizes.
async fn queued_for_offline(broker: &BrokerProcess, client_id: &str, payloads: &[Vec<u8>], qos: QoS) -> Vec<usize> {
    let topic = format!("lab/queue/{client_id}");
    let (mut sub, _) = RawClient::connect_with(broker.addr(), connect_packet(client_id, false, 60)).await;
    sub.subscribe(&[(&topic, QoS::AtLeastOnce)]).await;
    sub.disconnect().await;
    publish_acked(broker, &format!("{client_id}-pub"), &topic, payloads, qos).await;
    let (mut back, present) = RawClient::connect_with(broker.addr(), connect_packet(client_id, false, 60)).await;
    assert!(present, "{:?}: the session was kept", broker.kind);
    let got = publishes(back.sync().await).into_iter().map(|(p, _)| p.len()).collect();
    // Clean up: the next test on this broker starts from nothing.
    back.send(Packet::disconnect()).await;
    got
}

/// `max_queued_bytes 20`: 8-byte messages are queued while fewer than 20 bytes are (three),
/// a 19-byte one lets one more in, a 30-byte one goes alone; with `max_queued_messages 2`
/// the count comes first. The same on both brokers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_queued_bytes_and_messages_drop_what_comes_after_either_limit_as_mosquitto() {
    let dir = TempDir::new("limits-queued-bytes");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nmax_queued_bytes 20\n";
    for broker in both(&dir, conf) {
        let k = broker.kind;
        assert_eq!(queued_for_offline(&broker, "q-8", &numbered(6, 8), QoS::AtLeastOnce).await, [8, 8, 8], "{k:?}");
        let sizes = [vec![b'a'; 19], vec![b'b'], vec![b'c']];
        assert_eq!(queued_for_offline(&broker, "q-19", &sizes, QoS::AtLeastOnce).await, [19, 1], "{k:?}");
        let sizes = [vec![b'a'; 30], vec![b'b']];
        assert_eq!(queued_for_offline(&broker, "q-30", &sizes, QoS::AtLeastOnce).await, [30], "{k:?}");
    }
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nmax_queued_messages 2\nmax_queued_bytes 100\n";
    for broker in both(&dir, conf) {
        let got = queued_for_offline(&broker, "q-count", &numbered(6, 8), QoS::AtLeastOnce).await;
        assert_eq!(got, [8, 8], "{:?}: the count first", broker.kind);
    }
}

/// The messages dropped for a full queue are counted in `$SYS/broker/publish/messages/dropped`
/// on both (read once the broker has published the new value).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_messages_are_counted_in_sys_as_mosquitto() {
    let dir = TempDir::new("limits-queued-dropped");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nsys_interval 1\nmax_queued_bytes 20\n";
    for broker in both(&dir, conf) {
        assert_eq!(queued_for_offline(&broker, "q-sys", &numbered(6, 8), QoS::AtLeastOnce).await.len(), 3);
        let mut sys = RawClient::connect(broker.addr(), "sys-reader").await;
        sys.subscribe(&[("$SYS/broker/publish/messages/dropped", QoS::AtMostOnce)]).await;
        // The value is published again when it changes: wait for the one after the drops.
        loop {
            let p = sys.recv_publish().await;
            let dropped: u64 = String::from_utf8_lossy(&p.payload).parse().unwrap();
            assert!(dropped <= 3, "{:?}: dropped {dropped}", broker.kind);
            if dropped == 3 {
                break;
            }
        }
    }
}

/// `queue_qos0_messages true`: QoS 0 messages are queued for an offline persistent session.
/// mosquitto.conf(5) says they are "included in the limit imposed by max_queued_messages"; we
/// hold them to it and to `max_queued_bytes`. Mosquitto 2.0.11 queues all six under either
/// limit: it counts only QoS 1/2 messages (`msg_count12`, `msg_bytes12`) against the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_qos0_messages_count_toward_the_limits_here_not_in_mosquitto_2_0_11() {
    let dir = TempDir::new("limits-queued-qos0");
    for limit in ["max_queued_messages 3", "max_queued_bytes 20"] {
        let conf = format!("listener PORT 127.0.0.1\nallow_anonymous true\nqueue_qos0_messages true\n{limit}\n");
        let [mosquitto, ours] = both(&dir, &conf);
        let theirs = queued_for_offline(&mosquitto, "q0", &numbered(6, 8), QoS::AtMostOnce).await;
        assert_eq!(theirs, [8; 6], "Mosquitto 2.0.11 with {limit}");
        let here = queued_for_offline(&ours, "q0", &numbered(6, 8), QoS::AtMostOnce).await;
        assert_eq!(here, [8; 3], "ours with {limit}");
    }
}

/// Values are read as Mosquitto 2.0.11 reads them (atoi): both start on text and on a
/// negative byte limit; a negative `memory_limit` stops both at the line.
#[test]
fn byte_limit_values_are_read_as_mosquitto_reads_them() {
    let dir = TempDir::new("limits-bytes-values");
    for text in ["max_inflight_bytes 1k", "max_queued_bytes -1", "max_queued_bytes none", "memory_limit 64000000x"] {
        let conf = format!("listener PORT 127.0.0.1\nallow_anonymous true\n{text}\n");
        // start() waits for each to say it is running.
        drop(both(&dir, &conf));
    }
    let conf = dir.file("negative.conf", "listener 0 127.0.0.1\nmemory_limit -1\n");
    for program in ["mosquitto", env!("CARGO_BIN_EXE_mqtt-lab-broker")] {
        // `timeout` ends a broker that started after all (status 124) instead of hanging.
        let out = std::process::Command::new("timeout").arg("10").arg(program).arg("-c").arg(&conf).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && out.status.code() != Some(124), "{program} started: {err}");
        assert!(err.contains("memory_limit"), "{program}: {err}");
    }
}
