//! `memory_limit` (issue 24) through Debian's Mosquitto 2.0.11 and ours, same config text,
//! same client bytes.
//!
//! Mosquitto counts its allocator's heap; we count the payload bytes the broker holds (queued,
//! in flight, retained: session/budget.rs). So the point where each refuses differs, and each
//! broker's count is asserted; what they do there is the same: the PUBLISH that would go over
//! is not acknowledged nor delivered, its client is disconnected, and others carry on. What
//! becomes of the held messages differs (see `refused_after`).

mod support;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid};
use support::brokers::{BrokerProcess, Kind, both};
use support::{RawClient, TempDir, connect_packet, pid, publish};

const BIG: usize = 10_000;

/// Publishes `BIG`-byte QoS 1 messages for an offline subscriber until the broker closes the
/// connection; answers how many were acknowledged.
async fn publish_until_refused(broker: &BrokerProcess) -> usize {
    let mut publisher = RawClient::connect(broker.addr(), "mem-pub").await;
    for n in 1..=40_u16 {
        publisher.send(publish("lab/mem", &[b'm'; BIG], QosPid::AtLeastOnce(pid(n)), false)).await;
        match publisher.try_recv().await {
            Some(Packet::PubAck(ack)) => assert_eq!(ack.pid, pid(n), "{:?}", broker.kind),
            None => return usize::from(n - 1),
            Some(other) => panic!("{:?}: expected PUBACK or the end, got {other:?}", broker.kind),
        }
    }
    panic!("{:?}: 40 messages of {BIG} bytes held under memory_limit 100500", broker.kind);
}

/// The refused count, after checking that another client is served meanwhile. Then the
/// subscriber comes back for what is held. Ours delivers every acknowledged message, and not
/// the refused one, and takes messages again once they are acknowledged. Mosquitto 2.0.11
/// disconnects it "due to out of memory": it has no room to encode what it holds, and what it
/// holds is what fills its heap, so that subscriber cannot get them while the limit stands
/// (mosquitto.conf(5): "the receiving client will be disconnected").
async fn refused_after(broker: &BrokerProcess) -> usize {
    let (mut sub, _) = RawClient::connect_with(broker.addr(), connect_packet("mem-sub", false, 60)).await;
    sub.subscribe(&[("lab/mem", QoS::AtLeastOnce)]).await;
    sub.disconnect().await;
    let from = broker.log_len();
    let acked = publish_until_refused(broker).await;
    // Both say why, in Mosquitto 2.0.11's words.
    broker.wait_for_log("Client mem-pub disconnected due to out of memory.", from);
    let mut other = RawClient::connect(broker.addr(), "mem-other").await;
    other.send(publish("lab/other", b"small", QosPid::AtLeastOnce(pid(1)), false)).await;
    assert_eq!(other.recv().await, Packet::PubAck(pid(1).into()), "{:?}", broker.kind);
    let (mut back, _) = RawClient::connect_with(broker.addr(), connect_packet("mem-sub", false, 60)).await;
    if broker.kind == Kind::Mosquitto {
        back.expect_closed().await;
        return acked;
    }
    let mut delivered = 0;
    loop {
        let before = delivered;
        for packet in back.sync().await {
            if let Packet::Publish(p) = packet {
                assert_eq!(p.payload.len(), BIG, "{:?}", broker.kind);
                delivered += 1;
                back.send(Packet::PubAck(p.qos_pid.pid().unwrap().into())).await;
            }
        }
        if delivered == before {
            break;
        }
    }
    assert_eq!(delivered, acked, "{:?}: every acknowledged message, and not the refused one", broker.kind);
    // Delivered and acknowledged: the memory is free again.
    other.send(publish("lab/mem", &[b'm'; BIG], QosPid::AtLeastOnce(pid(2)), false)).await;
    assert_eq!(other.recv().await, Packet::PubAck(pid(2).into()), "{:?}: publishing again", broker.kind);
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_limit_drops_the_publish_that_goes_over_and_disconnects_its_client_as_mosquitto() {
    let dir = TempDir::new("limits-memory");
    // No periodic $SYS: its retained payloads count too (here only the version, 30 bytes).
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nsys_interval 0\nmemory_limit 100500\n";
    for broker in both(&dir, conf) {
        let acked = refused_after(&broker).await;
        match broker.kind {
            // Its own heap (about 50 kB at rest) counts too: it refuses sooner.
            Kind::Mosquitto => assert!((1..10).contains(&acked), "Mosquitto held {acked} messages"),
            // Ten held (100,000 bytes, and the version's 30) fit under 100,500; an eleventh not.
            Kind::Ours => assert_eq!(acked, 10, "ours"),
        }
    }
}

/// A retained message's payload counts until it is cleared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_payloads_count_toward_memory_limit_until_cleared() {
    let dir = TempDir::new("limits-memory-retained");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nsys_interval 0\nmemory_limit 25000\n";
    let ours = BrokerProcess::start(Kind::Ours, &dir, conf);
    let mut c = RawClient::connect(ours.addr(), "mem-retain").await;
    for (n, topic) in [(1, "lab/r/1"), (2, "lab/r/2")] {
        c.send(publish(topic, &[b'r'; BIG], QosPid::AtLeastOnce(pid(n)), true)).await;
        assert_eq!(c.recv().await, Packet::PubAck(pid(n).into()));
    }
    // 20,000 retained: a third 10,000 goes over 25,000.
    let mut over = RawClient::connect(ours.addr(), "mem-over").await;
    over.send(publish("lab/r/3", &[b'r'; BIG], QosPid::AtLeastOnce(pid(1)), true)).await;
    over.expect_closed().await;
    // Cleared: room again.
    c.send(publish("lab/r/1", b"", QosPid::AtLeastOnce(pid(3)), true)).await;
    assert_eq!(c.recv().await, Packet::PubAck(pid(3).into()));
    c.send(publish("lab/r/3", &[b'r'; BIG], QosPid::AtLeastOnce(pid(4)), true)).await;
    assert_eq!(c.recv().await, Packet::PubAck(pid(4).into()));
}

/// An MQTT 5.0 client is told why: DISCONNECT 0x97 Quota exceeded (Mosquitto closes without a
/// word).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mqtt5_client_over_memory_limit_is_told_quota_exceeded() {
    use mqtt_lab_broker::codec::v5::ReasonCode;
    use support::v5client::{Client, publish_of};
    let dir = TempDir::new("limits-memory-v5");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nsys_interval 0\nmemory_limit 5000\n";
    let ours = BrokerProcess::start(Kind::Ours, &dir, conf);
    let mut c = Client::v5(ours.addr(), "mem-v5").await;
    c.send(&publish_of("lab/r/v5", &[b'r'; BIG], QosPid::AtLeastOnce(pid(1)), true, Vec::new())).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::QuotaExceeded);
}
