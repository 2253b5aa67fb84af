//! The packet inspector on MQTT 5.0 packets: a field for every property identifier, length and
//! value, and fields that together cover every byte of the packet exactly once.

use std::num::{NonZeroU16, NonZeroU32};

use super::*;
use crate::codec::v5::{PacketKind, Property, ReasonCode, Secret};

/// Checks that `fields` tile `0..len`: byte fields in order with no gap and no overlap, and the
/// bit fields of a byte (the first byte, CONNECT's flags) with disjoint masks covering all 8 bits.
fn assert_tiles(fields: &[Field], len: usize) {
    let mut masks: Vec<(usize, u8)> = Vec::new();
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for f in fields {
        match f.mask {
            Some(mask) => {
                assert_eq!(f.range.len(), 1, "{f:?}");
                if let Some((_, seen)) = masks.iter_mut().find(|(at, _)| *at == f.range.start) {
                    assert_eq!(*seen & mask, 0, "overlapping bits: {f:?}");
                    *seen |= mask;
                } else {
                    masks.push((f.range.start, mask));
                    ranges.push(f.range.clone());
                }
            }
            // An empty string or payload has an empty value field: nothing to cover.
            None if f.range.is_empty() => {}
            None => ranges.push(f.range.clone()),
        }
    }
    for (at, bits) in masks {
        assert_eq!(bits, 0xFF, "the bits of byte {at} are not all named");
    }
    ranges.sort_by_key(|r| r.start);
    let mut end = 0;
    for r in &ranges {
        assert_eq!(r.start, end, "gap or overlap at {r:?} in {fields:#?}");
        end = r.end;
    }
    assert_eq!(end, len, "the fields stop short of the end: {fields:#?}");
}

fn inspected(packet: &Packet) -> (Vec<u8>, Vec<Field>) {
    let bytes = round_trip_v5(packet);
    let inspection = inspect(&bytes, V5);
    assert_eq!(inspection.packet.as_ref(), Ok(packet));
    assert_tiles(&inspection.fields, bytes.len());
    (bytes, inspection.fields)
}

#[test]
fn each_property_has_an_identifier_a_length_and_a_value_field() {
    let list = vec![
        Property::PayloadFormatIndicator(true),
        Property::MessageExpiryInterval(60),
        Property::TopicAlias(NonZeroU16::new(2).unwrap()),
        Property::ResponseTopic("r/1".into()),
        Property::CorrelationData(Bytes::from_static(b"id")),
        user("a", "1"),
        user("a", "2"),
        Property::SubscriptionIdentifier(NonZeroU32::new(300).unwrap()),
        Property::ContentType("json".into()),
    ];
    let packet = Packet::Publish(Publish {
        dup: false,
        qos_pid: QosPid::AtLeastOnce(pid(1)),
        retain: false,
        topic: name("PV/x"),
        payload: Bytes::from_static(b"{}"),
        properties: props(PacketKind::PublishToClient, list.clone()),
    });
    let (bytes, fields) = inspected(&packet);
    let identifiers: Vec<&Field> = fields.iter().filter(|f| f.name.ends_with(" identifier")).collect();
    // "Packet identifier" is the PUBLISH's own; then one per property, in wire order.
    assert_eq!(identifiers[0].name, "Packet identifier");
    assert_eq!(identifiers.len(), 1 + list.len());
    for (field, property) in identifiers[1..].iter().zip(&list) {
        assert_eq!(field.name, format!("{} identifier", property.id().name()));
        assert_eq!(field.range.len(), 1);
        assert_eq!(bytes[field.range.start], property.id() as u8);
        assert_eq!(field.part, Part::VariableHeader);
    }
    let find = |n: &str| fields.iter().filter(|f| f.name == n).collect::<Vec<_>>();
    let length = find("Property length");
    assert_eq!(length.len(), 1);
    assert_eq!(length[0].value, packet_properties_len(&packet).to_string());
    assert_eq!(find("Message Expiry Interval")[0].value, "60");
    assert_eq!(find("Message Expiry Interval")[0].range.len(), 4);
    assert_eq!(find("Topic Alias")[0].value, "2");
    assert_eq!(find("Response Topic length")[0].value, "3");
    assert_eq!(&bytes[find("Response Topic")[0].range.clone()], b"r/1");
    assert_eq!(find("Subscription Identifier")[0].range.len(), 2, "300 is a two-byte variable integer");
    assert_eq!(find("Subscription Identifier")[0].value, "300");
    let values: Vec<&str> = find("User Property value").iter().map(|f| f.value.as_str()).collect();
    assert_eq!(values, ["\"1\"", "\"2\""]);
    assert_eq!(find("User Property name length").len(), 2);
    assert_eq!(find("Payload")[0].part, Part::Payload);
}

fn packet_properties_len(packet: &Packet) -> usize {
    let Packet::Publish(p) = packet else { unreachable!() };
    p.properties.encoded_len().unwrap() - 1
}

#[test]
fn every_v5_packet_is_covered_byte_for_byte() {
    let auth = props(
        PacketKind::Auth,
        vec![
            Property::AuthenticationMethod("SCRAM".into()),
            Property::AuthenticationData(Secret(Bytes::from_static(b"s"))),
        ],
    );
    let packets = vec![
        Packet::Connect(Box::new(Connect {
            bridge: false,
            protocol: V5,
            clean_session: true,
            keep_alive: 30,
            properties: props(
                PacketKind::Connect,
                vec![Property::SessionExpiryInterval(60), Property::ReceiveMaximum(NonZeroU16::new(5).unwrap())],
            ),
            client_id: "c".into(),
            will: Some(LastWill {
                topic: name("w"),
                payload: Bytes::from_static(b"bye"),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: props(PacketKind::Will, vec![Property::WillDelayInterval(5), user("k", "v")]),
            }),
            username: Some("u".into()),
            password: Some(Bytes::from_static(b"secret")),
        })),
        Packet::ConnAck(ConnAck {
            session_present: true,
            reason: ReasonCode::Success,
            properties: props(PacketKind::ConnAck, vec![Property::AssignedClientIdentifier("auto-1".into())]),
        }),
        Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain: false,
            topic: TopicName::alias_only(),
            payload: Bytes::new(),
            properties: props(PacketKind::PublishToClient, vec![Property::TopicAlias(NonZeroU16::new(1).unwrap())]),
        }),
        Packet::PubAck(pid(1).into()),
        Packet::PubRec(Ack::with_reason(pid(2), ReasonCode::NoMatchingSubscribers)),
        Packet::PubRel(Ack {
            pid: pid(3),
            reason: ReasonCode::PacketIdentifierNotFound,
            properties: props(PacketKind::PubRel, vec![Property::ReasonString("gone".into())]),
        }),
        Packet::Subscribe(Subscribe {
            pid: pid(4),
            properties: props(PacketKind::Subscribe, vec![Property::SubscriptionIdentifier(NonZeroU32::MIN)]),
            filters: vec![(filter("a/#"), SubOptions { no_local: true, ..SubOptions::from(QoS::AtLeastOnce) })],
        }),
        Packet::SubAck(SubAck {
            pid: pid(4),
            properties: Properties::default(),
            codes: vec![SubAckCode::Granted(QoS::AtLeastOnce), SubAckCode::Failure(ReasonCode::NotAuthorized)],
        }),
        Packet::Unsubscribe(Unsubscribe {
            pid: pid(5),
            properties: Properties::default(),
            filters: vec![filter("a/#")],
        }),
        Packet::UnsubAck(UnsubAck {
            pid: pid(5),
            properties: Properties::default(),
            reasons: vec![ReasonCode::Success],
        }),
        Packet::PingReq,
        Packet::Disconnect(Disconnect::with_reason(ReasonCode::DisconnectWithWillMessage)),
        Packet::Auth(Auth { reason: ReasonCode::ContinueAuthentication, properties: auth }),
    ];
    for packet in &packets {
        let (_, fields) = inspected(packet);
        for f in &fields {
            assert!(!f.value.contains("secret"), "{f:?}");
        }
    }
}

#[test]
fn the_inspector_names_the_options_and_reason_codes() {
    let (_, fields) = inspected(&Packet::Subscribe(Subscribe {
        pid: pid(1),
        properties: Properties::default(),
        filters: vec![(
            filter("t"),
            SubOptions {
                qos: QoS::ExactlyOnce,
                no_local: true,
                retain_as_published: false,
                retain_handling: RetainHandling::Never,
            },
        )],
    }));
    let options = fields.iter().find(|f| f.name == "Subscription options 1").unwrap();
    assert_eq!(options.value, "0x26 (QoS 2, no local 1, retain as published 0, retain handling 2)");
    let (_, fields) = inspected(&Packet::Disconnect(Disconnect::default()));
    assert_eq!(fields.len(), 3, "type, flags, remaining length: {fields:?}");
    let (_, fields) = inspected(&Packet::Disconnect(Disconnect::with_reason(ReasonCode::ServerShuttingDown)));
    assert_eq!(fields.last().unwrap().value, "0x8b (Server shutting down)");
    let bytes = framed(0xE0, &[0x00, 0x00]);
    let fields = inspect(&bytes, V5).fields;
    assert_eq!(fields.iter().find(|f| f.name == "Reason code").unwrap().value, "0x00 (Normal disconnection)");
    assert_tiles(&fields, bytes.len());
}

#[test]
fn fields_read_before_a_bad_property_are_kept() {
    // Topic Alias 0: the identifier and the value are listed, then the error.
    let bytes = framed(0x30, &[0, 1, b'a', 3, 0x23, 0, 0]);
    let inspection = inspect(&bytes, V5);
    assert!(inspection.packet.is_err());
    let names: Vec<&str> = inspection.fields.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"Topic name") && names.contains(&"Property length"), "{names:?}");
    assert!(names.contains(&"Topic Alias identifier"), "{names:?}");
}
