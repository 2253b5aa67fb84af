//! Round trips, tables of bad input and the spec's tables for MQTT 5.0 properties and reason codes.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{Bytes, BytesMut};

use super::*;
use crate::codec::{EncodeError, Part, QoS};

/// A property `id` built from raw material: `n` for numbers, `s` for strings, `b` for binary.
fn make(id: PropertyId, n: u32, s: &str, b: &[u8]) -> Property {
    use Property as V;
    use PropertyId as P;
    let flag = n & 1 == 1;
    let s = s.to_owned();
    let b = Bytes::copy_from_slice(b);
    let two = NonZeroU16::new((n as u16).max(1)).unwrap();
    let four = NonZeroU32::new(n.max(1)).unwrap();
    match id {
        P::PayloadFormatIndicator => V::PayloadFormatIndicator(flag),
        P::MessageExpiryInterval => V::MessageExpiryInterval(n),
        P::ContentType => V::ContentType(s),
        P::ResponseTopic => V::ResponseTopic(s),
        P::CorrelationData => V::CorrelationData(b),
        P::SubscriptionIdentifier => V::SubscriptionIdentifier(NonZeroU32::new(n % 268_435_455 + 1).unwrap()),
        P::SessionExpiryInterval => V::SessionExpiryInterval(n),
        P::AssignedClientIdentifier => V::AssignedClientIdentifier(s),
        P::ServerKeepAlive => V::ServerKeepAlive(n as u16),
        P::AuthenticationMethod => V::AuthenticationMethod(s),
        P::AuthenticationData => V::AuthenticationData(super::properties::Secret(b)),
        P::RequestProblemInformation => V::RequestProblemInformation(flag),
        P::WillDelayInterval => V::WillDelayInterval(n),
        P::RequestResponseInformation => V::RequestResponseInformation(flag),
        P::ResponseInformation => V::ResponseInformation(s),
        P::ServerReference => V::ServerReference(s),
        P::ReasonString => V::ReasonString(s),
        P::ReceiveMaximum => V::ReceiveMaximum(two),
        P::TopicAliasMaximum => V::TopicAliasMaximum(n as u16),
        P::TopicAlias => V::TopicAlias(two),
        P::MaximumQos => V::MaximumQos(if flag { QoS::AtLeastOnce } else { QoS::AtMostOnce }),
        P::RetainAvailable => V::RetainAvailable(flag),
        P::UserProperty => V::UserProperty(s.clone(), format!("{s}!")),
        P::MaximumPacketSize => V::MaximumPacketSize(four),
        P::WildcardSubscriptionAvailable => V::WildcardSubscriptionAvailable(flag),
        P::SubscriptionIdentifiersAvailable => V::SubscriptionIdentifiersAvailable(flag),
        P::SharedSubscriptionAvailable => V::SharedSubscriptionAvailable(flag),
    }
}

fn sample(id: PropertyId) -> Property {
    make(id, 300, "PV/données", &[0, 1, 0xFF])
}

/// A property block: the one-byte Property Length, then `body`.
fn block(body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![u8::try_from(body.len()).unwrap()];
    bytes.extend_from_slice(body);
    bytes
}

/// Encodes, checks the length said beforehand, decodes, and answers the bytes.
fn assert_round_trip(kind: PacketKind, properties: &Properties) -> BytesMut {
    let mut buf = BytesMut::new();
    properties.encode(&mut buf).unwrap();
    assert_eq!(buf.len(), properties.encoded_len().unwrap(), "{properties:?}");
    let (decoded, end) = Properties::decode(&buf, 0, kind).unwrap();
    assert_eq!(&decoded, properties);
    assert_eq!(end, buf.len());
    buf
}

#[test]
fn every_property_round_trips_with_the_exact_length_of_its_value_type() {
    for id in PropertyId::ALL {
        let p = sample(id);
        assert_eq!(p.id(), id);
        assert_eq!(p.value().value_type(), id.value_type(), "{id}");
        let value_len = match id.value_type() {
            ValueType::Byte => 1,
            // The Subscription Identifier is 301: a two-byte variable byte integer.
            ValueType::TwoByteInteger | ValueType::VariableByteInteger => 2,
            ValueType::FourByteInteger => 4,
            ValueType::Utf8String => 2 + "PV/données".len(),
            ValueType::BinaryData => 2 + 3,
            ValueType::Utf8StringPair => 2 + 11 + 2 + 12,
        };
        // Alone it is valid somewhere: not in a PUBLISH from a client, nor (Authentication Data) in CONNECT.
        let (kind, properties) =
            id.packets().find_map(|k| Properties::new(k, vec![p.clone()]).ok().map(|ps| (k, ps))).unwrap();
        let bytes = assert_round_trip(kind, &properties);
        assert_eq!(bytes.len(), 1 + 1 + value_len, "{id}");
        assert_eq!(bytes[1], id as u8);
    }
}

#[test]
fn encoded_bytes_are_exactly_the_spec_layout() {
    let properties = Properties::new(
        PacketKind::Connect,
        vec![Property::SessionExpiryInterval(0x78), Property::UserProperty("a".into(), "b".into())],
    )
    .unwrap();
    let bytes = assert_round_trip(PacketKind::Connect, &properties);
    assert_eq!(&bytes[..], &[12, 0x11, 0, 0, 0, 0x78, 0x26, 0, 1, b'a', 0, 1, b'b']);
    assert_eq!(Properties::default().encoded_len(), Ok(1));
    assert_eq!(&assert_round_trip(PacketKind::PubAck, &Properties::default())[..], &[0]);
}

#[test]
fn subscription_identifiers_use_the_shortest_variable_byte_integer() {
    for (value, len) in
        [(1, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (2_097_151, 3), (2_097_152, 4), (268_435_455, 4)]
    {
        let p = Property::SubscriptionIdentifier(NonZeroU32::new(value).unwrap());
        let properties = Properties::new(PacketKind::Subscribe, vec![p]).unwrap();
        assert_eq!(assert_round_trip(PacketKind::Subscribe, &properties).len(), 1 + 1 + len, "{value}");
    }
}

#[test]
fn a_long_block_has_a_two_byte_property_length() {
    let pairs = (0..20).map(|i| Property::UserProperty(format!("key{i}"), "value".into())).collect();
    let properties = Properties::new(PacketKind::Disconnect, pairs).unwrap();
    let bytes = assert_round_trip(PacketKind::Disconnect, &properties);
    assert_eq!(bytes.len(), 2 + 20 * (1 + 2 + 4 + 2 + 5) + 10);
    assert_eq!(bytes[0] & 0x80, 0x80);
}

#[test]
fn user_properties_keep_their_order_and_may_repeat() {
    let user = |k: &str, v: &str| Property::UserProperty(k.into(), v.into());
    let list =
        vec![user("unit", "W"), Property::ContentType("text/plain".into()), user("site", "PV"), user("unit", "kW")];
    let properties = Properties::new(PacketKind::PublishToServer, list.clone()).unwrap();
    let bytes = assert_round_trip(PacketKind::PublishToServer, &properties);
    let (decoded, _) = Properties::decode(&bytes, 0, PacketKind::PublishToServer).unwrap();
    assert_eq!(decoded.user_properties().collect::<Vec<_>>(), [("unit", "W"), ("site", "PV"), ("unit", "kW")]);
    assert_eq!(decoded.into_vec(), list);
}

#[test]
fn subscription_identifiers_repeat_only_in_a_publish_to_a_client() {
    let ids = vec![
        make(PropertyId::SubscriptionIdentifier, 1, "", &[]),
        make(PropertyId::SubscriptionIdentifier, 7, "", &[]),
    ];
    let properties = Properties::new(PacketKind::PublishToClient, ids.clone()).unwrap();
    let bytes = assert_round_trip(PacketKind::PublishToClient, &properties);
    assert_eq!(
        Properties::decode(&bytes, 0, PacketKind::Subscribe),
        Err(PropertyError::Duplicate {
            id: PropertyId::SubscriptionIdentifier,
            packet: PacketKind::Subscribe,
            section: "3.8.2.1.2"
        })
    );
    assert_eq!(Properties::new(PacketKind::PublishToServer, ids), Err(PropertyError::SubscriptionIdFromClient));
}

#[test]
fn a_connect_block_may_hold_every_property_connect_allows() {
    let mut list: Vec<Property> = PacketKind::Connect.properties().iter().map(|(id, _)| sample(*id)).collect();
    list.push(make(PropertyId::UserProperty, 0, "second", &[]));
    assert_eq!(list.len(), 10);
    let properties = Properties::new(PacketKind::Connect, list).unwrap();
    assert_round_trip(PacketKind::Connect, &properties);
    assert_eq!(properties.get(PropertyId::ReceiveMaximum), Some(&make(PropertyId::ReceiveMaximum, 300, "", &[])));
    assert_eq!(properties.user_properties().count(), 2);
    for kind in PacketKind::ALL.into_iter().filter(|k| *k != PacketKind::Connect) {
        assert!(Properties::new(kind, properties.clone().into_vec()).is_err(), "{kind}");
    }
}

#[test]
fn decode_starts_at_an_offset_and_answers_where_the_block_ends() {
    let mut packet = vec![0x30, 0x09, 0, 1, b't'];
    packet.extend(block(&[0x23, 0, 5]));
    packet.extend_from_slice(b"pay");
    let (properties, end) = Properties::decode(&packet, 5, PacketKind::PublishToServer).unwrap();
    assert_eq!(properties.as_slice(), [Property::TopicAlias(NonZeroU16::new(5).unwrap())]);
    assert_eq!(&packet[end..], b"pay");
}

#[test]
fn inspect_records_the_identifier_length_and_value_of_each_property() {
    let mut packet = vec![0xAA, 0xBB];
    packet.extend(block(&[0x03, 0, 4, b't', b'e', b'x', b't', 0x02, 0, 0, 0, 60, 0x16, 0, 2, 1, 2]));
    let mut fields = Vec::new();
    let err = Properties::inspect(&packet, 2, PacketKind::Will, &mut fields).unwrap_err();
    assert_eq!(err, PropertyError::NotAllowed { id: PropertyId::AuthenticationData, packet: PacketKind::Will });
    let seen: Vec<_> = fields.iter().map(|f| (f.name.as_str(), f.range.clone(), f.value.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("Property length", 2..3, "17"),
            ("Content Type identifier", 3..4, "0x03"),
            ("Content Type length", 4..6, "4"),
            ("Content Type", 6..10, "\"text\""),
            ("Message Expiry Interval identifier", 10..11, "0x02"),
            ("Message Expiry Interval", 11..15, "60"),
            ("Authentication Data identifier", 15..16, "0x16"),
        ]
    );
    assert!(fields.iter().all(|f| f.part == Part::Payload && f.mask.is_none()));

    let mut fields = Vec::new();
    Properties::inspect(&block(&[0x16, 0, 2, 1, 2, 0x15, 0, 1, b'x']), 0, PacketKind::Auth, &mut fields).unwrap();
    assert_eq!(fields[3].value, "<2 bytes>", "authentication data shows only its length");
    assert_eq!(fields[0].part, Part::VariableHeader);
}

#[test]
fn an_undefined_identifier_is_recorded_before_the_error() {
    let mut fields = Vec::new();
    let err = Properties::inspect(&block(&[0x05, 0]), 0, PacketKind::Connect, &mut fields).unwrap_err();
    assert_eq!(err, PropertyError::UnknownIdentifier(5));
    assert_eq!((fields[1].name.as_str(), fields[1].value.as_str()), ("Property identifier", "0x05 (not defined)"));
}

#[test]
fn built_properties_are_checked_like_decoded_ones() {
    let cases = [
        (
            PacketKind::Connect,
            vec![sample(PropertyId::TopicAlias)],
            "[MQTT-2.2.2.2] Topic Alias (0x23) is not allowed in CONNECT",
        ),
        (
            PacketKind::ConnAck,
            vec![Property::MaximumQos(QoS::ExactlyOnce)],
            "[MQTT-3.2.2.3.4] Maximum QoS (0x24) must be 0 or 1, got 2",
        ),
        (
            PacketKind::Subscribe,
            vec![Property::SubscriptionIdentifier(NonZeroU32::new(268_435_456).unwrap())],
            "[MQTT-1.5.5] Subscription Identifier 268435456 is more than 268435455, the largest variable byte integer",
        ),
        (
            PacketKind::PubAck,
            vec![Property::ReasonString("a\0b".into())],
            "[MQTT-1.5.4-2] Reason String contains the null character U+0000",
        ),
        (
            PacketKind::Auth,
            vec![Property::UserProperty("k".into(), "\0".into())],
            "[MQTT-1.5.4-2] User Property value contains the null character U+0000",
        ),
        (
            PacketKind::Disconnect,
            vec![sample(PropertyId::ReasonString), sample(PropertyId::ReasonString)],
            "[MQTT-3.14.2.2.3] Reason String (0x1f) appears more than once in DISCONNECT, which is a Protocol Error",
        ),
        (
            PacketKind::Connect,
            vec![sample(PropertyId::AuthenticationData)],
            "[MQTT-3.1.2.11.10] CONNECT has Authentication Data but no Authentication Method",
        ),
    ];
    for (kind, list, message) in cases {
        assert_eq!(Properties::new(kind, list).unwrap_err().to_string(), message);
    }
    let too_long = Properties::new(PacketKind::PubAck, vec![Property::ReasonString("x".repeat(65_536))]).unwrap();
    assert_eq!(too_long.encoded_len(), Err(EncodeError::StringTooLong { what: "Reason String", len: 65_536 }));
    assert!(matches!(Properties::new(PacketKind::Will, vec![]), Ok(p) if p.is_empty()));
}

mod bad_input;
mod tables;

#[test]
fn authentication_data_never_shows_in_debug() {
    let secret = Property::AuthenticationData(super::Secret(bytes::Bytes::from_static(b"hunter2-token")));
    let text = format!("{secret:?}");
    assert_eq!(text, "AuthenticationData(<13 bytes>)");
}
