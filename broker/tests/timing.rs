//! Keepalive and `$SYS`, on paused tokio time: the runtime jumps to the next timer whenever
//! every task waits, so these tests take milliseconds and cannot flake on a loaded machine.
//! Clients connect over in-memory pipes (`TestBroker::pipe`): with loopback sockets the paused
//! clock may jump while bytes are in flight. The socket path of keepalive is tested in real
//! time at the end, with only a lower bound.

mod support;

use std::time::Duration;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid};
use support::{RawClient, TestBroker, connect_packet, publish, will};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_silent_client_is_closed_at_one_and_a_half_keepalives_and_its_will_sent() {
    let broker = TestBroker::start().await;
    let mut watcher = broker.pipe_connect(connect_packet("watcher", true, 0)).await;
    watcher.subscribe(&[("dev/status", QoS::AtMostOnce)]).await;
    let mut connect = connect_packet("quiet", true, 2);
    connect.will = Some(will("dev/status", b"lost", QoS::AtMostOnce, false));
    let mut quiet = broker.pipe_connect(connect).await;
    let start = Instant::now();
    quiet.expect_closed().await;
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(3) && waited <= Duration::from_millis(3500), "closed after {waited:?}");
    assert_eq!(&watcher.recv_publish().await.payload[..], b"lost");
    assert!(broker.log_contains("Client quiet has exceeded timeout, disconnecting."));
    broker.stop().await;
}

#[tokio::test(start_paused = true)]
async fn pings_keep_a_connection_alive() {
    let broker = TestBroker::start().await;
    let mut c = broker.pipe_connect(connect_packet("pinger", true, 2)).await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(2900)).await;
        c.send(Packet::PingReq).await;
        assert_eq!(c.recv().await, Packet::PingResp);
    }
    broker.stop().await;
}

#[tokio::test(start_paused = true)]
async fn keepalive_zero_never_expires() {
    let broker = TestBroker::start().await;
    let mut c = broker.pipe_connect(connect_packet("forever", true, 0)).await;
    tokio::time::sleep(Duration::from_hours(24)).await;
    c.send(publish("t", b"still here", QosPid::AtMostOnce, false)).await;
    c.send(Packet::PingReq).await;
    assert_eq!(c.recv().await, Packet::PingResp);
    broker.stop().await;
}

#[tokio::test(start_paused = true)]
async fn sys_topics_follow_mosquitto_names_and_formats() {
    let broker = TestBroker::with(|c| c.sys_interval = 10).await;
    let mut s = broker.pipe_connect(connect_packet("sys", true, 0)).await;
    s.subscribe(&[("$SYS/#", QoS::AtMostOnce)]).await;
    tokio::time::sleep(Duration::from_secs(21)).await;
    let mut seen = std::collections::HashMap::new();
    for p in s.sync().await {
        if let Packet::Publish(p) = p {
            seen.insert(p.topic.to_string(), String::from_utf8(p.payload.to_vec()).unwrap());
        }
    }
    assert_eq!(seen["$SYS/broker/version"], format!("mqtt-lab-broker version {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(seen["$SYS/broker/uptime"], "20 seconds");
    assert_eq!(seen["$SYS/broker/clients/connected"], "1");
    assert_eq!(seen["$SYS/broker/subscriptions/count"], "1");
    for topic in [
        "$SYS/broker/clients/total",
        "$SYS/broker/clients/maximum",
        "$SYS/broker/messages/received",
        "$SYS/broker/messages/sent",
        "$SYS/broker/publish/messages/sent",
        "$SYS/broker/bytes/received",
        "$SYS/broker/bytes/sent",
        "$SYS/broker/retained messages/count",
        "$SYS/broker/load/messages/received/1min",
        "$SYS/broker/load/bytes/sent/15min",
        "$SYS/broker/load/connections/5min",
        "$SYS/broker/store/messages/count",
    ] {
        assert!(seen.contains_key(topic), "{topic} missing from {:?}", seen.keys());
    }
    let load = &seen["$SYS/broker/load/bytes/sent/1min"];
    assert!(load.split_once('.').is_some_and(|(_, d)| d.len() == 2), "two decimals like Mosquitto: {load}");

    // `#` does not see $SYS [MQTT-4.7.2-1].
    let mut all = broker.pipe_connect(connect_packet("all", true, 0)).await;
    all.subscribe(&[("#", QoS::AtMostOnce)]).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(all.sync().await.is_empty());
    broker.stop().await;
}

#[tokio::test]
async fn keepalive_also_closes_a_silent_tcp_connection() {
    let broker = TestBroker::start().await;
    let start = std::time::Instant::now();
    let (mut quiet, _) = RawClient::connect_with(broker.addr, connect_packet("quiet-tcp", true, 1)).await;
    quiet.expect_closed().await;
    assert!(start.elapsed() >= Duration::from_millis(1500), "not before 1.5 x keepalive");
    broker.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_subscriber_that_stops_acknowledging_holds_publishers_one_second_then_loses_only_its_own() {
    let broker = TestBroker::with(|c| {
        c.max_inflight_messages = 5;
        c.max_queued_messages = 10;
    })
    .await;
    let mut stuck = broker.pipe_connect(connect_packet("stuck", true, 0)).await;
    stuck.subscribe(&[("t", QoS::AtLeastOnce)]).await;
    let mut reader = broker.pipe_connect(connect_packet("reader", true, 0)).await;
    reader.subscribe(&[("t", QoS::AtLeastOnce)]).await;
    let mut publisher = broker.pipe_connect(connect_packet("pub", true, 0)).await;
    for i in 1..=100u16 {
        publisher.send(publish("t", &i.to_be_bytes(), QosPid::AtLeastOnce(support::pid(i)), false)).await;
    }
    let start = Instant::now();
    // "stuck" takes 5 in flight and 10 queued, then the publisher waits (back-pressure) until
    // "stuck" has made no progress for a second; "reader" still gets every message, in order.
    for i in 1..=100u16 {
        let m = reader.recv_publish().await;
        assert_eq!(&m.payload[..], &i.to_be_bytes());
        reader.send(Packet::PubAck(m.qos_pid.pid().unwrap().into())).await;
    }
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(1) && waited < Duration::from_secs(2), "held for {waited:?}");
    let acks = publisher.sync().await;
    assert_eq!(acks.len(), 100, "every PUBLISH acknowledged: {acks:?}");
    assert!(broker.log_contains("Client stuck has not read for 1 s"), "{}", broker.logs());
    // What "stuck" can still get is bounded by its window and queue (and the one message that
    // found it full): acknowledging as it goes, it receives those and nothing more.
    let mut got = 0;
    let mut pending = stuck.sync().await;
    while !pending.is_empty() {
        for p in pending {
            let Packet::Publish(m) = p else { panic!("{p:?}") };
            got += 1;
            stuck.send(Packet::PubAck(m.qos_pid.pid().unwrap().into())).await;
        }
        pending = stuck.sync().await;
    }
    assert!((15..=16).contains(&got), "stuck received {got}");
    broker.stop().await;
}
