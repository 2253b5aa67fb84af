//! The route for users who outgrow one machine (issue 24): our broker (the Pi) bridged to a
//! two-node RabbitMQ cluster with the MQTT plugin (support/rabbit.rs, Debian's rabbitmq-server
//! started by the test on loopback). Publish on the Pi, receive on either node; stop the node
//! the bridge uses and the bridge fails over to the other `address`: no QoS 1 message our broker
//! acknowledged is lost, and the order is kept. RabbitMQ 3.10 closes the socket on the bridge
//! bit and keeps a persistent session's queue on its node only, hence `try_private false` and
//! `cleansession true` there, and `local_cleansession false` so the Pi keeps what waits for the
//! cluster (what README tells users to write for RabbitMQ).

mod support;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid, SubAckCode};
use support::brokers::{BrokerProcess, Kind};
use support::rabbit::RabbitCluster;
use support::{RawClient, TempDir, pid, publish};

/// Publishes `PV/data` = n for n in `numbers` at QoS 1 on the Pi, each acknowledged by it.
async fn publish_on_the_pi(pi: &mut RawClient, numbers: std::ops::RangeInclusive<u16>) {
    for n in numbers {
        pi.send(publish("PV/data", n.to_string().as_bytes(), QosPid::AtLeastOnce(pid(n + 1)), false)).await;
        assert!(matches!(pi.recv().await, Packet::PubAck(a) if a.pid == pid(n + 1)), "the Pi acknowledged {n}");
    }
}

/// Reads `pi/PV/data` messages until `last`, adding each number not seen before to `firsts`
/// (the order of first arrival); answers how many copies came in all. A message the remote had
/// not acknowledged when its node died comes again, even one read long before: RabbitMQ
/// confirms a persistent message once it is on disk, which may be after its delivery.
async fn first_arrivals(client: &mut RawClient, last: u16, firsts: &mut Vec<u16>) -> usize {
    let mut copies = 0;
    loop {
        let p = client.recv_publish().await;
        assert_eq!(p.topic.as_str(), "pi/PV/data");
        if let QosPid::AtLeastOnce(id) = p.qos_pid {
            client.send(Packet::PubAck(id.into())).await;
        }
        copies += 1;
        let n: u16 = String::from_utf8_lossy(&p.payload).parse().expect("a number");
        if !firsts.contains(&n) {
            firsts.push(n);
        }
        if n == last {
            return copies;
        }
    }
}

async fn subscriber(cluster: &RabbitCluster, node: usize, id: &str) -> RawClient {
    let mut client = RawClient::connect(cluster.mqtt_addr(node), id).await;
    assert_eq!(client.subscribe(&[("pi/PV/#", QoS::AtLeastOnce)]).await, [SubAckCode::Granted(QoS::AtLeastOnce)]);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pi_bridged_to_a_rabbitmq_cluster_fails_over_without_losing_a_message() {
    let dir = TempDir::new("bridge-rabbit");
    let mut cluster = RabbitCluster::start(&dir);
    let (a, b) = (cluster.mqtt_addr(0), cluster.mqtt_addr(1));
    let mut on_a = subscriber(&cluster, 0, "dashboard-a").await;
    let mut on_b = subscriber(&cluster, 1, "dashboard-b").await;

    let conf = format!(
        "listener PORT 127.0.0.1\nallow_anonymous true\nconnection cluster\naddress {a} {b}\n\
         try_private false\ncleansession true\nlocal_cleansession false\nremote_clientid pi1\nrestart_timeout 1\n\
         topic PV/# out 1 \"\" pi/\ntopic lamp/cmd in 0 \"\" pi/\n"
    );
    let pi_broker = BrokerProcess::start(Kind::Ours, &TempDir::new("bridge-rabbit-pi"), &conf);
    pi_broker.wait_for_log(&format!("Bridge cluster connected to {a}"), 0);
    let mut pi = RawClient::connect(pi_broker.addr(), "pv-plant").await;

    // Published on the Pi, received on either node.
    publish_on_the_pi(&mut pi, 0..=9).await;
    let every = |to: u16| (0..=to).collect::<Vec<u16>>();
    let (mut firsts_a, mut firsts_b) = (Vec::new(), Vec::new());
    first_arrivals(&mut on_a, 9, &mut firsts_a).await;
    assert_eq!(firsts_a, every(9), "on node A");
    first_arrivals(&mut on_b, 9, &mut firsts_b).await;
    assert_eq!(firsts_b, every(9), "on node B");

    // The node the bridge uses dies while the plant goes on publishing.
    publish_on_the_pi(&mut pi, 10..=20).await;
    let from = pi_broker.log_len();
    cluster.stop_node(0);
    publish_on_the_pi(&mut pi, 21..=40).await;
    pi_broker.wait_for_log(&format!("Bridge cluster connected to {b}"), from);
    publish_on_the_pi(&mut pi, 41..=50).await;

    // Commands come in from the surviving node (at QoS 0: RabbitMQ may refuse a QoS 1
    // subscription of the same client id on it while the dead node held its queue).
    let mut lamp = RawClient::connect(pi_broker.addr(), "esp32").await;
    lamp.subscribe(&[("lamp/cmd", QoS::AtMostOnce)]).await;
    let mut teacher = RawClient::connect(b, "teacher").await;
    let command = br#"{"control":"PWM","value":50,"unit":"%"}"#;
    teacher.send(publish("pi/lamp/cmd", command, QosPid::AtLeastOnce(pid(1)), false)).await;
    let got = lamp.recv_publish().await;
    assert_eq!((got.topic.as_str(), &got.payload[..]), ("lamp/cmd", &command[..]), "a command from node B");

    let copies = first_arrivals(&mut on_b, 50, &mut firsts_b).await;
    eprintln!("node B received {copies} copies after the first 10 (41 messages from 10 to 50)");
    for line in pi_broker.logs().lines().filter(|l| l.contains("in flight")) {
        eprintln!("the Pi: {line}");
    }
    assert_eq!(firsts_b, every(50), "every message on B, in order of first arrival:\n{}", pi_broker.logs());
}
