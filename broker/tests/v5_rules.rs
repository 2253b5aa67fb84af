//! MQTT 5.0 rules, one test each, on a real broker over TCP: CONNECT and CONNACK, refusals,
//! PUBLISH properties, topic aliases, what a client must not send, PUBACK reason codes.
//! The rest (subscriptions, shared subscriptions, DISCONNECT, flow control) is in
//! v5_rules_more.rs.

mod support;

use bytes::Bytes;
use mqtt_lab_broker::codec::v5::{PacketKind, Property, PropertyId, ReasonCode};
use mqtt_lab_broker::codec::{ConnectReturnCode, Packet, Protocol, QoS, QosPid, SubOptions};
use mqtt_lab_broker::config::ConnackCodes;
use support::v5client::{Client, connect_of, opts, props, publish_of};
use support::{TempDir, TestBroker};

fn nz16(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap()
}

fn nz32(n: u32) -> std::num::NonZeroU32 {
    std::num::NonZeroU32::new(n).unwrap()
}

#[tokio::test]
async fn connack_gives_a_v5_client_the_topic_alias_maximum_and_receive_maximum() {
    let broker = TestBroker::start().await;
    let (mut c, p) = Client::accepted(broker.addr, connect_of(Protocol::V5, "limits", Vec::new())).await;
    assert_eq!(p.get(PropertyId::TopicAliasMaximum), Some(&Property::TopicAliasMaximum(10)), "{p:?}");
    // max_inflight_messages, 100 by default.
    assert_eq!(p.get(PropertyId::ReceiveMaximum), Some(&Property::ReceiveMaximum(nz16(100))), "{p:?}");
    assert_eq!(p.get(PropertyId::AssignedClientIdentifier), None, "the client named itself: {p:?}");
    assert_eq!(p.get(PropertyId::ServerKeepAlive), None, "keep alive 60 is allowed: {p:?}");
    c.expect_nothing().await;
    broker.stop().await;
}

#[tokio::test]
async fn an_empty_client_id_is_assigned_and_the_assigned_id_names_the_session() {
    let broker = TestBroker::start().await;
    let (mut c, p) = Client::accepted(broker.addr, connect_of(Protocol::V5, "", Vec::new())).await;
    let Some(Property::AssignedClientIdentifier(id)) = p.get(PropertyId::AssignedClientIdentifier) else {
        panic!("no Assigned Client Identifier [MQTT-3.2.2-16]: {p:?}");
    };
    assert!(id.starts_with("auto-"), "{id}");
    c.subscribe("assigned/t", opts(QoS::AtLeastOnce)).await;
    let mut publisher = Client::v5(broker.addr, "assigned-pub").await;
    assert_eq!(publisher.publish1("assigned/t", b"hi", false, Vec::new()).await, ReasonCode::Success);
    assert_eq!(&c.recv_publish().await.payload[..], b"hi");
    // The id is the session's: connecting with it takes the first connection over.
    let _again = Client::v5(broker.addr, id).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::SessionTakenOver);
    broker.stop().await;
}

#[tokio::test]
async fn a_keep_alive_above_max_keepalive_is_lowered_for_v5_and_refused_for_v311() {
    let broker = TestBroker::with(|c| c.max_keepalive = 60).await;
    let mut connect = connect_of(Protocol::V5, "slow-v5", Vec::new());
    connect.keep_alive = 120;
    let (mut c, p) = Client::accepted(broker.addr, connect).await;
    assert_eq!(p.get(PropertyId::ServerKeepAlive), Some(&Property::ServerKeepAlive(60)), "[MQTT-3.2.2-21] {p:?}");
    c.expect_nothing().await;
    assert!(broker.log_contains("as slow-v5 (p5, c1, k60)"), "{}", broker.logs());

    let mut connect = connect_of(Protocol::V311, "slow-v311", Vec::new());
    connect.keep_alive = 120;
    let (mut old, ack) = Client::connect(broker.addr, connect).await;
    assert_eq!(ack.code(), ConnectReturnCode::IdentifierRejected, "{ack:?}");
    old.expect_closed().await;
    broker.stop().await;
}

#[tokio::test]
async fn keep_alive_0_is_served() {
    let broker = TestBroker::with(|c| c.max_keepalive = 60).await;
    // MQTT 5: served, and told `max_keepalive`, as Mosquitto 2.0.11 does (v5_differential.rs);
    // MQTT 3.1.1 cannot be told: served without a keep alive.
    for (protocol, told) in [(Protocol::V5, Some(&Property::ServerKeepAlive(60))), (Protocol::V311, None)] {
        let mut connect = connect_of(protocol, "no-keepalive", Vec::new());
        connect.keep_alive = 0;
        let (mut c, p) = Client::accepted(broker.addr, connect).await;
        assert_eq!(p.get(PropertyId::ServerKeepAlive), told, "{protocol}: {p:?}");
        c.expect_nothing().await;
        c.disconnect(ReasonCode::Success).await;
    }
    broker.stop().await;
}

/// A v5 and a 3.1.1 login with a wrong password: the reason code and the 3.1.1 return code.
async fn wrong_password(codes: ConnackCodes) -> (ReasonCode, ConnectReturnCode) {
    let dir = TempDir::new("v5-password");
    let path = dir.0.join("passwd");
    support::mosquitto_passwd(&path, &[("user", "right")]);
    let broker = TestBroker::with(|c| {
        c.allow_anonymous = Some(false);
        c.password_file = Some(path);
        c.connack_codes = codes;
    })
    .await;
    let mut answers = Vec::new();
    for protocol in [Protocol::V5, Protocol::V311] {
        let mut connect = connect_of(protocol, "pw", Vec::new());
        connect.username = Some("user".into());
        connect.password = Some(Bytes::from_static(b"wrong"));
        let (mut c, ack) = Client::connect(broker.addr, connect).await;
        c.expect_closed().await;
        answers.push(ack);
    }
    // The right password gets in: the refusals were about the password.
    let mut connect = connect_of(Protocol::V5, "pw", Vec::new());
    connect.username = Some("user".into());
    connect.password = Some(Bytes::from_static(b"right"));
    Client::accepted(broker.addr, connect).await;
    broker.stop().await;
    (answers[0].reason, answers[1].code())
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_0x86_or_4_and_as_mosquitto_with_0x87_or_5() {
    let precise = wrong_password(ConnackCodes::Precise).await;
    assert_eq!(precise, (ReasonCode::BadUserNameOrPassword, ConnectReturnCode::BadUsernameOrPassword));
    let mosquitto = wrong_password(ConnackCodes::Mosquitto).await;
    assert_eq!(mosquitto, (ReasonCode::NotAuthorized, ConnectReturnCode::NotAuthorized));
}

#[tokio::test]
async fn an_authentication_method_is_refused_with_0x8c() {
    let broker = TestBroker::start().await;
    let method = vec![Property::AuthenticationMethod("SCRAM-SHA-256".into())];
    let (mut c, ack) = Client::connect(broker.addr, connect_of(Protocol::V5, "enhanced", method)).await;
    assert_eq!(ack.reason, ReasonCode::BadAuthenticationMethod, "{ack:?}");
    c.expect_closed().await;
    broker.stop().await;
}

#[tokio::test]
async fn protocol_level_6_gets_the_311_connack_1() {
    let broker = TestBroker::start().await;
    let mut bytes =
        Packet::Connect(Box::new(connect_of(Protocol::V5, "six", Vec::new()))).to_bytes(Protocol::V5).unwrap();
    assert_eq!(&bytes[4..9], b"MQTT\x05");
    bytes[8] = 6;
    let mut c = Client::open(broker.addr, Protocol::V311).await;
    c.send_raw(&bytes).await;
    let (_, frame) = c.recv_frame().await.expect("a CONNACK");
    assert_eq!(&frame[..], [0x20, 2, 0, 1], "[MQTT-3.1.2-2]");
    c.expect_closed().await;
    broker.stop().await;
}

/// Every PUBLISH property a client may send, user properties repeated.
fn rich_properties() -> Vec<Property> {
    vec![
        Property::UserProperty("k".into(), "1".into()),
        Property::PayloadFormatIndicator(true),
        Property::ContentType("text/plain".into()),
        Property::UserProperty("k".into(), "2".into()),
        Property::ResponseTopic("replies/here".into()),
        Property::CorrelationData(Bytes::from_static(b"\x00\x01corr")),
        Property::MessageExpiryInterval(3600),
        Property::UserProperty("a".into(), "3".into()),
    ]
}

#[tokio::test]
async fn publish_properties_reach_a_v5_subscriber_unchanged_and_a_v311_one_not_at_all() {
    let broker = TestBroker::start().await;
    let mut v5 = Client::v5(broker.addr, "props-v5").await;
    v5.subscribe("props/#", opts(QoS::AtMostOnce)).await;
    // A QoS 1 delivery is held, and its Message Expiry Interval counts down (3.3.2.3.3).
    let mut held = Client::v5(broker.addr, "props-v5-held").await;
    held.subscribe("props/#", opts(QoS::AtLeastOnce)).await;
    let mut old = Client::v311(broker.addr, "props-v311").await;
    old.subscribe("props/#", opts(QoS::AtMostOnce)).await;
    let mut publisher = Client::v5(broker.addr, "props-pub").await;
    assert_eq!(publisher.publish1("props/t", b"text", false, rich_properties()).await, ReasonCode::Success);

    let got = v5.recv_publish().await;
    assert_eq!(got.properties.as_slice(), rich_properties(), "[MQTT-3.3.2-17] [MQTT-3.3.2-18]");
    assert_eq!(&got.payload[..], b"text");
    let (packet, bytes) = old.recv_frame().await.expect("a PUBLISH");
    assert!(matches!(packet, Packet::Publish(_)), "{packet:?}");
    let plain = publish_of("props/t", b"text", QosPid::AtMostOnce, false, Vec::new());
    assert_eq!(bytes, plain.to_bytes(Protocol::V311).unwrap(), "a 3.1.1 PUBLISH, nothing more");
    let got = held.recv_publish().await;
    assert_eq!(got.qos(), QoS::AtLeastOnce);
    let expiry = got.properties.get(PropertyId::MessageExpiryInterval);
    assert!(matches!(expiry, Some(Property::MessageExpiryInterval(3599 | 3600))), "{expiry:?}");
    let others = |p: &[Property]| -> Vec<Property> {
        p.iter().filter(|q| q.id() != PropertyId::MessageExpiryInterval).cloned().collect()
    };
    assert_eq!(others(got.properties.as_slice()), others(&rich_properties()));
    v5.expect_nothing().await;
    old.expect_nothing().await;
    held.expect_nothing().await;
    broker.stop().await;
}

#[tokio::test]
async fn a_topic_alias_is_resolved_and_never_forwarded() {
    let broker = TestBroker::start().await;
    let mut sub = Client::v5(broker.addr, "alias-sub").await;
    sub.subscribe("alias/#", opts(QoS::AtMostOnce)).await;
    let mut publisher = Client::v5(broker.addr, "alias-pub").await;
    publisher.publish0("alias/long/topic", b"one", vec![Property::TopicAlias(nz16(1))]).await;
    let user = Property::UserProperty("n".into(), "2".into());
    publisher.publish0("", b"two", vec![Property::TopicAlias(nz16(1)), user.clone()]).await;

    let first = sub.recv_publish().await;
    assert_eq!((first.topic.as_str(), &first.payload[..]), ("alias/long/topic", &b"one"[..]));
    assert!(first.properties.is_empty(), "the alias is the connection's [MQTT-3.3.2-7]: {:?}", first.properties);
    let second = sub.recv_publish().await;
    assert_eq!((second.topic.as_str(), &second.payload[..]), ("alias/long/topic", &b"two"[..]));
    assert_eq!(second.properties.as_slice(), [user]);
    broker.stop().await;
}

#[tokio::test]
async fn a_retained_message_published_by_alias_is_kept_under_its_topic() {
    let broker = TestBroker::start().await;
    let mut publisher = Client::v5(broker.addr, "alias-ret-pub").await;
    publisher.publish0("alias/kept", b"first", vec![Property::TopicAlias(nz16(3))]).await;
    publisher.send(&publish_of("", b"kept", QosPid::AtMostOnce, true, vec![Property::TopicAlias(nz16(3))])).await;
    publisher.expect_nothing().await;
    let mut late = Client::v5(broker.addr, "alias-ret-sub").await;
    late.subscribe("alias/#", opts(QoS::AtMostOnce)).await;
    let got = late.recv_publish().await;
    assert_eq!((got.topic.as_str(), &got.payload[..], got.retain), ("alias/kept", &b"kept"[..], true));
    assert!(got.properties.is_empty(), "{:?}", got.properties);
    broker.stop().await;
}

#[tokio::test]
async fn a_topic_alias_above_the_maximum_is_disconnected_with_0x94() {
    let broker = TestBroker::start().await;
    let mut c = Client::v5(broker.addr, "alias-11").await;
    c.send(&publish_of("a/b", b"x", QosPid::AtMostOnce, false, vec![Property::TopicAlias(nz16(11))])).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::TopicAliasInvalid);
    assert!(broker.log_contains("[MQTT-3.3.2-9]"), "{}", broker.logs());
    broker.stop().await;
}

#[tokio::test]
async fn an_unset_topic_alias_is_disconnected_with_0x82() {
    let broker = TestBroker::start().await;
    let mut c = Client::v5(broker.addr, "alias-unset").await;
    // Alias 1 set, alias 2 used without a topic.
    c.publish0("a/b", b"x", vec![Property::TopicAlias(nz16(1))]).await;
    c.send(&publish_of("", b"x", QosPid::AtMostOnce, false, vec![Property::TopicAlias(nz16(2))])).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::ProtocolError);
    broker.stop().await;
}

#[tokio::test]
async fn a_subscription_identifier_from_a_client_is_disconnected_with_0x82() {
    let broker = TestBroker::start().await;
    let mut sub = Client::v5(broker.addr, "sid-sub").await;
    sub.subscribe("sid/#", opts(QoS::AtMostOnce)).await;
    let mut c = Client::v5(broker.addr, "sid-pub").await;
    c.send(&publish_of("sid/t", b"x", QosPid::AtMostOnce, false, vec![Property::SubscriptionIdentifier(nz32(5))]))
        .await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::ProtocolError);
    assert!(broker.log_contains("[MQTT-3.3.4-6]"), "{}", broker.logs());
    sub.expect_nothing().await;
    broker.stop().await;
}

#[tokio::test]
async fn a_response_topic_with_a_wildcard_is_disconnected_with_0x90() {
    let broker = TestBroker::start().await;
    let mut sub = Client::v5(broker.addr, "rt-sub").await;
    sub.subscribe("rt/#", opts(QoS::AtMostOnce)).await;
    let mut c = Client::v5(broker.addr, "rt-pub").await;
    let wild = vec![Property::ResponseTopic("replies/#".into())];
    c.send(&publish_of("rt/t", b"x", QosPid::AtMostOnce, false, wild)).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::TopicNameInvalid);
    assert!(broker.log_contains("[MQTT-3.3.2-14]"), "{}", broker.logs());
    sub.expect_nothing().await;
    broker.stop().await;
}

#[tokio::test]
async fn no_local_on_a_shared_subscription_is_disconnected_with_0x82() {
    let broker = TestBroker::start().await;
    let mut c = Client::v5(broker.addr, "nl-share").await;
    let options = SubOptions { no_local: true, ..opts(QoS::AtMostOnce) };
    let pid = c.pid();
    let filters = vec![(mqtt_lab_broker::codec::TopicFilter::new("$share/g/t").unwrap(), options)];
    let properties = props(PacketKind::Subscribe, Vec::new());
    c.send(&Packet::Subscribe(mqtt_lab_broker::codec::Subscribe { pid, properties, filters })).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::ProtocolError);
    assert!(broker.log_contains("[MQTT-3.8.3-4]"), "{}", broker.logs());
    broker.stop().await;
}

#[tokio::test]
async fn puback_says_no_matching_subscribers_then_success_in_the_short_form() {
    let broker = TestBroker::start().await;
    let mut publisher = Client::v5(broker.addr, "ack-pub").await;
    assert_eq!(publisher.publish1("ack/t", b"x", false, Vec::new()).await, ReasonCode::NoMatchingSubscribers);
    let mut sub = Client::v5(broker.addr, "ack-sub").await;
    sub.subscribe("ack/t", opts(QoS::AtLeastOnce)).await;
    let pid = publisher.pid();
    publisher.send(&publish_of("ack/t", b"x", QosPid::AtLeastOnce(pid), false, Vec::new())).await;
    let (_, bytes) = publisher.recv_frame().await.expect("PUBACK");
    // Reason 0x00 and no properties: remaining length 2 [MQTT-3.4.2-1].
    assert_eq!(&bytes[..], [0x40, 2, 0, 2], "PUBACK for pid {pid}");
    broker.stop().await;
}

#[tokio::test]
async fn a_publish_the_acl_denies_gets_puback_0x87() {
    let dir = TempDir::new("v5-acl");
    let acl = dir.file("acl", "topic readwrite open/#\n");
    let broker = TestBroker::with(|c| c.acl_file = Some(acl)).await;
    let mut sub = Client::v5(broker.addr, "acl-sub").await;
    sub.subscribe("#", opts(QoS::AtLeastOnce)).await;
    let mut publisher = Client::v5(broker.addr, "acl-pub").await;
    assert_eq!(publisher.publish1("closed/t", b"x", false, Vec::new()).await, ReasonCode::NotAuthorized);
    assert_eq!(publisher.publish1("open/t", b"y", false, Vec::new()).await, ReasonCode::Success);
    assert_eq!(&sub.recv_publish().await.payload[..], b"y", "only the allowed message");
    broker.stop().await;
}

#[tokio::test]
async fn a_payload_that_is_not_the_utf8_it_claims_gets_puback_0x99_and_is_not_delivered() {
    let broker = TestBroker::start().await;
    let mut sub = Client::v5(broker.addr, "pfi-sub").await;
    sub.subscribe("pfi/#", opts(QoS::AtLeastOnce)).await;
    let mut publisher = Client::v5(broker.addr, "pfi-pub").await;
    let utf8 = || vec![Property::PayloadFormatIndicator(true)];
    assert_eq!(publisher.publish1("pfi/t", b"\xff\xfe", false, utf8()).await, ReasonCode::PayloadFormatInvalid);
    sub.expect_nothing().await;
    assert_eq!(publisher.publish1("pfi/t", "grüße".as_bytes(), false, utf8()).await, ReasonCode::Success);
    assert_eq!(sub.recv_publish().await.payload, "grüße".as_bytes());
    broker.stop().await;
}

/// The DISCONNECT for a broken rule says which rule in a Reason String, so a client (and the
/// app's log) can show the student the sentence of the spec; a client whose Maximum Packet
/// Size cannot take the string gets the DISCONNECT without it [MQTT-3.2.2-19].
#[tokio::test]
async fn a_protocol_error_disconnect_names_the_rule_in_a_reason_string() {
    let broker = TestBroker::start().await;
    for (max, explained) in [(None, true), (Some(20), false)] {
        let properties = max.map(|m| vec![Property::MaximumPacketSize(nz32(m))]).unwrap_or_default();
        let (mut c, _) = Client::accepted(broker.addr, connect_of(Protocol::V5, "why", properties)).await;
        let wild = vec![Property::ResponseTopic("replies/#".into())];
        c.send(&publish_of("rt/t", b"x", QosPid::AtMostOnce, false, wild)).await;
        let (packet, bytes) = c.recv_frame().await.expect("a DISCONNECT");
        let Packet::Disconnect(d) = packet else { panic!("expected DISCONNECT, got {packet:?}") };
        assert_eq!(d.reason, ReasonCode::TopicNameInvalid);
        match d.properties.get(PropertyId::ReasonString) {
            Some(Property::ReasonString(why)) => {
                assert!(explained, "a {}-byte DISCONNECT to a client that takes {max:?}", bytes.len());
                assert!(why.starts_with("[MQTT-3.3.2-14] Response Topic \"replies/#\""), "{why}");
            }
            None => assert!(!explained && bytes.len() <= 20, "{bytes:?}"),
            other => panic!("{other:?}"),
        }
        c.expect_closed().await;
    }
    broker.stop().await;
}

/// A client that sends more unfinished QoS 2 messages (PUBREC received, PUBREL not sent) than
/// the Receive Maximum the CONNACK gave is disconnected with 0x93 [MQTT-3.3.4-7]; a resend of
/// one of them is not one more.
#[tokio::test]
async fn qos_2_over_the_receive_maximum_is_disconnected_with_0x93() {
    let broker = TestBroker::with(|c| c.max_inflight_messages = 2).await;
    let (mut c, p) = Client::accepted(broker.addr, connect_of(Protocol::V5, "rm", Vec::new())).await;
    assert_eq!(p.get(PropertyId::ReceiveMaximum), Some(&Property::ReceiveMaximum(nz16(2))), "{p:?}");
    let mut pids = Vec::new();
    for _ in 0..2 {
        let pid = c.pid();
        c.send(&publish_of("rm/t", b"x", QosPid::ExactlyOnce(pid), false, Vec::new())).await;
        assert!(matches!(c.recv().await, Packet::PubRec(_)));
        pids.push(pid);
    }
    // The same id again (DUP) is a resend, not a third message.
    let mut again = publish_of("rm/t", b"x", QosPid::ExactlyOnce(pids[0]), false, Vec::new());
    if let Packet::Publish(p) = &mut again {
        p.dup = true;
    }
    c.send(&again).await;
    assert!(matches!(c.recv().await, Packet::PubRec(_)));
    let third = c.pid();
    c.send(&publish_of("rm/t", b"x", QosPid::ExactlyOnce(third), false, Vec::new())).await;
    assert_eq!(c.expect_disconnect().await, ReasonCode::ReceiveMaximumExceeded);
    assert!(broker.log_contains("[MQTT-3.3.4-7]"), "{}", broker.logs());
    broker.stop().await;
}
