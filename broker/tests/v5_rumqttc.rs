//! rumqttc's MQTT 5 client (`rumqttc::v5`) against our broker: a third client no one here wrote,
//! next to paho-mqtt and mosquitto_pub/sub (v5_interop.rs). Properties travel from a v5
//! publisher to a v5 subscriber with a Subscription Identifier, and a 3.1.1 rumqttc subscriber
//! gets the same message without them.

mod support;

use std::time::Duration;

use bytes::Bytes;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PublishProperties, SubscribeProperties};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use support::{PATIENCE, TestBroker};

/// Polls `eventloop` until a PUBLISH arrives, answering everything else as rumqttc does.
async fn next_publish(eventloop: &mut rumqttc::v5::EventLoop) -> rumqttc::v5::mqttbytes::v5::Publish {
    let wait = async {
        loop {
            if let Event::Incoming(Packet::Publish(p)) = eventloop.poll().await.expect("connection") {
                return p;
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait).await.expect("a PUBLISH within the patience")
}

/// Polls until the SUBACK, so that a publish that follows is routed to the subscription.
async fn until_suback(eventloop: &mut rumqttc::v5::EventLoop) {
    let wait = async {
        loop {
            if let Event::Incoming(Packet::SubAck(_)) = eventloop.poll().await.expect("connection") {
                return;
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait).await.expect("SUBACK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rumqttc_v5_properties_and_subscription_identifier_reach_a_v5_subscriber() {
    let broker = TestBroker::start().await;
    let mut sub_options = MqttOptions::new("rumqttc-v5-sub", "127.0.0.1", broker.port());
    sub_options.set_keep_alive(Duration::from_secs(5));
    let (subscriber, mut sub_loop) = AsyncClient::new(sub_options, 10);
    let properties = SubscribeProperties { id: Some(42), user_properties: Vec::new() };
    subscriber.subscribe_with_properties("PV/#", QoS::AtLeastOnce, properties).await.unwrap();
    until_suback(&mut sub_loop).await;

    let mut v3_options = rumqttc::MqttOptions::new("rumqttc-v311-sub", "127.0.0.1", broker.port());
    v3_options.set_keep_alive(Duration::from_secs(5));
    let (v3_subscriber, mut v3_loop) = rumqttc::AsyncClient::new(v3_options, 10);
    v3_subscriber.subscribe("PV/#", rumqttc::QoS::AtLeastOnce).await.unwrap();
    let v3_suback = async {
        loop {
            if let rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_)) = v3_loop.poll().await.expect("v3 connection") {
                return;
            }
        }
    };
    tokio::time::timeout(PATIENCE, v3_suback).await.expect("3.1.1 SUBACK");

    let mut pub_options = MqttOptions::new("rumqttc-v5-pub", "127.0.0.1", broker.port());
    pub_options.set_keep_alive(Duration::from_secs(5));
    let (publisher, mut pub_loop) = AsyncClient::new(pub_options, 10);
    let sent = PublishProperties {
        content_type: Some("application/json".into()),
        response_topic: Some("PV/reply".into()),
        correlation_data: Some(Bytes::from_static(b"req-7")),
        user_properties: vec![
            ("unit".into(), "kW".into()),
            ("site".into(), "roof".into()),
            ("unit".into(), "W".into()),
        ],
        message_expiry_interval: Some(3600),
        payload_format_indicator: Some(1),
        ..PublishProperties::default()
    };
    publisher.publish_with_properties("PV/data", QoS::AtLeastOnce, false, "1.5", sent.clone()).await.unwrap();
    let drive = tokio::spawn(async move {
        loop {
            if pub_loop.poll().await.is_err() {
                return;
            }
        }
    });

    let got = next_publish(&mut sub_loop).await;
    assert_eq!(&got.topic[..], b"PV/data");
    assert_eq!(&got.payload[..], b"1.5");
    let got = got.properties.expect("the v5 subscriber gets the properties");
    assert_eq!(got.content_type, sent.content_type);
    assert_eq!(got.response_topic, sent.response_topic);
    assert_eq!(got.correlation_data, sent.correlation_data);
    assert_eq!(got.user_properties, sent.user_properties, "in order, repeats kept");
    assert_eq!(got.payload_format_indicator, Some(1));
    let left = got.message_expiry_interval.expect("the expiry travels");
    assert!((3590..=3600).contains(&left), "time left {left}");
    assert_eq!(got.subscription_identifiers, [42]);

    let wait = async {
        loop {
            if let rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) = v3_loop.poll().await.expect("v3") {
                return p;
            }
        }
    };
    let v3 = tokio::time::timeout(PATIENCE, wait).await.expect("the 3.1.1 subscriber gets it too");
    assert_eq!((v3.topic.as_str(), &v3.payload[..]), ("PV/data", &b"1.5"[..]));
    drive.abort();
    broker.stop().await;
}
