//! Every rule the property decoder enforces: the bytes, the error, its rule and its reason code.

use proptest::prelude::*;

use super::*;

#[test]
fn each_broken_rule_is_an_error_naming_it_and_the_reason_code_to_send() {
    use PacketKind as K;
    use PropertyError as E;
    use PropertyId as P;
    let malformed = ReasonCode::MalformedPacket;
    let protocol = ReasonCode::ProtocolError;
    let not_bool = |id, section, value| E::NotZeroOrOne { id, section, value };
    #[rustfmt::skip]
    let table: Vec<(K, Vec<u8>, E, &str, ReasonCode)> = vec![
        // Where a property may appear (table of 2.2.2.2, and 3.3.4 for PUBLISH from a client).
        (K::Connect, block(&[0x23, 0, 1]), E::NotAllowed { id: P::TopicAlias, packet: K::Connect }, "[MQTT-2.2.2.2]", malformed),
        (K::PubRel, block(&[0x0B, 1]), E::NotAllowed { id: P::SubscriptionIdentifier, packet: K::PubRel }, "[MQTT-2.2.2.2]", malformed),
        (K::Connect, block(&[0x05, 0]), E::UnknownIdentifier(5), "[MQTT-2.2.2.2]", malformed),
        (K::PublishToServer, block(&[0x0B, 1]), E::SubscriptionIdFromClient, "[MQTT-3.3.4-6]", protocol),
        // At most once, but User Property (and Subscription Identifier to a client).
        (K::Connect, block(&[0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2]),
            E::Duplicate { id: P::SessionExpiryInterval, packet: K::Connect, section: "3.1.2.11.2" }, "[MQTT-3.1.2.11.2]", protocol),
        (K::ConnAck, block(&[0x21, 0, 9, 0x21, 0, 9]),
            E::Duplicate { id: P::ReceiveMaximum, packet: K::ConnAck, section: "3.2.2.3.3" }, "[MQTT-3.2.2.3.3]", protocol),
        (K::Subscribe, block(&[0x0B, 1, 0x0B, 2]),
            E::Duplicate { id: P::SubscriptionIdentifier, packet: K::Subscribe, section: "3.8.2.1.2" }, "[MQTT-3.8.2.1.2]", protocol),
        (K::Connect, block(&[0x16, 0, 1, 9]), E::AuthenticationDataWithoutMethod, "[MQTT-3.1.2.11.10]", protocol),
        // Variable byte integers: at most 4 bytes, and the shortest encoding.
        (K::Connect, vec![0x80, 0x80, 0x80, 0x80, 0x01], E::VariableIntegerTooLong { what: "Property length" }, "[MQTT-1.5.5]", malformed),
        (K::Subscribe, block(&[0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
            E::VariableIntegerTooLong { what: "Subscription Identifier" }, "[MQTT-1.5.5]", malformed),
        (K::Connect, vec![0x80, 0x00], E::VariableIntegerNotMinimal { what: "Property length" }, "[MQTT-1.5.5-1]", malformed),
        (K::Subscribe, block(&[0x0B, 0x81, 0x00]),
            E::VariableIntegerNotMinimal { what: "Subscription Identifier" }, "[MQTT-1.5.5-1]", malformed),
        (K::Connect, block(&[0x91, 0x00, 0, 0, 0, 1]),
            E::VariableIntegerNotMinimal { what: "property identifier" }, "[MQTT-1.5.5-1]", malformed),
        // Lengths: the block inside the packet, each value inside the block.
        (K::Connect, vec![5, 0x11, 0, 0], E::LengthBeyondPacket { len: 5, available: 3 }, "[MQTT-2.2.2.1]", malformed),
        (K::Connect, vec![], E::Truncated { what: "Property length", within: "the packet" }, "[MQTT-2.2.2]", malformed),
        (K::Connect, vec![0x80], E::Truncated { what: "Property length", within: "the packet" }, "[MQTT-2.2.2]", malformed),
        (K::Connect, vec![3, 0x11, 0, 0, 0, 1],
            E::Truncated { what: "Session Expiry Interval", within: "the property block" }, "[MQTT-2.2.2]", malformed),
        (K::PubAck, vec![4, 0x1F, 0, 5, b'a', b'b', b'c', b'd', b'e'],
            E::Truncated { what: "Reason String", within: "the property block" }, "[MQTT-2.2.2]", malformed),
        (K::Subscribe, vec![2, 0x0B, 0x80, 0x01],
            E::Truncated { what: "Subscription Identifier", within: "the property block" }, "[MQTT-2.2.2]", malformed),
        // UTF-8 strings: well-formed, no surrogates, no U+0000.
        (K::PubAck, block(&[0x1F, 0, 2, 0xC3, 0x28]), E::InvalidUtf8 { what: "Reason String" }, "[MQTT-1.5.4-1]", malformed),
        (K::Will, block(&[0x03, 0, 3, 0xED, 0xA0, 0x80]), E::InvalidUtf8 { what: "Content Type" }, "[MQTT-1.5.4-1]", malformed),
        (K::PubAck, block(&[0x1F, 0, 2, b'a', 0]), E::NullCharacter { what: "Reason String" }, "[MQTT-1.5.4-2]", malformed),
        (K::UnsubAck, block(&[0x26, 0, 1, b'k', 0, 1, 0]),
            E::NullCharacter { what: "User Property value" }, "[MQTT-1.5.4-2]", malformed),
        (K::Unsubscribe, block(&[0x26, 0, 1, 0xFF, 0, 0]),
            E::InvalidUtf8 { what: "User Property name" }, "[MQTT-1.5.4-1]", malformed),
        // Values the protocol forbids.
        (K::PublishToClient, block(&[0x23, 0, 0]), E::Zero { id: P::TopicAlias, rule: "3.3.2-8" }, "[MQTT-3.3.2-8]", protocol),
        (K::Subscribe, block(&[0x0B, 0]), E::Zero { id: P::SubscriptionIdentifier, rule: "3.8.2.1.2" }, "[MQTT-3.8.2.1.2]", protocol),
        (K::PublishToClient, block(&[0x0B, 0]),
            E::Zero { id: P::SubscriptionIdentifier, rule: "3.3.2.3.8" }, "[MQTT-3.3.2.3.8]", protocol),
        (K::Connect, block(&[0x21, 0, 0]), E::Zero { id: P::ReceiveMaximum, rule: "3.1.2.11.3" }, "[MQTT-3.1.2.11.3]", protocol),
        (K::Connect, block(&[0x27, 0, 0, 0, 0]), E::Zero { id: P::MaximumPacketSize, rule: "3.1.2.11.4" }, "[MQTT-3.1.2.11.4]", protocol),
        (K::ConnAck, block(&[0x27, 0, 0, 0, 0]), E::Zero { id: P::MaximumPacketSize, rule: "3.2.2.3.6" }, "[MQTT-3.2.2.3.6]", protocol),
        (K::Will, block(&[0x01, 2]), not_bool(P::PayloadFormatIndicator, "3.1.3.2.3", 2), "[MQTT-3.1.3.2.3]", protocol),
        (K::PublishToServer, block(&[0x01, 0xFF]), not_bool(P::PayloadFormatIndicator, "3.3.2.3.2", 255), "[MQTT-3.3.2.3.2]", protocol),
        (K::Connect, block(&[0x17, 2]), not_bool(P::RequestProblemInformation, "3.1.2.11.7", 2), "[MQTT-3.1.2.11.7]", protocol),
        (K::Connect, block(&[0x19, 5]), not_bool(P::RequestResponseInformation, "3.1.2.11.6", 5), "[MQTT-3.1.2.11.6]", protocol),
        (K::ConnAck, block(&[0x24, 2]), not_bool(P::MaximumQos, "3.2.2.3.4", 2), "[MQTT-3.2.2.3.4]", protocol),
        (K::ConnAck, block(&[0x25, 2]), not_bool(P::RetainAvailable, "3.2.2.3.5", 2), "[MQTT-3.2.2.3.5]", protocol),
        (K::ConnAck, block(&[0x28, 2]), not_bool(P::WildcardSubscriptionAvailable, "3.2.2.3.11", 2), "[MQTT-3.2.2.3.11]", protocol),
        (K::ConnAck, block(&[0x29, 3]), not_bool(P::SubscriptionIdentifiersAvailable, "3.2.2.3.12", 3), "[MQTT-3.2.2.3.12]", protocol),
        (K::ConnAck, block(&[0x2A, 9]), not_bool(P::SharedSubscriptionAvailable, "3.2.2.3.13", 9), "[MQTT-3.2.2.3.13]", protocol),
    ];
    for (kind, bytes, expected, rule, reason) in table {
        let err = Properties::decode(&bytes, 0, kind).unwrap_err();
        assert_eq!(err, expected, "{kind} {bytes:02x?}");
        assert!(err.to_string().starts_with(rule), "{err}");
        assert_eq!(err.reason_code(), reason, "{err}");
        let mut fields = Vec::new();
        assert_eq!(Properties::inspect(&bytes, 0, kind, &mut fields), Err(expected), "inspect agrees");
    }
}

#[test]
fn the_edge_values_next_to_the_forbidden_ones_are_accepted() {
    for (kind, body) in [
        (PacketKind::PublishToClient, vec![0x23, 0, 1]),
        (PacketKind::Subscribe, vec![0x0B, 0xFF, 0xFF, 0xFF, 0x7F]),
        (PacketKind::Connect, vec![0x21, 0xFF, 0xFF, 0x27, 0, 0, 0, 1, 0x17, 1, 0x19, 0]),
        (PacketKind::ConnAck, vec![0x24, 1, 0x25, 0, 0x28, 1, 0x29, 0, 0x2A, 1]),
        (PacketKind::Will, vec![0x01, 1, 0x03, 0, 3, 0xEF, 0xBB, 0xBF]),
    ] {
        let bytes = block(&body);
        assert_eq!(Properties::decode(&bytes, 0, kind).map(|(_, end)| end), Ok(bytes.len()), "{kind} {body:02x?}");
    }
}

/// Any property `id` allows, its value drawn from raw material.
fn property(id: PropertyId) -> impl Strategy<Value = Property> {
    (any::<u32>(), "[a-z0-9/ é]{0,8}", prop::collection::vec(any::<u8>(), 0..8))
        .prop_map(move |(n, s, b)| make(id, n, &s, &b))
}

/// A valid block for some packet: each allowed property at most once, user properties repeated,
/// in any order.
fn properties() -> impl Strategy<Value = (PacketKind, Properties)> {
    prop::sample::select(PacketKind::ALL.to_vec()).prop_flat_map(|kind| {
        let optional: Vec<_> = kind
            .properties()
            .iter()
            .filter(|(id, _)| kind != PacketKind::PublishToServer || *id != PropertyId::SubscriptionIdentifier)
            .map(|(id, _)| prop::option::of(property(*id)))
            .collect();
        let users = prop::collection::vec(property(PropertyId::UserProperty), 0..4);
        (optional, users)
            .prop_map(|(optional, users)| optional.into_iter().flatten().chain(users).collect::<Vec<_>>())
            .prop_shuffle()
            .prop_filter_map("authentication data needs a method", move |list| {
                Properties::new(kind, list).ok().map(|p| (kind, p))
            })
    })
}

proptest! {
    #[test]
    fn arbitrary_properties_round_trip((kind, properties) in properties()) {
        let mut buf = BytesMut::new();
        properties.encode(&mut buf).unwrap();
        prop_assert_eq!(buf.len(), properties.encoded_len().unwrap());
        prop_assert_eq!(Properties::decode(&buf, 0, kind), Ok((properties, buf.len())));
    }

    /// Decoding never panics, and whatever it accepts re-encodes to the very same bytes: every
    /// encoding it accepts is the only one (shortest integers, no duplicates to reorder).
    #[test]
    fn arbitrary_bytes_never_panic_and_accepted_ones_encode_back(
        kind in prop::sample::select(PacketKind::ALL.to_vec()),
        bytes in prop::collection::vec(any::<u8>(), 0..48),
    ) {
        let mut fields = Vec::new();
        let inspected = Properties::inspect(&bytes, 0, kind, &mut fields);
        prop_assert_eq!(&inspected, &Properties::decode(&bytes, 0, kind));
        if let Ok((properties, end)) = inspected {
            let mut buf = BytesMut::new();
            properties.encode(&mut buf).unwrap();
            prop_assert_eq!(&buf[..], &bytes[..end]);
        }
    }
}
