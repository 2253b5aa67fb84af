//! The code's tables checked against the specification's: property identifiers (2.2.2.2) and
//! reason codes (2.4), each written here a second time, straight from the spec's table.

use super::*;

/// The table's name for where a property sits: both PUBLISH directions are "PUBLISH".
fn table_name(kind: PacketKind) -> &'static str {
    match kind {
        PacketKind::Will => "Will Properties",
        PacketKind::PublishToServer | PacketKind::PublishToClient => "PUBLISH",
        other => other.name(),
    }
}

#[test]
fn the_property_table_matches_section_2_2_2_2() {
    use ValueType as V;
    #[rustfmt::skip]
    let table: [(u8, &str, ValueType, &str); 27] = [
        (0x01, "Payload Format Indicator", V::Byte, "Will Properties, PUBLISH"),
        (0x02, "Message Expiry Interval", V::FourByteInteger, "Will Properties, PUBLISH"),
        (0x03, "Content Type", V::Utf8String, "Will Properties, PUBLISH"),
        (0x08, "Response Topic", V::Utf8String, "Will Properties, PUBLISH"),
        (0x09, "Correlation Data", V::BinaryData, "Will Properties, PUBLISH"),
        (0x0B, "Subscription Identifier", V::VariableByteInteger, "PUBLISH, SUBSCRIBE"),
        (0x11, "Session Expiry Interval", V::FourByteInteger, "CONNECT, CONNACK, DISCONNECT"),
        (0x12, "Assigned Client Identifier", V::Utf8String, "CONNACK"),
        (0x13, "Server Keep Alive", V::TwoByteInteger, "CONNACK"),
        (0x15, "Authentication Method", V::Utf8String, "CONNECT, CONNACK, AUTH"),
        (0x16, "Authentication Data", V::BinaryData, "CONNECT, CONNACK, AUTH"),
        (0x17, "Request Problem Information", V::Byte, "CONNECT"),
        (0x18, "Will Delay Interval", V::FourByteInteger, "Will Properties"),
        (0x19, "Request Response Information", V::Byte, "CONNECT"),
        (0x1A, "Response Information", V::Utf8String, "CONNACK"),
        (0x1C, "Server Reference", V::Utf8String, "CONNACK, DISCONNECT"),
        (0x1F, "Reason String", V::Utf8String, "CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH"),
        (0x21, "Receive Maximum", V::TwoByteInteger, "CONNECT, CONNACK"),
        (0x22, "Topic Alias Maximum", V::TwoByteInteger, "CONNECT, CONNACK"),
        (0x23, "Topic Alias", V::TwoByteInteger, "PUBLISH"),
        (0x24, "Maximum QoS", V::Byte, "CONNACK"),
        (0x25, "Retain Available", V::Byte, "CONNACK"),
        (0x26, "User Property", V::Utf8StringPair,
            "CONNECT, Will Properties, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH"),
        (0x27, "Maximum Packet Size", V::FourByteInteger, "CONNECT, CONNACK"),
        (0x28, "Wildcard Subscription Available", V::Byte, "CONNACK"),
        (0x29, "Subscription Identifier Available", V::Byte, "CONNACK"),
        (0x2A, "Shared Subscription Available", V::Byte, "CONNACK"),
    ];
    for (n, name, value_type, packets) in table {
        let id = PropertyId::from_u32(n.into()).unwrap();
        assert_eq!(id as u8, n);
        assert_eq!((id.name(), id.value_type()), (name, value_type), "{id}");
        let mut derived: Vec<_> = id.packets().map(table_name).collect();
        derived.dedup();
        assert_eq!(derived.join(", "), packets, "{id}");
    }
    assert_eq!(PropertyId::ALL.len(), 27);
    let undefined = (0..=0x7F).filter(|n| PropertyId::from_u32(*n).is_none()).count();
    assert_eq!(undefined, 128 - 27);
    assert_eq!(PropertyId::from_u32(0x10B), None, "a two-byte identifier is not 0x0B");
}

#[test]
fn each_packet_lists_its_properties_once_in_increasing_sections() {
    for kind in PacketKind::ALL {
        let list = kind.properties();
        for (i, (id, section)) in list.iter().enumerate() {
            assert_eq!(list.iter().filter(|(p, _)| p == id).count(), 1, "{kind} {id}");
            let last: usize = section.rsplit('.').next().unwrap().parse().unwrap();
            assert_eq!(last, i + 2, "{kind} {id}: section {section} (x.1 is the Property Length)");
        }
        assert!(kind.may_repeat(PropertyId::UserProperty));
    }
}

#[test]
fn the_reason_code_table_matches_section_2_4() {
    #[rustfmt::skip]
    let table: [(u8, &str, &str); 43] = [
        (0x00, "Success", "CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH"),
        (0x01, "Granted QoS 1", "SUBACK"),
        (0x02, "Granted QoS 2", "SUBACK"),
        (0x04, "Disconnect with Will Message", "DISCONNECT"),
        (0x10, "No matching subscribers", "PUBACK, PUBREC"),
        (0x11, "No subscription existed", "UNSUBACK"),
        (0x18, "Continue authentication", "AUTH"),
        (0x19, "Re-authenticate", "AUTH"),
        (0x80, "Unspecified error", "CONNACK, PUBACK, PUBREC, SUBACK, UNSUBACK, DISCONNECT"),
        (0x81, "Malformed Packet", "CONNACK, DISCONNECT"),
        (0x82, "Protocol Error", "CONNACK, DISCONNECT"),
        (0x83, "Implementation specific error", "CONNACK, PUBACK, PUBREC, SUBACK, UNSUBACK, DISCONNECT"),
        (0x84, "Unsupported Protocol Version", "CONNACK"),
        (0x85, "Client Identifier not valid", "CONNACK"),
        (0x86, "Bad User Name or Password", "CONNACK"),
        (0x87, "Not authorized", "CONNACK, PUBACK, PUBREC, SUBACK, UNSUBACK, DISCONNECT"),
        (0x88, "Server unavailable", "CONNACK"),
        (0x89, "Server busy", "CONNACK, DISCONNECT"),
        (0x8A, "Banned", "CONNACK"),
        (0x8B, "Server shutting down", "DISCONNECT"),
        (0x8C, "Bad authentication method", "CONNACK, DISCONNECT"),
        (0x8D, "Keep Alive timeout", "DISCONNECT"),
        (0x8E, "Session taken over", "DISCONNECT"),
        (0x8F, "Topic Filter invalid", "SUBACK, UNSUBACK, DISCONNECT"),
        (0x90, "Topic Name invalid", "CONNACK, PUBACK, PUBREC, DISCONNECT"),
        (0x91, "Packet Identifier in use", "PUBACK, PUBREC, SUBACK, UNSUBACK"),
        (0x92, "Packet Identifier not found", "PUBREL, PUBCOMP"),
        (0x93, "Receive Maximum exceeded", "DISCONNECT"),
        (0x94, "Topic Alias invalid", "DISCONNECT"),
        (0x95, "Packet too large", "CONNACK, DISCONNECT"),
        (0x96, "Message rate too high", "DISCONNECT"),
        (0x97, "Quota exceeded", "CONNACK, PUBACK, PUBREC, SUBACK, DISCONNECT"),
        (0x98, "Administrative action", "DISCONNECT"),
        (0x99, "Payload format invalid", "CONNACK, PUBACK, PUBREC, DISCONNECT"),
        (0x9A, "Retain not supported", "CONNACK, DISCONNECT"),
        (0x9B, "QoS not supported", "CONNACK, DISCONNECT"),
        (0x9C, "Use another server", "CONNACK, DISCONNECT"),
        (0x9D, "Server moved", "CONNACK, DISCONNECT"),
        (0x9E, "Shared Subscriptions not supported", "SUBACK, DISCONNECT"),
        (0x9F, "Connection rate exceeded", "CONNACK, DISCONNECT"),
        (0xA0, "Maximum connect time", "DISCONNECT"),
        (0xA1, "Subscription Identifiers not supported", "SUBACK, DISCONNECT"),
        (0xA2, "Wildcard Subscriptions not supported", "SUBACK, DISCONNECT"),
    ];
    for (n, name, packets) in table {
        let code = ReasonCode::from_u8(n).unwrap();
        assert_eq!((code as u8, code.name()), (n, name));
        assert_eq!(code.packets().map(ReasonPacket::name).collect::<Vec<_>>().join(", "), packets, "{code}");
        assert_eq!(code.is_error(), n >= 0x80);
    }
    assert_eq!((0..=255).filter_map(ReasonCode::from_u8).count(), 43);
}

#[test]
fn a_reason_code_decodes_only_in_a_packet_that_may_carry_it() {
    for packet in ReasonPacket::ALL {
        for byte in 0..=255u8 {
            let listed = packet.codes().iter().any(|c| *c as u8 == byte);
            match ReasonCode::decode(packet, byte) {
                Ok(code) => assert!(listed && code as u8 == byte, "{packet} {byte:#04x}"),
                Err(err) => {
                    assert!(!listed, "{packet} {byte:#04x}");
                    assert_eq!(err, ReasonCodeError { packet, code: byte });
                }
            }
        }
    }
    let err = ReasonCode::decode(ReasonPacket::PubRel, 0x80).unwrap_err();
    assert_eq!(err.to_string(), "[MQTT-3.6.2.1] 0x80 is not a PUBREL reason code");
    let err = ReasonCode::decode(ReasonPacket::SubAck, 0x03).unwrap_err();
    assert_eq!(err.to_string(), "[MQTT-3.9.3] 0x03 is not a SUBACK reason code");
    assert_eq!(ReasonCode::decode(ReasonPacket::Auth, 0x18), Ok(ReasonCode::ContinueAuthentication));
}

#[test]
fn reason_code_0x00_takes_the_name_its_packet_gives_it() {
    assert_eq!(ReasonCode::Success.name_in(ReasonPacket::Disconnect), "Normal disconnection");
    assert_eq!(ReasonCode::Success.name_in(ReasonPacket::SubAck), "Granted QoS 0");
    assert_eq!(ReasonCode::Success.name_in(ReasonPacket::PubAck), "Success");
    assert_eq!(ReasonCode::ServerMoved.name_in(ReasonPacket::Disconnect), "Server moved");
    assert_eq!(ReasonCode::TopicAliasInvalid.to_string(), "0x94 (Topic Alias invalid)");
}
