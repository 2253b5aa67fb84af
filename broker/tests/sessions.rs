//! Clean and persistent sessions, offline queues, redelivery, takeover and last wills.

mod support;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid};
use support::{RawClient, TestBroker, connect_packet, pid, publish, will};

#[tokio::test]
async fn a_persistent_session_keeps_subscriptions_and_queues_qos1_while_offline() {
    let broker = TestBroker::start().await;
    let (mut s, present) = RawClient::connect_with(broker.addr, connect_packet("pv-logger", false, 60)).await;
    assert!(!present);
    s.subscribe(&[("PV/data", QoS::AtLeastOnce)]).await;
    s.disconnect().await;

    let mut p = RawClient::connect(broker.addr, "plant").await;
    for (i, kw) in [b"1.0", b"2.0"].iter().enumerate() {
        p.send(publish("PV/data", *kw, QosPid::AtLeastOnce(pid(i as u16 + 1)), false)).await;
        p.recv().await;
    }
    p.send(publish("PV/data", b"qos0 is not queued", QosPid::AtMostOnce, false)).await;
    p.sync().await;

    let (mut s, present) = RawClient::connect_with(broker.addr, connect_packet("pv-logger", false, 60)).await;
    assert!(present, "session present");
    let a = s.recv_publish().await;
    let b = s.recv_publish().await;
    assert_eq!((&a.payload[..], &b.payload[..]), (&b"1.0"[..], &b"2.0"[..]));
    s.send(Packet::PubAck(a.qos_pid.pid().unwrap().into())).await;
    s.send(Packet::PubAck(b.qos_pid.pid().unwrap().into())).await;
    assert!(s.sync().await.is_empty());
    broker.stop().await;
}

#[tokio::test]
async fn the_offline_queue_is_bounded_by_max_queued_messages() {
    let broker = TestBroker::with(|c| c.max_queued_messages = 3).await;
    let (mut s, _) = RawClient::connect_with(broker.addr, connect_packet("s", false, 60)).await;
    s.subscribe(&[("t", QoS::AtLeastOnce)]).await;
    s.disconnect().await;
    let mut p = RawClient::connect(broker.addr, "p").await;
    for i in 1..=10u16 {
        p.send(publish("t", &i.to_be_bytes(), QosPid::AtLeastOnce(pid(i)), false)).await;
        p.recv().await;
    }
    let (mut s, _) = RawClient::connect_with(broker.addr, connect_packet("s", false, 60)).await;
    let got = s.sync().await;
    assert_eq!(got.len(), 3, "{got:?}");
    broker.stop().await;
}

#[tokio::test]
async fn unacknowledged_messages_are_redelivered_with_dup_on_reconnect() {
    let broker = TestBroker::start().await;
    let (mut s, _) = RawClient::connect_with(broker.addr, connect_packet("s", false, 60)).await;
    s.subscribe(&[("t", QoS::ExactlyOnce)]).await;
    let mut p = RawClient::connect(broker.addr, "p").await;
    p.send(publish("t", b"q1", QosPid::AtLeastOnce(pid(1)), false)).await;
    p.recv().await;
    p.send(publish("t", b"q2", QosPid::ExactlyOnce(pid(2)), false)).await;
    p.recv().await;
    let first = s.recv_publish().await;
    let second = s.recv_publish().await;
    assert!(!first.dup && !second.dup);
    let second_id = second.qos_pid.pid().unwrap();
    s.send(Packet::PubRec(second_id.into())).await;
    assert_eq!(s.recv().await, Packet::PubRel(second_id.into()));
    drop(s); // connection lost: no PUBACK for q1, no PUBCOMP for q2

    let (mut s, present) = RawClient::connect_with(broker.addr, connect_packet("s", false, 60)).await;
    assert!(present);
    let again = s.recv_publish().await;
    assert!(again.dup, "DUP=1 on redelivery");
    assert_eq!((&again.payload[..], again.qos_pid), (&b"q1"[..], first.qos_pid));
    assert_eq!(s.recv().await, Packet::PubRel(second_id.into()), "PUBREL, not the QoS 2 message again");
    s.send(Packet::PubAck(again.qos_pid.pid().unwrap().into())).await;
    s.send(Packet::PubComp(second_id.into())).await;
    assert!(s.sync().await.is_empty());
    broker.stop().await;
}

#[tokio::test]
async fn a_clean_session_forgets_everything() {
    let broker = TestBroker::start().await;
    let (mut s, _) = RawClient::connect_with(broker.addr, connect_packet("s", false, 60)).await;
    s.subscribe(&[("t", QoS::AtLeastOnce)]).await;
    s.disconnect().await;
    let (s, present) = RawClient::connect_with(broker.addr, connect_packet("s", true, 60)).await;
    assert!(!present, "clean session discards the stored one");
    s.disconnect().await;
    let (mut s, present) = RawClient::connect_with(broker.addr, connect_packet("s", false, 60)).await;
    assert!(!present);
    let mut p = RawClient::connect(broker.addr, "p").await;
    p.send(publish("t", b"x", QosPid::AtLeastOnce(pid(1)), false)).await;
    p.recv().await;
    assert!(s.sync().await.is_empty(), "the old subscription is gone");
    broker.stop().await;
}

#[tokio::test]
async fn a_second_connection_with_the_same_client_id_takes_over() {
    let broker = TestBroker::start().await;
    let mut connect = connect_packet("esp32-lamp", false, 60);
    connect.will = Some(will("lamp/status", b"offline", QoS::AtMostOnce, false));
    let (mut old, _) = RawClient::connect_with(broker.addr, connect.clone()).await;
    old.subscribe(&[("lamp/cmd", QoS::AtLeastOnce)]).await;
    let mut watcher = RawClient::connect(broker.addr, "watcher").await;
    watcher.subscribe(&[("lamp/status", QoS::AtMostOnce)]).await;

    connect.will = None;
    let (mut new, present) = RawClient::connect_with(broker.addr, connect).await;
    assert!(present, "the session moves to the new connection");
    old.expect_closed().await;
    assert_eq!(&watcher.recv_publish().await.payload[..], b"offline", "the old connection ended without DISCONNECT");

    let mut p = RawClient::connect(broker.addr, "p").await;
    p.send(publish("lamp/cmd", br#"{"control":"PWM","value":50,"unit":"%"}"#, QosPid::AtLeastOnce(pid(1)), false))
        .await;
    p.recv().await;
    let cmd = new.recv_publish().await;
    assert_eq!(cmd.topic.as_str(), "lamp/cmd");
    assert!(broker.log_contains("Client esp32-lamp already connected, closing old connection."));
    broker.stop().await;
}

#[tokio::test]
async fn the_will_is_published_on_abnormal_disconnect_with_its_qos_and_retain() {
    let broker = TestBroker::start().await;
    let mut watcher = RawClient::connect(broker.addr, "watcher").await;
    watcher.subscribe(&[("PV/status", QoS::ExactlyOnce)]).await;
    let mut connect = connect_packet("plant", true, 60);
    connect.will = Some(will("PV/status", b"offline", QoS::AtLeastOnce, true));
    let (plant, _) = RawClient::connect_with(broker.addr, connect).await;
    drop(plant);
    let w = watcher.recv_publish().await;
    assert_eq!((&w.payload[..], w.qos(), w.retain), (&b"offline"[..], QoS::AtLeastOnce, false));
    watcher.send(Packet::PubAck(w.qos_pid.pid().unwrap().into())).await;
    let mut late = RawClient::connect(broker.addr, "late").await;
    late.subscribe(&[("PV/status", QoS::AtMostOnce)]).await;
    let retained = late.recv_publish().await;
    assert!(retained.retain, "a will with retain is stored as retained");
    broker.stop().await;
}

#[tokio::test]
async fn no_will_after_disconnect() {
    let broker = TestBroker::start().await;
    let mut watcher = RawClient::connect(broker.addr, "watcher").await;
    watcher.subscribe(&[("PV/status", QoS::AtMostOnce)]).await;
    let mut connect = connect_packet("plant", true, 60);
    connect.will = Some(will("PV/status", b"offline", QoS::AtMostOnce, false));
    let (plant, _) = RawClient::connect_with(broker.addr, connect).await;
    plant.disconnect().await;
    assert!(watcher.sync().await.is_empty(), "[MQTT-3.1.2-10] DISCONNECT discards the will");
    broker.stop().await;
}

#[tokio::test]
async fn a_protocol_error_publishes_the_will() {
    let broker = TestBroker::start().await;
    let mut watcher = RawClient::connect(broker.addr, "watcher").await;
    watcher.subscribe(&[("w", QoS::AtMostOnce)]).await;
    let mut connect = connect_packet("buggy", true, 60);
    connect.will = Some(will("w", b"gone", QoS::AtMostOnce, false));
    let (mut buggy, _) = RawClient::connect_with(broker.addr, connect).await;
    buggy.send_raw(&[0x30, 5, 0, 3, b'a', b'/', b'#']).await;
    buggy.expect_closed().await;
    assert_eq!(&watcher.recv_publish().await.payload[..], b"gone");
    broker.stop().await;
}
