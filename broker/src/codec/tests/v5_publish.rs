//! PUBLISH on an MQTT 5.0 connection: properties forwarded in order, topic aliases, the
//! Response Topic, and what a 3.1.1 connection makes of the same packet.

use std::num::{NonZeroU16, NonZeroU32};

use super::*;
use crate::codec::v5::{PacketKind, Property, PropertyError, PropertyId, ReasonCode};

fn publish(topic: TopicName, properties: Properties) -> Publish {
    Publish {
        dup: false,
        qos_pid: QosPid::AtLeastOnce(pid(9)),
        retain: true,
        topic,
        payload: Bytes::from_static(b"21.5"),
        properties,
    }
}

fn alias(n: u16) -> Property {
    Property::TopicAlias(NonZeroU16::new(n).unwrap())
}

#[test]
fn publish_properties_round_trip_in_order_with_repeated_user_properties() {
    let list = vec![
        user("unit", "C"),
        Property::PayloadFormatIndicator(true),
        Property::MessageExpiryInterval(3600),
        user("unit", "F"),
        Property::ResponseTopic("PV/reply".into()),
        Property::CorrelationData(Bytes::from_static(&[0, 1, 2])),
        Property::ContentType("text/plain".into()),
        alias(3),
        user("sensor", "roof"),
    ];
    let p = publish(name("PV/temp"), props(PacketKind::PublishToClient, list.clone()));
    let bytes = round_trip_v5(&Packet::Publish(p.clone()));
    let Ok(Decoded::Packet(Packet::Publish(back), _)) = decode(&bytes, usize::MAX, V5) else { panic!() };
    assert_eq!(back.properties.as_slice(), list.as_slice(), "wire order kept");
    assert_eq!(
        back.properties.user_properties().collect::<Vec<_>>(),
        [("unit", "C"), ("unit", "F"), ("sensor", "roof")]
    );
    // The identifiers appear on the wire in the order given: topic "PV/temp", packet id, then
    // the property length and the first property, a User Property (0x26).
    let at = 2 + 2 + 7 + 2;
    assert_eq!(bytes[at + 1], 0x26);
    // A 3.1.1 subscriber gets the same message without the properties.
    let old = Packet::Publish(p.clone()).to_bytes(V311).unwrap();
    assert_eq!(old.len(), bytes.len() - p.properties.encoded_len().unwrap());
    let plain = Publish { properties: Properties::default(), ..p };
    assert_eq!(decode(&old, usize::MAX, V311), Ok(Decoded::Packet(Packet::Publish(plain), old.len())));
}

#[test]
fn a_publish_without_properties_takes_one_byte_more_than_in_3_1_1() {
    let p = Packet::Publish(publish(name("a"), Properties::default()));
    let bytes = round_trip_v5(&p);
    let old = p.to_bytes(V311).unwrap();
    assert_eq!(bytes.len(), old.len() + 1);
    assert_eq!(&body(&bytes)[..6], &[0, 1, b'a', 0, 9, 0], "property length 0 after the packet id");
}

#[test]
fn an_empty_topic_is_accepted_only_with_a_topic_alias() {
    let p = publish(TopicName::alias_only(), props(PacketKind::PublishToClient, vec![alias(7)]));
    let bytes = round_trip_v5(&Packet::Publish(p));
    assert_eq!(&body(&bytes)[..2], &[0, 0], "a zero-length topic on the wire");
    let Ok(Decoded::Packet(Packet::Publish(back), _)) = decode(&bytes, usize::MAX, V5) else { panic!() };
    assert!(back.topic.is_alias_only());
    // The alias alone names no topic on a 3.1.1 connection, and no alias, no topic in 5.0.
    let empty = [0x30, 3, 0, 0, 0];
    for err in [refused_v5(&empty), decode(&framed(0x30, &[0, 0]), usize::MAX, V311).unwrap_err()] {
        assert_eq!(err, DecodeError::Topic(TopicError::Empty { kind: "name" }));
        assert!(err.to_string().starts_with("[MQTT-4.7.3-1]"), "{err}");
    }
    // Other properties do not stand in for the alias.
    let err = refused_v5(&framed(0x30, &[0, 0, 2, 0x01, 1]));
    assert_eq!(err, DecodeError::Topic(TopicError::Empty { kind: "name" }));
    // A topic and an alias together set the alias: both kept.
    let p = publish(name("PV/data"), props(PacketKind::PublishToClient, vec![alias(7)]));
    round_trip_v5(&Packet::Publish(p));
}

#[test]
fn topic_alias_0_is_refused() {
    let err = refused_v5(&framed(0x30, &[0, 1, b'a', 3, 0x23, 0, 0]));
    assert_eq!(err, DecodeError::Property(PropertyError::Zero { id: PropertyId::TopicAlias, rule: "3.3.2-8" }));
    assert!(err.to_string().starts_with("[MQTT-3.3.2-8]"), "{err}");
    assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
    // Also on an alias-only PUBLISH: 0 is no alias.
    assert_eq!(refused_v5(&framed(0x30, &[0, 0, 3, 0x23, 0, 0])), err);
}

#[test]
fn a_response_topic_with_a_wildcard_is_refused() {
    for topic in ["PV/+", "#", "a/#"] {
        let mut block = vec![0x08, 0, topic.len() as u8];
        block.extend_from_slice(topic.as_bytes());
        let mut body = vec![0, 1, b'a', block.len() as u8];
        body.extend_from_slice(&block);
        let err = refused_v5(&framed(0x30, &body));
        let why = TopicError::WildcardInName(topic.into());
        assert_eq!(err, DecodeError::InvalidResponseTopic { topic: topic.into(), why });
        assert!(err.to_string().starts_with("[MQTT-3.3.2-14]"), "{err}");
        assert_eq!(err.reason_code(), ReasonCode::TopicNameInvalid);
    }
    let err = refused_v5(&framed(0x30, &[0, 1, b'a', 3, 0x08, 0, 0]));
    assert!(matches!(&err, DecodeError::InvalidResponseTopic { why: TopicError::Empty { .. }, .. }), "{err}");
}

#[test]
fn properties_a_publish_may_not_carry_are_refused() {
    let cases: [(&[u8], DecodeError); 3] = [
        // Session Expiry Interval belongs to CONNECT, CONNACK and DISCONNECT.
        (
            &[0, 1, b'a', 5, 0x11, 0, 0, 0, 1],
            DecodeError::Property(PropertyError::NotAllowed {
                id: PropertyId::SessionExpiryInterval,
                packet: PacketKind::PublishToClient,
            }),
        ),
        (
            &[0, 1, b'a', 6, 0x23, 0, 1, 0x23, 0, 2],
            DecodeError::Property(PropertyError::Duplicate {
                id: PropertyId::TopicAlias,
                packet: PacketKind::PublishToClient,
                section: "3.3.2.3.4",
            }),
        ),
        (
            &[0, 1, b'a', 2, 0x01, 2],
            DecodeError::Property(PropertyError::NotZeroOrOne {
                id: PropertyId::PayloadFormatIndicator,
                section: "3.3.2.3.2",
                value: 2,
            }),
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(refused_v5(&framed(0x30, body)), expected);
    }
}

/// The decoder reads both directions alike: a server's PUBLISH may carry one Subscription
/// Identifier per matching subscription; the broker itself refuses one from a client.
#[test]
fn a_publish_to_a_client_may_carry_several_subscription_identifiers() {
    let ids = [1, 268_435_455].map(|n| Property::SubscriptionIdentifier(NonZeroU32::new(n).unwrap()));
    let p = publish(name("PV/data"), props(PacketKind::PublishToClient, ids.to_vec()));
    round_trip_v5(&Packet::Publish(p));
    let from_client = Properties::new(PacketKind::PublishToServer, ids[..1].to_vec());
    assert_eq!(from_client, Err(PropertyError::SubscriptionIdFromClient));
}

#[test]
fn the_same_3_1_1_bytes_decode_as_before_on_a_3_1_1_connection() {
    // Bytes as a 3.1.1 client sends them, and what they meant before MQTT 5.0 was added.
    let cases: [(&[u8], Packet); 6] = [
        (
            &[0x30, 5, 0, 1, b'a', b'h', b'i'],
            Packet::Publish(Publish {
                dup: false,
                qos_pid: QosPid::AtMostOnce,
                retain: false,
                topic: name("a"),
                payload: Bytes::from_static(b"hi"),
                properties: Properties::default(),
            }),
        ),
        (&[0x40, 2, 0, 7], Packet::PubAck(pid(7).into())),
        (&[0x62, 2, 0, 7], Packet::PubRel(pid(7).into())),
        (
            &[0x90, 4, 0, 2, 0x01, 0x80],
            Packet::SubAck(SubAck {
                pid: pid(2),
                properties: Properties::default(),
                codes: vec![SubAckCode::Granted(QoS::AtLeastOnce), SubAckCode::FAILURE],
            }),
        ),
        (&[0xB0, 2, 0, 3], Packet::UnsubAck(UnsubAck::new(pid(3)))),
        (&[0xE0, 0], Packet::disconnect()),
    ];
    for (bytes, packet) in cases {
        assert_eq!(decode(bytes, usize::MAX, V311), Ok(Decoded::Packet(packet.clone(), bytes.len())), "{bytes:02x?}");
        assert_eq!(&packet.to_bytes(V311).unwrap()[..], bytes);
    }
    // On a 5.0 connection the PUBLISH's first payload byte would be its property length: the
    // protocol decides, not the bytes.
    assert!(decode(&[0x30, 5, 0, 1, b'a', b'h', b'i'], usize::MAX, V5).is_err());
}
