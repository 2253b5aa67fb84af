//! A subscriber that stops reading its socket while a publisher goes on: the broker holds no
//! more for it than its in-flight window and queue (Mosquitto's settings), and the other
//! subscriber gets every message, in order. Real sockets and real time: the stuck client is let
//! go after one second without progress (back-pressure first, then drops for it alone).

mod support;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid};
use support::{PATIENCE, RawClient, TestBroker, pid, publish};

const MESSAGES: u16 = 3_000;
const INFLIGHT: usize = 20;
const QUEUED: usize = 100;

#[tokio::test]
async fn a_subscriber_that_stops_reading_costs_at_most_its_limits_and_the_others_get_everything() {
    let broker = TestBroker::with(|c| {
        c.max_inflight_messages = INFLIGHT;
        c.max_queued_messages = QUEUED;
    })
    .await;
    let mut stuck = RawClient::connect(broker.addr, "stuck").await;
    stuck.subscribe(&[("PV/data", QoS::AtLeastOnce)]).await;
    // From here on `stuck` never reads: its socket buffers fill, then the broker's limits.
    let mut healthy = RawClient::connect(broker.addr, "healthy").await;
    healthy.subscribe(&[("PV/data", QoS::AtLeastOnce)]).await;
    let mut publisher = RawClient::connect(broker.addr, "publisher").await;

    let reader = tokio::spawn(async move {
        for n in 1..=MESSAGES {
            let p = healthy.recv_publish().await;
            assert_eq!(u16::from_be_bytes([p.payload[0], p.payload[1]]), n, "in order, none missing");
            let QosPid::AtLeastOnce(id) = p.qos_pid else { panic!("QoS 1 expected") };
            healthy.send(Packet::PubAck(id.into())).await;
        }
        healthy
    });
    // A window of 10 unacknowledged PUBLISHes, like a client library.
    let payload = |n: u16| [&n.to_be_bytes()[..], &[0x55; 1022]].concat();
    let mut acked = 0;
    for n in 1..=MESSAGES {
        publisher.send(publish("PV/data", &payload(n), QosPid::AtLeastOnce(pid(n)), false)).await;
        if n > 10 {
            assert_eq!(publisher.recv().await, Packet::PubAck(pid(n - 10).into()));
            acked += 1;
        }
    }
    while acked < MESSAGES {
        acked += 1;
        assert_eq!(publisher.recv().await, Packet::PubAck(pid(acked).into()));
    }
    let mut healthy = tokio::time::timeout(PATIENCE, reader).await.expect("the healthy subscriber got all").unwrap();
    assert!(healthy.sync().await.is_empty());

    // Held for sessions: the stored messages less the retained ones ($SYS topics among them).
    let figures = broker.figures();
    let held = figures.stored_messages - figures.retained;
    // The queue limit plus the one message that found it full while publishers were held back.
    assert!(
        held <= INFLIGHT + QUEUED + 1,
        "the broker holds {held} messages for the stuck client, more than its {INFLIGHT} + {QUEUED}"
    );
    assert!(held >= INFLIGHT + QUEUED, "the stuck client's window and queue are kept, not dropped: {held}");
    assert!(broker.log_contains("Client stuck has not read for 1 s"), "{}", broker.logs());
    drop(stuck);
    broker.stop().await;
}

/// Fills a stuck subscriber's socket until the broker's write to it is pending.
async fn fill_until_blocked(broker: &TestBroker, publisher: &mut RawClient) {
    let payload = vec![0x55; 64 * 1024];
    for n in 1..=400u16 {
        publisher.send(publish("PV/data", &payload, QosPid::AtLeastOnce(pid(n)), false)).await;
        assert_eq!(publisher.recv().await, Packet::PubAck(pid(n).into()));
    }
    // 400 x 64 KB is far more than loopback socket buffers hold: the broker has bytes it
    // cannot write.
    assert!(broker.figures().stored_messages > 0);
}

#[tokio::test]
async fn a_stuck_subscriber_is_still_closed_by_its_keepalive() {
    let broker = TestBroker::with(|c| c.max_queued_messages = 1000).await;
    let (mut stuck, _) = RawClient::connect_with(broker.addr, support::connect_packet("stuck", true, 1)).await;
    stuck.subscribe(&[("PV/data", QoS::AtMostOnce)]).await;
    let mut publisher = RawClient::connect(broker.addr, "publisher").await;
    fill_until_blocked(&broker, &mut publisher).await;
    // It sends nothing and reads nothing: 1.5 keepalives later the broker must close it,
    // even with a write to it pending.
    broker.wait_for_log("Client stuck has exceeded timeout, disconnecting.").await;
    drop(stuck);
    broker.stop().await;
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_stuck_subscriber() {
    let broker = TestBroker::start().await;
    let mut stuck = RawClient::connect(broker.addr, "stuck").await;
    stuck.subscribe(&[("PV/data", QoS::AtMostOnce)]).await;
    let mut publisher = RawClient::connect(broker.addr, "publisher").await;
    fill_until_blocked(&broker, &mut publisher).await;
    tokio::time::timeout(PATIENCE, broker.stop()).await.expect("the broker stopped with a stuck client connected");
    drop(stuck);
}

#[tokio::test]
async fn a_stuck_connection_is_closed_at_once_when_its_client_id_connects_again() {
    let broker = TestBroker::start().await;
    let mut stuck = RawClient::connect(broker.addr, "lamp").await;
    stuck.subscribe(&[("PV/data", QoS::AtMostOnce)]).await;
    let mut publisher = RawClient::connect(broker.addr, "publisher").await;
    fill_until_blocked(&broker, &mut publisher).await;
    // The ESP32 rebooted and connects again with the same id [MQTT-3.1.4-2].
    let _again = RawClient::connect(broker.addr, "lamp").await;
    broker.wait_for_log("Client lamp was taken over by a new connection with the same client id.").await;
    drop(stuck);
    broker.stop().await;
}
