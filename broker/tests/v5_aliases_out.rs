//! Topic aliases from the broker to a client that allows them (Topic Alias Maximum in its
//! CONNECT, 3.1.2.11.5), with `assign_topic_aliases true`: the first PUBLISH on a topic names
//! it and its alias, the next ones only the alias; no more aliases than the client allows; a
//! new connection starts over [MQTT-3.3.2-7]. Off by default (Config says why).

mod support;

use mqtt_lab_broker::codec::v5::{Property, PropertyId};
use mqtt_lab_broker::codec::{Packet, Protocol, QoS};
use support::TestBroker;
use support::v5client::{Client, connect_of, opts};

/// (topic as sent, alias) of every PUBLISH.
fn seen(packets: &[Packet]) -> Vec<(String, Option<u16>)> {
    packets
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some((
                p.topic.as_str().to_owned(),
                match p.properties.get(PropertyId::TopicAlias) {
                    Some(Property::TopicAlias(a)) => Some(a.get()),
                    _ => None,
                },
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_broker_names_topics_by_alias_to_a_client_that_allows_two() {
    let broker = TestBroker::with(|c| c.assign_topic_aliases = true).await;
    let connect = || connect_of(Protocol::V5, "aliased", vec![Property::TopicAliasMaximum(2)]);
    let (mut sub, _) = Client::accepted(broker.addr, connect()).await;
    sub.subscribe("PV/#", opts(QoS::AtMostOnce)).await;
    let mut plain = Client::v5(broker.addr, "plain").await;
    plain.subscribe("PV/#", opts(QoS::AtMostOnce)).await;
    let mut publisher = Client::v5(broker.addr, "pv").await;
    for topic in ["PV/data", "PV/data", "PV/sunshine", "PV/other", "PV/data", "PV/sunshine"] {
        publisher.publish1(topic, b"1", false, Vec::new()).await;
    }
    let name = |t: &str, a: Option<u16>| (t.to_owned(), a);
    assert_eq!(
        seen(&sub.sync().await),
        [
            name("PV/data", Some(1)),
            name("", Some(1)),
            name("PV/sunshine", Some(2)),
            name("PV/other", None),
            name("", Some(1)),
            name("", Some(2)),
        ]
    );
    let full: Vec<_> = seen(&plain.sync().await);
    assert!(full.iter().all(|(t, a)| !t.is_empty() && a.is_none()), "a client that allows none: {full:?}");
    // A new connection starts without aliases.
    drop(sub);
    let (mut again, _) = Client::accepted(broker.addr, connect()).await;
    again.subscribe("PV/#", opts(QoS::AtMostOnce)).await;
    publisher.publish1("PV/sunshine", b"1", false, Vec::new()).await;
    assert_eq!(seen(&again.sync().await), [name("PV/sunshine", Some(1))]);
    broker.stop().await;
}

/// By default the broker assigns none, even to a client that allows them.
#[tokio::test]
async fn by_default_the_broker_assigns_no_topic_aliases() {
    let broker = TestBroker::start().await;
    let (mut sub, _) =
        Client::accepted(broker.addr, connect_of(Protocol::V5, "a", vec![Property::TopicAliasMaximum(5)])).await;
    sub.subscribe("PV/#", opts(QoS::AtMostOnce)).await;
    let mut publisher = Client::v5(broker.addr, "pv").await;
    publisher.publish1("PV/data", b"1", false, Vec::new()).await;
    publisher.publish1("PV/data", b"1", false, Vec::new()).await;
    assert_eq!(seen(&sub.sync().await), [("PV/data".to_owned(), None), ("PV/data".to_owned(), None)]);
    broker.stop().await;
}
