//! `mount_point` against Debian's Mosquitto 2.0.11: both brokers start from the same config
//! (two listeners, one with `mount_point lab1/`), clients on both listeners run the same
//! scenario over real sockets, and the topics that arrive on each side must be the same.

mod support;

use std::num::NonZeroU16;

use mqtt_lab_broker::codec::v5::Property;
use mqtt_lab_broker::codec::{Packet, Protocol, QoS, QosPid};
use support::brokers::{BrokerProcess, Kind, free_port};
use support::v5client::{Client, connect_of, publish_of};
use support::{RawClient, TempDir, connect_packet, pid, publish, will};

/// The mounted listener is `PORT` (the broker's `addr()`); the plain one `plain`.
fn config(plain: u16, extra: &str) -> String {
    format!("listener PORT 127.0.0.1\nmount_point lab1/\nlistener {plain} 127.0.0.1\nallow_anonymous true\n{extra}")
}

/// Starts both brokers on the same config; answers each with its plain listener's address.
fn both(name: &str, extra: &str) -> Vec<(BrokerProcess, std::net::SocketAddr)> {
    let dir = TempDir::new(name);
    [Kind::Mosquitto, Kind::Ours]
        .into_iter()
        .map(|kind| {
            let plain = free_port();
            let broker = BrokerProcess::start(kind, &dir, &config(plain, extra));
            (broker, std::net::SocketAddr::from(([127, 0, 0, 1], plain)))
        })
        .collect()
}

/// The topics of the PUBLISHes that arrived before a PINGRESP.
async fn topics(c: &mut RawClient) -> Vec<String> {
    c.sync()
        .await
        .into_iter()
        .filter_map(|p| if let Packet::Publish(p) = p { Some(p.topic.to_string()) } else { None })
        .collect()
}

/// Publish, wildcard subscribe, retained delivered later and the will, on one broker: what
/// each client saw, in order.
async fn scenario(broker: &BrokerProcess, plain: std::net::SocketAddr) -> Vec<(&'static str, Vec<String>)> {
    let mounted = broker.addr();
    let mut seen = Vec::new();
    let mut outside = RawClient::connect(plain, "outside").await;
    outside.subscribe(&[("#", QoS::AtMostOnce)]).await;
    let mut inside = RawClient::connect(mounted, "inside").await;
    inside.subscribe(&[("t/#", QoS::AtLeastOnce)]).await;

    // A retained QoS 1 PUBLISH from inside: acknowledged, then seen on both sides.
    inside.send(publish("t/a", b"1", QosPid::AtLeastOnce(pid(7)), true)).await;
    seen.push(("inside after its publish", topics(&mut inside).await));
    seen.push(("outside after inside's publish", topics(&mut outside).await));

    // From outside: the mounted tree reaches inside without its prefix, the rest not at all.
    outside.send(publish("lab1/t/b", b"2", QosPid::AtMostOnce, false)).await;
    outside.send(publish("t/c", b"3", QosPid::AtMostOnce, false)).await;
    seen.push(("outside after its publishes", topics(&mut outside).await));
    seen.push(("inside after outside's publishes", topics(&mut inside).await));

    // Retained, delivered to later subscribers of either listener.
    let mut late_inside = RawClient::connect(mounted, "late-inside").await;
    late_inside.subscribe(&[("t/+", QoS::AtMostOnce)]).await;
    seen.push(("late inside subscriber", topics(&mut late_inside).await));
    let mut late_outside = RawClient::connect(plain, "late-outside").await;
    late_outside.subscribe(&[("lab1/#", QoS::AtMostOnce)]).await;
    seen.push(("late outside subscriber", topics(&mut late_outside).await));

    // UNSUBSCRIBE is mounted too: after it, inside gets nothing more on t/#.
    inside
        .send(Packet::Unsubscribe(mqtt_lab_broker::codec::Unsubscribe {
            pid: pid(3),
            properties: mqtt_lab_broker::codec::v5::Properties::default(),
            filters: vec![mqtt_lab_broker::codec::TopicFilter::new("t/#").unwrap()],
        }))
        .await;
    // Applied once answered: only then may outside publish.
    assert!(matches!(inside.recv().await, Packet::UnsubAck(_)), "{:?}: expected UNSUBACK", broker.kind);
    outside.send(publish("lab1/t/d", b"4", QosPid::AtMostOnce, false)).await;
    topics(&mut outside).await;
    seen.push(("inside after its unsubscribe", topics(&mut inside).await));
    seen.push(("late inside, still subscribed", topics(&mut late_inside).await));

    // The will of a mounted client that vanishes.
    late_inside.subscribe(&[("w", QoS::AtMostOnce)]).await;
    let mut dying = connect_packet("dying", true, 60);
    dying.will = Some(will("w", b"gone", QoS::AtMostOnce, false));
    // CONNACK 0 or a panic; the flag is session present.
    let (dying, _) = RawClient::connect_with(mounted, dying).await;
    drop(dying);
    // The will arrives in its own time: wait for it, then compare what else came.
    let first = match outside.recv().await {
        Packet::Publish(p) => p.topic.to_string(),
        other => panic!("expected the will, got {other:?}"),
    };
    seen.push(("outside: the will", vec![first]));
    let inside_will = match late_inside.recv().await {
        Packet::Publish(p) => p.topic.to_string(),
        other => panic!("expected the will, got {other:?}"),
    };
    seen.push(("late inside: the will", vec![inside_will]));

    // $SYS is not mounted: a mounted client's $SYS filter is lab1/$SYS/..., which matches nothing.
    let mut sys_inside = RawClient::connect(mounted, "sys-inside").await;
    sys_inside.subscribe(&[("$SYS/broker/version", QoS::AtMostOnce)]).await;
    seen.push(("inside on $SYS/broker/version", topics(&mut sys_inside).await));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_of_a_mounted_listener_match_mosquitto() {
    let mut answers = Vec::new();
    for (broker, plain) in both("mount-scenario", "") {
        answers.push((broker.kind, scenario(&broker, plain).await));
    }
    let (mosquitto, ours) = (&answers[0].1, &answers[1].1);
    // What clients outside the mount point see, and what reaches a mounted client at all, is
    // the same on both. Where they differ, on purpose: Mosquitto 2.0.11 does not take the mount
    // point off what it sends to a mounted client (eclipse-mosquitto/mosquitto#2244, fixed in
    // 2.0.12; mosquitto.conf(5): "This prefix is removed when any messages are sent to the
    // client") and does not mount UNSUBSCRIBE, so a mounted client cannot unsubscribe.
    let expected_ours = owned(vec![
        ("inside after its publish", vec!["t/a"]),
        ("outside after inside's publish", vec!["lab1/t/a"]),
        ("outside after its publishes", vec!["lab1/t/b", "t/c"]),
        ("inside after outside's publishes", vec!["t/b"]),
        ("late inside subscriber", vec!["t/a"]),
        ("late outside subscriber", vec!["lab1/t/a"]),
        ("inside after its unsubscribe", vec![]),
        ("late inside, still subscribed", vec!["t/d"]),
        ("outside: the will", vec!["lab1/w"]),
        ("late inside: the will", vec!["w"]),
        ("inside on $SYS/broker/version", vec![]),
    ]);
    let expected_mosquitto = owned(vec![
        ("inside after its publish", vec!["lab1/t/a"]),
        ("outside after inside's publish", vec!["lab1/t/a"]),
        ("outside after its publishes", vec!["lab1/t/b", "t/c"]),
        ("inside after outside's publishes", vec!["lab1/t/b"]),
        ("late inside subscriber", vec!["lab1/t/a"]),
        ("late outside subscriber", vec!["lab1/t/a"]),
        ("inside after its unsubscribe", vec!["lab1/t/d"]),
        ("late inside, still subscribed", vec!["lab1/t/d"]),
        ("outside: the will", vec!["lab1/w"]),
        ("late inside: the will", vec!["lab1/w"]),
        ("inside on $SYS/broker/version", vec![]),
    ]);
    assert_eq!(mosquitto, &expected_mosquitto, "Mosquitto 2.0.11");
    assert_eq!(ours, &expected_ours, "ours");
    // Each side's mounted client gets a message exactly when the other's does, but for the
    // unsubscribed one, with the topic it names (ours) or the full one (Mosquitto 2.0.11).
    for (m, o) in mosquitto.iter().zip(ours).filter(|(m, _)| m.0 != "inside after its unsubscribe") {
        let unmounted: Vec<&str> =
            m.1.iter()
                .map(|t| {
                    if m.0.starts_with("outside") || m.0.starts_with("late outside") {
                        t.as_str()
                    } else {
                        t.strip_prefix("lab1/").unwrap_or(t)
                    }
                })
                .collect();
        assert_eq!(unmounted, o.1, "{}", m.0);
    }
}

fn owned(list: Vec<(&'static str, Vec<&str>)>) -> Vec<(&'static str, Vec<String>)> {
    list.into_iter().map(|(what, t)| (what, t.into_iter().map(str::to_owned).collect())).collect()
}

/// ACL patterns see the mounted topic: `lab1/ok/#` lets a mounted client publish `ok/1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_apply_to_the_mounted_topic() {
    let dir = TempDir::new("mount-acl");
    let acl = dir.file("acl", "topic read #\ntopic write lab1/ok/#\ntopic write plain/#\n");
    let extra = format!("acl_file {}\n", acl.to_str().unwrap());
    let mut answers = Vec::new();
    for (broker, plain) in both("mount-acl-run", &extra) {
        let mut outside = RawClient::connect(plain, "outside").await;
        outside.subscribe(&[("#", QoS::AtMostOnce)]).await;
        let mut inside = RawClient::connect(broker.addr(), "inside").await;
        for t in ["ok/1", "no/1", "lab1/ok/2", "plain/1"] {
            inside.send(publish(t, b"x", QosPid::AtMostOnce, false)).await;
        }
        topics(&mut inside).await;
        answers.push((broker.kind, topics(&mut outside).await));
    }
    assert_eq!(answers[0].1, answers[1].1, "Mosquitto, then ours");
    assert_eq!(answers[1].1, ["lab1/ok/1"]);
}

/// MQTT 5.0: a Topic Alias the client sets stands for the topic it sees; it is mounted like a
/// topic in full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v5_topic_alias_stands_for_the_client_visible_topic() {
    let mut answers = Vec::new();
    for (broker, plain) in both("mount-v5", "") {
        let mut outside = RawClient::connect(plain, "outside").await;
        outside.subscribe(&[("#", QoS::AtMostOnce)]).await;
        let (mut inside, _) = Client::accepted(broker.addr(), connect_of(Protocol::V5, "inside5", Vec::new())).await;
        let alias = Property::TopicAlias(NonZeroU16::MIN);
        inside.send(&publish_of("t/v5", b"1", QosPid::AtMostOnce, false, vec![alias.clone()])).await;
        inside.send(&publish_of("", b"2", QosPid::AtMostOnce, false, vec![alias])).await;
        inside.sync().await;
        answers.push((broker.kind, topics(&mut outside).await));
    }
    assert_eq!(answers[0].1, answers[1].1, "Mosquitto, then ours");
    assert_eq!(answers[1].1, ["lab1/t/v5", "lab1/t/v5"]);
}

/// As Mosquitto 2.0.11 ("Invalid mount_point 'a/#'. Does it contain a wildcard character?",
/// "Empty mount_point value in configuration."), a mount point with a wildcard, or none, is a
/// startup error; each listener keeps its own.
#[test]
fn the_mount_point_is_a_listener_option_without_wildcards() {
    let origin = std::path::Path::new("mosquitto.conf");
    for bad in ["mount_point a/#", "mount_point a/+/", "mount_point"] {
        let e = mqtt_lab_broker::Config::parse(&format!("listener 1884\n{bad}\n"), origin).unwrap_err();
        assert_eq!(e.line, 2, "{bad}: {e}");
        assert!(e.message.contains("mount_point"), "{bad}: {e}");
    }
    let text = "listener 1883\nlistener 1884\nmount_point lab1/\nlistener 1885\nmount_point lab2\n";
    let config = mqtt_lab_broker::Config::parse(text, origin).unwrap();
    let mounts: Vec<Option<&str>> = config.listeners.iter().map(|l| l.mount_point.as_deref()).collect();
    assert_eq!(mounts, [None, Some("lab1/"), Some("lab2")]);
}

/// MQTT 5.0, toward the client: the aliases the broker assigns (`assign_topic_aliases`, ours
/// only) name the topic without the mount point, the one the client subscribed in.
#[tokio::test]
async fn aliases_the_broker_assigns_name_the_client_visible_topic() {
    use mqtt_lab_broker::codec::v5::PropertyId;
    use mqtt_lab_broker::config::ListenerConfig;
    let mounted = ListenerConfig { mount_point: Some("lab1/".into()), ..ListenerConfig::default() };
    let broker = support::TestBroker::with(|c| {
        c.assign_topic_aliases = true;
        c.listeners = vec![mounted];
    })
    .await;
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    broker.broker().listen(plain, &ListenerConfig::default()).unwrap();
    let connect = connect_of(Protocol::V5, "aliased", vec![Property::TopicAliasMaximum(2)]);
    let (mut sub, _) = Client::accepted(broker.addr, connect).await;
    sub.subscribe("t/#", support::v5client::opts(QoS::AtMostOnce)).await;
    let mut publisher = Client::v5(plain_addr, "pub").await;
    for topic in ["lab1/t/x", "lab1/t/x", "lab1/t/y"] {
        publisher.publish1(topic, b"1", false, Vec::new()).await;
    }
    let seen: Vec<(String, Option<u16>)> = sub
        .sync()
        .await
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some((
                p.topic.to_string(),
                match p.properties.get(PropertyId::TopicAlias) {
                    Some(Property::TopicAlias(a)) => Some(a.get()),
                    _ => None,
                },
            )),
            _ => None,
        })
        .collect();
    let name = |t: &str, a: u16| (t.to_owned(), Some(a));
    assert_eq!(seen, [name("t/x", 1), name("", 1), name("t/y", 2)]);
}

/// A `$share/` filter from a mounted client is mounted as a raw string like any other, so it is
/// the ordinary filter `lab1/$share/g/t`, not a shared subscription, on both brokers; and `$SYS`
/// stays out of reach (`lab1/$SYS/...` matches none of the broker's topics).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_filter_is_mounted_as_text() {
    let mut answers = Vec::new();
    for (broker, plain) in both("mount-share", "") {
        let mut inside = RawClient::connect(broker.addr(), "inside").await;
        inside.subscribe(&[("$share/g/t", QoS::AtMostOnce), ("$SYS/#", QoS::AtMostOnce)]).await;
        let mut outside = RawClient::connect(plain, "outside").await;
        for t in ["t", "lab1/t", "lab1/$share/g/t"] {
            outside.send(publish(t, b"x", QosPid::AtMostOnce, false)).await;
        }
        topics(&mut outside).await;
        answers.push(topics(&mut inside).await);
    }
    // Mosquitto 2.0.11 leaves the mount point on (eclipse-mosquitto/mosquitto#2244).
    assert_eq!(answers, [vec!["lab1/$share/g/t"], vec!["$share/g/t"]], "Mosquitto, then ours");
}
