//! The packet list's lines for MQTT 5.0 packets: reason codes in words with their byte, reason
//! strings, subscription options and identifiers, property counts. Each packet goes through the
//! log as bytes, after an MQTT 5.0 CONNECT, as the relay hands them over.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;
use mqtt_lab_broker::codec::v5::{PacketKind, Properties, Property, ReasonCode};
use mqtt_lab_broker::codec::{
    Ack, ConnAck, Connect, Disconnect, LastWill, Packet, PacketId, Protocol, Publish, QoS, QosPid, RetainHandling,
    SubAck, SubAckCode, SubOptions, Subscribe, TopicFilter, TopicName, UnsubAck,
};

use super::PacketLog;
use crate::connection::{Direction, Tap};

fn props(kind: PacketKind, list: Vec<Property>) -> Properties {
    Properties::new(kind, list).unwrap()
}

fn user(name: &str, value: &str) -> Property {
    Property::UserProperty(name.into(), value.into())
}

fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn connect() -> Packet {
    Packet::Connect(Box::new(Connect {
        bridge: false,
        protocol: Protocol::V5,
        clean_session: true,
        keep_alive: 60,
        properties: props(
            PacketKind::Connect,
            vec![
                Property::SessionExpiryInterval(3600),
                Property::ReceiveMaximum(NonZeroU16::new(20).unwrap()),
                user("site", "lab"),
            ],
        ),
        client_id: "pv-meter".into(),
        will: Some(LastWill {
            topic: TopicName::new("pv/status".to_owned()).unwrap(),
            payload: Bytes::from_static(b"offline"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: props(PacketKind::Will, vec![Property::WillDelayInterval(10)]),
        }),
        username: None,
        password: None,
    }))
}

/// The summary of `packet`, sent (`sent`) or received on an MQTT 5.0 connection.
fn line(packet: &Packet, sent: bool) -> String {
    let mut log = PacketLog::default();
    let at = std::time::SystemTime::now();
    let connect = connect().to_bytes(Protocol::V5).unwrap().freeze();
    log.tap(&Tap { direction: Direction::Sent, at, bytes: connect });
    let direction = if sent { Direction::Sent } else { Direction::Received };
    log.tap(&Tap { direction, at, bytes: packet.to_bytes(Protocol::V5).unwrap().freeze() });
    let p = log.packets.back().unwrap();
    assert_eq!((p.protocol, p.error.as_deref()), (Protocol::V5, None));
    p.summary.clone()
}

#[test]
fn connect_and_connack_say_mqtt_5_and_their_properties() {
    assert_eq!(
        line(&connect(), true),
        "MQTT 5, client id \"pv-meter\", will on pv/status with 1 property, keep alive 60 s, clean start 1, \
         3 properties"
    );
    let connack = Packet::ConnAck(ConnAck {
        session_present: false,
        reason: ReasonCode::Success,
        properties: props(PacketKind::ConnAck, vec![Property::AssignedClientIdentifier("auto-1".into())]),
    });
    assert_eq!(line(&connack, false), "0x00 Success, session present 0, 1 property");
    let refused = Packet::ConnAck(ConnAck {
        session_present: false,
        reason: ReasonCode::NotAuthorized,
        properties: props(PacketKind::ConnAck, vec![Property::ReasonString("no ACL for you".into())]),
    });
    assert_eq!(line(&refused, false), "0x87 Not authorized, session present 0, \"no ACL for you\", 1 property");
}

#[test]
fn a_publish_counts_its_properties() {
    let publish = Packet::Publish(Publish {
        dup: false,
        qos_pid: QosPid::AtLeastOnce(pid(5)),
        retain: true,
        topic: TopicName::new("pv/energy".to_owned()).unwrap(),
        payload: Bytes::from_static(b"4.25"),
        properties: props(
            PacketKind::PublishToServer,
            vec![
                Property::MessageExpiryInterval(60),
                Property::ContentType("application/json".into()),
                Property::CorrelationData(Bytes::from_static(b"req-42")),
                user("unit", "kWh"),
                user("site", "lab"),
            ],
        ),
    });
    assert_eq!(line(&publish, true), "pv/energy QoS 1, id 5, retain, 4 byte(s), 5 properties");
}

#[test]
fn acks_carry_their_reason_code_in_words_and_their_reason_string() {
    let puback = Packet::PubAck(Ack::with_reason(pid(5), ReasonCode::NoMatchingSubscribers));
    assert_eq!(line(&puback, false), "id 5: 0x10 No matching subscribers");
    let pubrec = Packet::PubRec(Ack {
        pid: pid(6),
        reason: ReasonCode::QuotaExceeded,
        properties: props(PacketKind::PubRec, vec![Property::ReasonString("too many in flight".into())]),
    });
    assert_eq!(line(&pubrec, false), "id 6: 0x97 Quota exceeded, \"too many in flight\"");
    // 0x00 left off the wire (remaining length 2) still reads as Success.
    assert_eq!(line(&Packet::PubComp(pid(6).into()), false), "id 6: 0x00 Success");
    let unsuback = Packet::UnsubAck(UnsubAck {
        pid: pid(8),
        properties: Properties::default(),
        reasons: vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted],
    });
    assert_eq!(line(&unsuback, false), "id 8: 0x00 Success, 0x11 No subscription existed");
}

#[test]
fn subscribe_and_suback_show_options_identifier_and_reason_codes() {
    let subscribe = Packet::Subscribe(Subscribe {
        pid: pid(3),
        properties: props(PacketKind::Subscribe, vec![Property::SubscriptionIdentifier(NonZeroU32::new(7).unwrap())]),
        filters: vec![
            (
                TopicFilter::new("pv/#").unwrap(),
                SubOptions {
                    qos: QoS::AtLeastOnce,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: RetainHandling::Never,
                },
            ),
            (TopicFilter::new("lamp/+").unwrap(), QoS::AtMostOnce.into()),
        ],
    });
    assert_eq!(
        line(&subscribe, true),
        "id 3: pv/# (QoS 1, No Local, Retain As Published, Retain Handling 2), lamp/+ (QoS 0), subscription identifier 7"
    );
    let suback = Packet::SubAck(SubAck {
        pid: pid(3),
        properties: Properties::default(),
        codes: vec![SubAckCode::Granted(QoS::AtMostOnce), SubAckCode::Failure(ReasonCode::NotAuthorized)],
    });
    assert_eq!(line(&suback, false), "id 3: 0x00 granted QoS 0, 0x87 Not authorized");
}

#[test]
fn disconnect_says_why() {
    let taken = Packet::Disconnect(Disconnect::with_reason(ReasonCode::SessionTakenOver));
    assert_eq!(line(&taken, false), "0x8E Session taken over");
    let normal = Packet::Disconnect(Disconnect::default());
    assert_eq!(line(&normal, true), "0x00 Normal disconnection");
    let with_string = Packet::Disconnect(Disconnect {
        reason: ReasonCode::ServerShuttingDown,
        properties: props(PacketKind::Disconnect, vec![Property::ReasonString("maintenance".into())]),
    });
    assert_eq!(line(&with_string, false), "0x8B Server shutting down, \"maintenance\"");
}
