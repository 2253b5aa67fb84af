//! The two-node RabbitMQ cluster of the bridge tests (support/rabbit.rs), proved on its own:
//! a QoS 1 message crosses the cluster, the survivor serves when a node dies, and the RabbitMQ
//! 3.10 behaviours the bridge is written for still hold. Needs Debian's rabbitmq-server and
//! mosquitto-clients (installed by .ci/run); each test boots a fresh cluster (about 15 s).

mod support;

use std::process::Command;

use mqtt_lab_broker::codec::v5::{Properties, ReasonCode};
use mqtt_lab_broker::codec::{Packet, QoS, QosPid, SubAckCode, SubOptions, Subscribe, TopicFilter};
use support::rabbit::RabbitCluster;
use support::{RawClient, TempDir, connect_packet, pid};

const TOPIC: &str = "pi/pv/data";

/// Debian's mosquitto_pub, a QoS 1 publish of `payload` to `node`; returns once PUBACKed.
async fn mosquitto_pub(cluster: &RabbitCluster, node: usize, payload: &str) {
    let port = cluster.mqtt_addr(node).port().to_string();
    let mut cmd = Command::new("mosquitto_pub");
    cmd.args(["-h", "127.0.0.1", "-p", &port, "-V", "mqttv311", "-q", "1", "-t", TOPIC, "-m", payload]);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run mosquitto_pub ({e}); install Debian's mosquitto-clients"));
    assert!(out.status.success(), "mosquitto_pub to node {node} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Expects a QoS 1 PUBLISH of `payload` on TOPIC, and acknowledges it.
async fn expect_message(client: &mut RawClient, payload: &str) {
    let p = client.recv_publish().await;
    assert_eq!((p.topic.as_str(), &p.payload[..]), (TOPIC, payload.as_bytes()));
    let QosPid::AtLeastOnce(id) = p.qos_pid else { panic!("expected QoS 1, got {:?}", p.qos_pid) };
    client.send(Packet::PubAck(id.into())).await;
}

async fn subscribe_qos1(client: &mut RawClient) {
    assert_eq!(client.subscribe(&[(TOPIC, QoS::AtLeastOnce)]).await, [SubAckCode::Granted(QoS::AtLeastOnce)]);
}

#[tokio::test]
async fn a_qos1_message_crosses_the_cluster_and_the_survivor_serves_when_a_node_dies() {
    let dir = TempDir::new("rabbit-cluster");
    let mut cluster = RabbitCluster::start(&dir);
    let mut on_b = RawClient::connect(cluster.mqtt_addr(1), "sub-on-b").await;
    subscribe_qos1(&mut on_b).await;

    mosquitto_pub(&cluster, 0, "published on A").await;
    expect_message(&mut on_b, "published on A").await;

    cluster.stop_node(0);
    assert!(std::net::TcpStream::connect(cluster.mqtt_addr(0)).is_err(), "the stopped node still listens");
    let mut fresh = RawClient::connect(cluster.mqtt_addr(1), "fresh-on-b").await;
    subscribe_qos1(&mut fresh).await;
    mosquitto_pub(&cluster, 1, "published on B after A died").await;
    expect_message(&mut fresh, "published on B after A died").await;
    // The subscriber that was on B before the failure still gets what B routes.
    expect_message(&mut on_b, "published on B after A died").await;
}

/// A CONNECT in exact bytes: 3.1.1's layout, with any protocol level (0x84: the bridge bit).
fn raw_connect(level: u8, client_id: &str, v5_properties: bool) -> Vec<u8> {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', level, 0x02, 0, 60];
    if v5_properties {
        body.push(0);
    }
    body.extend_from_slice(&u16::try_from(client_id.len()).unwrap().to_be_bytes());
    body.extend_from_slice(client_id.as_bytes());
    let mut packet = vec![0x10, u8::try_from(body.len()).unwrap()];
    packet.extend(body);
    packet
}

/// What node `node` answers to a raw CONNECT: the packet, or `None` for a closed socket.
async fn answer_to(cluster: &RabbitCluster, node: usize, connect: &[u8]) -> Option<Packet> {
    let mut c = RawClient::open(cluster.mqtt_addr(node)).await;
    c.send_raw(connect).await;
    c.try_recv().await
}

/// How far a client gets with CONNECT then a QoS 1 SUBSCRIBE to TOPIC.
enum Reached {
    /// The socket closed before CONNACK.
    NoConnAck,
    /// CONNACK 0 (with this session present flag), then the socket closed at SUBSCRIBE.
    ClosedAtSubscribe { present: bool },
    /// SUBACK, granted QoS 1, and the client kept.
    Subscribed(RawClient),
}

impl std::fmt::Debug for Reached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoConnAck => f.write_str("no CONNACK"),
            Self::ClosedAtSubscribe { present } => {
                write!(f, "CONNACK (session present {present}), closed at SUBSCRIBE")
            }
            Self::Subscribed(_) => f.write_str("SUBACK 1"),
        }
    }
}

async fn connect_and_subscribe(cluster: &RabbitCluster, node: usize, client_id: &str, clean: bool) -> Reached {
    let mut c = RawClient::open(cluster.mqtt_addr(node)).await;
    c.send(Packet::Connect(Box::new(connect_packet(client_id, clean, 60)))).await;
    let present = match c.try_recv().await {
        None => return Reached::NoConnAck,
        Some(Packet::ConnAck(a)) if a.reason == ReasonCode::Success => a.session_present,
        Some(other) => panic!("{client_id}: expected CONNACK 0, got {other:?}"),
    };
    let filters = vec![(TopicFilter::new(TOPIC).unwrap(), SubOptions::from(QoS::AtLeastOnce))];
    c.send(Packet::Subscribe(Subscribe { pid: pid(1), properties: Properties::default(), filters })).await;
    match c.try_recv().await {
        None => Reached::ClosedAtSubscribe { present },
        Some(Packet::SubAck(s)) if s.codes == [SubAckCode::Granted(QoS::AtLeastOnce)] => Reached::Subscribed(c),
        Some(other) => panic!("{client_id}: expected SUBACK, got {other:?}"),
    }
}

/// Where a client's QoS 1 subscription queue lives, and whether it is durable, as rabbitmqctl says.
fn queue_of(cluster: &RabbitCluster, client_id: &str) -> String {
    let queues = cluster.ctl(1, &["list_queues", "name", "durable", "auto_delete", "pid"]);
    let name = format!("mqtt-subscription-{client_id}qos1");
    queues
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&name))
        .unwrap_or_else(|| panic!("no {name}: {queues}"))
        .into()
}

#[tokio::test]
async fn rabbitmq_refuses_the_bridge_bit_and_mqtt5_and_keeps_a_persistent_session_on_its_dead_node() {
    let dir = TempDir::new("rabbit-facts");
    let mut cluster = RabbitCluster::start(&dir);

    // The control: the same bytes at level 4 are accepted, so the closures below are answers.
    let accepted = answer_to(&cluster, 0, &raw_connect(4, "plain", false)).await;
    assert!(matches!(accepted, Some(Packet::ConnAck(ref a)) if a.reason == ReasonCode::Success), "{accepted:?}");
    for (level, v5) in [(0x84, false), (0x83, false), (5, true), (5, false)] {
        let answer = answer_to(&cluster, 0, &raw_connect(level, "probe", v5)).await;
        assert_eq!(answer, None, "level {level:#x}: RabbitMQ 3.10 was seen closing the socket");
    }

    // QoS 1 subscriptions are durable classic queues on the node the client is connected to:
    // a persistent session's outlives the connection, a clean one's is deleted with it.
    let Reached::Subscribed(persistent) = connect_and_subscribe(&cluster, 0, "pi-persistent", false).await else {
        panic!("a persistent session cannot subscribe on A")
    };
    persistent.disconnect().await;
    let Reached::Subscribed(_clean) = connect_and_subscribe(&cluster, 0, "pi-clean", true).await else {
        panic!("a clean session cannot subscribe on A")
    };
    let a = cluster.node_name(0).to_owned();
    for (id, auto_delete) in [("pi-persistent", "false"), ("pi-clean", "true")] {
        let line = queue_of(&cluster, id);
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[1..3], ["true", auto_delete], "{line}");
        assert!(fields[3].contains(&a), "{id}'s queue is not on A: {line}");
    }

    cluster.stop_node(0);
    // The persistent session's queue is still A's: B cannot serve that client ID, with a clean
    // session or not, until A is back. Right after A dies B still sees the queue and closes the
    // CONNECT; once it has noticed, CONNACK says no session and SUBSCRIBE is closed.
    for clean in [false, true] {
        let reached = connect_and_subscribe(&cluster, 1, "pi-persistent", clean).await;
        assert!(
            matches!(reached, Reached::NoConnAck | Reached::ClosedAtSubscribe { present: false }),
            "clean session {clean}: {reached:?}"
        );
    }
}
