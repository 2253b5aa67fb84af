//! `persistence true`: what survives a restart and a kill -9, and that nothing acknowledged
//! to a publisher is lost for a persistent subscriber.

mod support;

use std::collections::{HashMap, HashSet};

use mqtt_lab_broker::codec::{Ack, Packet, PacketId, QoS, QosPid};
use support::persistent::{persistent_broker, start_binary};
use support::{RawClient, TempDir, connect_packet, pid, publish};

#[tokio::test]
async fn retained_messages_sessions_and_queued_messages_survive_a_restart() {
    let dir = TempDir::new("persist-restart");
    let broker = persistent_broker(&dir).await;
    let (mut logger, _) = RawClient::connect_with(broker.addr, connect_packet("pv-logger", false, 60)).await;
    logger.subscribe(&[("PV/#", QoS::ExactlyOnce)]).await;
    logger.disconnect().await;
    let mut plant = RawClient::connect(broker.addr, "plant").await;
    plant.send(publish("PV/sunshine", b"yes", QosPid::AtLeastOnce(pid(1)), true)).await;
    assert_eq!(plant.recv().await, Packet::PubAck(pid(1).into()));
    for (i, kw) in [b"1.5", b"2.5"].iter().enumerate() {
        let id = pid(i as u16 + 2);
        plant.send(publish("PV/data", *kw, QosPid::ExactlyOnce(id), false)).await;
        assert_eq!(plant.recv().await, Packet::PubRec(id.into()));
        plant.send(Packet::PubRel(id.into())).await;
        assert_eq!(plant.recv().await, Packet::PubComp(id.into()));
    }
    broker.stop().await;

    let broker = persistent_broker(&dir).await;
    assert!(broker.log_contains("Restored 1 retained messages and 1 persistent sessions"), "{}", broker.logs());
    let (mut logger, present) = RawClient::connect_with(broker.addr, connect_packet("pv-logger", false, 60)).await;
    assert!(present, "the session survived");
    let mut got = Vec::new();
    let mut open_flows = 0;
    while got.len() < 3 || open_flows > 0 {
        match logger.recv().await {
            Packet::Publish(p) => {
                got.push(String::from_utf8(p.payload.to_vec()).unwrap());
                match p.qos_pid {
                    QosPid::ExactlyOnce(id) => {
                        open_flows += 1;
                        logger.send(Packet::PubRec(id.into())).await;
                    }
                    QosPid::AtLeastOnce(id) => logger.send(Packet::PubAck(id.into())).await,
                    QosPid::AtMostOnce => {}
                }
            }
            Packet::PubRel(Ack { pid: id, .. }) => {
                open_flows -= 1;
                logger.send(Packet::PubComp(id.into())).await;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, ["yes", "1.5", "2.5"], "the messages queued while offline, in order");
    let mut fresh = RawClient::connect(broker.addr, "fresh").await;
    fresh.subscribe(&[("PV/sunshine", QoS::AtMostOnce)]).await;
    assert_eq!(&fresh.recv_publish().await.payload[..], b"yes", "the retained message survived");
    broker.stop().await;
}

#[tokio::test]
async fn a_qos2_message_received_before_a_restart_is_not_routed_again_when_resent() {
    let dir = TempDir::new("persist-qos2-in");
    let broker = persistent_broker(&dir).await;
    let (mut plant, _) = RawClient::connect_with(broker.addr, connect_packet("plant", false, 60)).await;
    plant.send(publish("PV/data", b"7.0", QosPid::ExactlyOnce(pid(7)), false)).await;
    assert_eq!(plant.recv().await, Packet::PubRec(pid(7).into()));
    broker.stop().await; // the PUBREL never made it

    let broker = persistent_broker(&dir).await;
    let mut watcher = RawClient::connect(broker.addr, "watcher").await;
    watcher.subscribe(&[("PV/#", QoS::AtMostOnce)]).await;
    let (mut plant, present) = RawClient::connect_with(broker.addr, connect_packet("plant", false, 60)).await;
    assert!(present);
    let mut again = publish("PV/data", b"7.0", QosPid::ExactlyOnce(pid(7)), false);
    if let Packet::Publish(p) = &mut again {
        p.dup = true;
    }
    plant.send(again).await;
    assert_eq!(plant.recv().await, Packet::PubRec(pid(7).into()));
    plant.send(Packet::PubRel(pid(7).into())).await;
    assert_eq!(plant.recv().await, Packet::PubComp(pid(7).into()));
    assert!(watcher.sync().await.is_empty(), "received once already: not routed a second time");
    broker.stop().await;
}

/// A subscriber that handles QoS 2 as a client must: delivers a message the first time its
/// packet id arrives, and remembers the id until PUBREL, across reconnects.
#[derive(Default)]
struct Subscriber {
    delivered: Vec<(u32, QoS)>,
    pending_qos2: HashSet<PacketId>,
}

impl Subscriber {
    /// Handles one packet; returns false at PINGRESP.
    async fn handle(&mut self, client: &mut RawClient, packet: Packet) -> bool {
        match packet {
            Packet::Publish(p) => {
                let seq: u32 = std::str::from_utf8(&p.payload).unwrap().parse().unwrap();
                match p.qos_pid {
                    QosPid::AtLeastOnce(id) => {
                        self.delivered.push((seq, QoS::AtLeastOnce));
                        client.try_send(Packet::PubAck(id.into())).await;
                    }
                    QosPid::ExactlyOnce(id) => {
                        if self.pending_qos2.insert(id) {
                            self.delivered.push((seq, QoS::ExactlyOnce));
                        }
                        client.try_send(Packet::PubRec(id.into())).await;
                    }
                    QosPid::AtMostOnce => self.delivered.push((seq, QoS::AtMostOnce)),
                }
            }
            Packet::PubRel(Ack { pid: id, .. }) => {
                self.pending_qos2.remove(&id);
                client.try_send(Packet::PubComp(id.into())).await;
            }
            Packet::PingResp => return false,
            _ => {}
        }
        true
    }

    /// Handles packets until `count` messages are delivered, then returns without reading
    /// further: a consumer that stalls, leaving messages in flight and queued at the broker.
    async fn run_until(mut self, mut client: RawClient, count: usize) -> (Self, RawClient) {
        while self.delivered.len() < count {
            let Some(p) = client.try_recv().await else { break };
            self.handle(&mut client, p).await;
        }
        (self, client)
    }
}

/// Publishes 0, 1, 2, ... alternating QoS 1 and 2, 20 at a time, until the connection breaks;
/// returns the numbers the broker acknowledged (PUBACK, or PUBREC for QoS 2).
async fn publish_stream(
    mut client: RawClient,
    acked_count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> HashSet<u32> {
    let mut acked = HashSet::new();
    let mut seq_of = HashMap::new();
    let mut next = 0u32;
    loop {
        for _ in 0..20 {
            let id = pid((next % 60_000) as u16 + 1);
            let qos_pid = if next.is_multiple_of(2) { QosPid::AtLeastOnce(id) } else { QosPid::ExactlyOnce(id) };
            seq_of.insert(id, next);
            if !client.try_send(publish("PV/data", next.to_string().as_bytes(), qos_pid, false)).await {
                return acked;
            }
            next += 1;
        }
        let mut acks = 0;
        while acks < 20 {
            match client.try_recv().await {
                Some(Packet::PubAck(Ack { pid: id, .. })) => {
                    acked.insert(seq_of[&id]);
                    acks += 1;
                }
                Some(Packet::PubRec(Ack { pid: id, .. })) => {
                    acked.insert(seq_of[&id]);
                    acks += 1;
                    client.try_send(Packet::PubRel(id.into())).await;
                }
                Some(_) => {}
                None => return acked,
            }
            acked_count.store(acked.len(), std::sync::atomic::Ordering::Relaxed);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_qos1_and_qos2_stream_loses_no_acknowledged_message_and_duplicates_no_qos2() {
    let dir = TempDir::new("persist-kill");
    let (broker, addr) = start_binary(&dir);
    let (mut sub, _) = RawClient::connect_with(addr, connect_packet("pv-logger", false, 0)).await;
    sub.subscribe(&[("PV/data", QoS::ExactlyOnce)]).await;
    let subscriber = tokio::spawn(Subscriber::default().run_until(sub, 300));
    let plant = RawClient::connect(addr, "plant").await;
    let acked_count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stream = tokio::spawn(publish_stream(plant, acked_count.clone()));
    // Kill while the stream runs, once a good part of it is acknowledged (900 acknowledged and
    // 300 consumed leave about 600 queued: under the default max_queued_messages of 1000).
    while acked_count.load(std::sync::atomic::Ordering::Relaxed) < 900 {
        assert!(!stream.is_finished(), "the stream ended early");
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    broker.kill_9();
    let acked = stream.await.unwrap();
    let (mut subscriber, stalled) = subscriber.await.unwrap();
    drop(stalled);
    let before = subscriber.delivered.len();

    let (broker, addr) = start_binary(&dir);
    let (mut sub, present) = RawClient::connect_with(addr, connect_packet("pv-logger", false, 0)).await;
    assert!(present, "the persistent session survived kill -9");
    // Drain until a PINGREQ round trip sees no new message: the broker has nothing left.
    loop {
        let seen = subscriber.delivered.len();
        sub.send(Packet::PingReq).await;
        while let Some(p) = sub.try_recv().await {
            if !subscriber.handle(&mut sub, p).await {
                break;
            }
        }
        if subscriber.delivered.len() == seen && subscriber.pending_qos2.is_empty() {
            break;
        }
    }
    broker.kill_9();

    let delivered: HashSet<u32> = subscriber.delivered.iter().map(|(s, _)| *s).collect();
    let lost: Vec<u32> = acked.iter().filter(|s| !delivered.contains(s)).copied().collect();
    let mut qos2_count: HashMap<u32, usize> = HashMap::new();
    for (seq, qos) in &subscriber.delivered {
        if *qos == QoS::ExactlyOnce {
            *qos2_count.entry(*seq).or_default() += 1;
        }
    }
    let qos2_duplicates = qos2_count.values().filter(|n| **n > 1).count();
    let qos1_duplicates =
        subscriber.delivered.len() - delivered.len() - qos2_count.values().map(|n| n - 1).sum::<usize>();
    println!(
        "kill -9 run: {} acknowledged before the kill; {} delivered before, {} after the restart; lost {}, QoS 2 duplicates {}, QoS 1 duplicates {}",
        acked.len(),
        before,
        subscriber.delivered.len() - before,
        lost.len(),
        qos2_duplicates,
        qos1_duplicates
    );
    assert!(lost.is_empty(), "acknowledged but never delivered: {lost:?}");
    assert_eq!(qos2_duplicates, 0, "a QoS 2 message was delivered twice");
}
