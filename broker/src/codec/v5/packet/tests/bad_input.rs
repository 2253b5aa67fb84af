//! Every packet-level rule the decoders and encoders enforce: the input, the error, its rule.

use super::*;
use crate::codec::v5::{PropertyError, PropertyId, ReasonCodeError};
use crate::codec::{EncodeError, TopicError};

/// A CONNECT body with these connect flags, keep alive 60, no properties, then `rest`.
fn connect(flags: u8, rest: &[u8]) -> Vec<u8> {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 5, flags, 0, 60, 0];
    body.extend_from_slice(rest);
    body
}

fn err<T: fmt::Debug>(r: Result<T, PacketError>) -> PacketError {
    r.unwrap_err()
}

#[test]
fn each_broken_rule_is_an_error_naming_it() {
    use PacketError as E;
    let malformed = ReasonCode::MalformedPacket;
    let protocol = ReasonCode::ProtocolError;
    let version = ReasonCode::UnsupportedProtocolVersion;
    let empty_id: &[u8] = &[0, 0];
    let will = |topic: &[u8]| [&[0u8, 0, 0][..], topic, &[0, 0]].concat();
    #[rustfmt::skip]
    let table: Vec<(PacketError, PacketError, &str, ReasonCode)> = vec![
        // CONNECT: protocol name and version, connect flags (3.1.2.1-3.1.2.3).
        (err(Connect::decode(&[0, 4, b'M', b'Q', b'I', b's', 5])), E::ProtocolName { name: "MQIs".into() }, "[MQTT-3.1.2-1]", version),
        (err(Connect::decode(&[0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60])), E::ProtocolVersion { version: 4 }, "[MQTT-3.1.2-2]", version),
        (err(Connect::decode(&connect(0x03, empty_id))), E::ConnectReservedFlag, "[MQTT-3.1.2-3]", malformed),
        (err(Connect::decode(&connect(0x08, empty_id))), E::WillQosWithoutWill, "[MQTT-3.1.2-11]", malformed),
        (err(Connect::decode(&connect(0x1C, empty_id))), E::WillQos3, "[MQTT-3.1.2-12]", malformed),
        (err(Connect::decode(&connect(0x20, empty_id))), E::WillRetainWithoutWill, "[MQTT-3.1.2-13]", malformed),
        // CONNECT: fields and lengths.
        (err(Connect::decode(&[0, 4, b'M', b'Q', b'T', b'T', 5, 2, 0])), E::Truncated { packet: "CONNECT", what: "keep alive" }, "[MQTT-2.1.4]", malformed),
        (err(Connect::decode(&connect(0x02, &[]))), E::Truncated { packet: "CONNECT", what: "client identifier" }, "[MQTT-2.1.4]", malformed),
        (err(Connect::decode(&connect(0x02, &[0, 1, 0xFF]))), E::InvalidUtf8 { what: "client identifier" }, "[MQTT-1.5.4-1]", malformed),
        (err(Connect::decode(&connect(0x02, &[0, 1, 0]))), E::NullCharacter { what: "client identifier" }, "[MQTT-1.5.4-2]", malformed),
        (err(Connect::decode(&connect(0x02, &[0, 0, 9]))), E::TrailingBytes { packet: "CONNECT", extra: 1 }, "[MQTT-2.1.4]", malformed),
        (err(Connect::decode(&connect(0x80, empty_id))), E::Truncated { packet: "CONNECT", what: "user name" }, "[MQTT-2.1.4]", malformed),
        (err(Connect::decode(&connect(0x40, empty_id))), E::Truncated { packet: "CONNECT", what: "password" }, "[MQTT-2.1.4]", malformed),
        (err(Connect::decode(&connect(0x04, &will(&[0, 3, b'a', b'/', b'+'])))),
            E::Topic(TopicError::WildcardInName("a/+".into())), "[MQTT-3.3.2-2]", ReasonCode::TopicNameInvalid),
        (err(Connect::decode(&connect(0x04, &will(&[0, 0])))), E::Topic(TopicError::Empty { kind: "name" }), "[MQTT-4.7.3-1]", ReasonCode::TopicNameInvalid),
        // Properties keep their own errors and reason codes.
        (err(Connect::decode(&[0, 4, b'M', b'Q', b'T', b'T', 5, 2, 0, 60, 3, 0x23, 0, 1, 0, 0])),
            E::Property(PropertyError::NotAllowed { id: PropertyId::TopicAlias, packet: PacketKind::Connect }), "[MQTT-2.2.2.2]", malformed),
        (err(Connect::decode(&connect(0x04, &[0, 0, 2, 0x18, 0]))),
            E::Property(PropertyError::Truncated { what: "Will Delay Interval", within: "the property block" }), "[MQTT-2.2.2]", malformed),
        // CONNACK.
        (err(ConnAck::decode(&[0x02, 0, 0])), E::ConnAckReservedFlags(2), "[MQTT-3.2.2.1]", malformed),
        (err(ConnAck::decode(&[0, 0x10, 0])), E::ReasonCode(ReasonCodeError { packet: ReasonPacket::ConnAck, code: 0x10 }), "[MQTT-3.2.2.2]", protocol),
        (err(ConnAck::decode(&[1, 0x87, 0])), E::SessionPresentWithError(ReasonCode::NotAuthorized), "[MQTT-3.2.2-6]", protocol),
        (err(ConnAck::decode(&[0, 0])),
            E::Property(PropertyError::Truncated { what: "Property length", within: "the packet" }), "[MQTT-2.2.2]", malformed),
        (err(ConnAck::decode(&[0])), E::Truncated { packet: "CONNACK", what: "reason code" }, "[MQTT-2.1.4]", malformed),
        (err(ConnAck::decode(&[0, 0, 0, 0])), E::TrailingBytes { packet: "CONNACK", extra: 1 }, "[MQTT-2.1.4]", malformed),
        // PUBACK, PUBREC, PUBREL, PUBCOMP.
        (err(Ack::decode(AckKind::PubAck, &[0, 0])), E::ZeroPacketId { packet: "PUBACK" }, "[MQTT-2.2.1-3]", protocol),
        (err(Ack::decode(AckKind::PubComp, &[0])), E::Truncated { packet: "PUBCOMP", what: "packet identifier" }, "[MQTT-2.1.4]", malformed),
        (err(Ack::decode(AckKind::PubRel, &[0, 1, 0x10])),
            E::ReasonCode(ReasonCodeError { packet: ReasonPacket::PubRel, code: 0x10 }), "[MQTT-3.6.2.1]", protocol),
        (err(Ack::decode(AckKind::PubRec, &[0, 1, 0x92])),
            E::ReasonCode(ReasonCodeError { packet: ReasonPacket::PubRec, code: 0x92 }), "[MQTT-3.5.2.1]", protocol),
        (err(Ack::decode(AckKind::PubAck, &[0, 1, 0, 2, 0x1F])),
            E::Property(PropertyError::LengthBeyondPacket { len: 2, available: 1 }), "[MQTT-2.2.2.1]", malformed),
        (err(Ack::decode(AckKind::PubAck, &[0, 1, 0, 0, 0])), E::TrailingBytes { packet: "PUBACK", extra: 1 }, "[MQTT-2.1.4]", malformed),
        (err(Ack::decode(AckKind::PubRel, &[0, 1, 0, 2, 0x11, 0])),
            E::Property(PropertyError::NotAllowed { id: PropertyId::SessionExpiryInterval, packet: PacketKind::PubRel }), "[MQTT-2.2.2.2]", malformed),
        // DISCONNECT and AUTH.
        (err(Disconnect::decode(&[0x18])),
            E::ReasonCode(ReasonCodeError { packet: ReasonPacket::Disconnect, code: 0x18 }), "[MQTT-3.14.2.1]", protocol),
        (err(Disconnect::decode(&[0, 0, 0])), E::TrailingBytes { packet: "DISCONNECT", extra: 1 }, "[MQTT-2.1.4]", malformed),
        (err(Auth::decode(&[0x04, 0])), E::ReasonCode(ReasonCodeError { packet: ReasonPacket::Auth, code: 0x04 }), "[MQTT-3.15.2.1]", protocol),
        (err(Auth::decode(&[0x18])),
            E::Property(PropertyError::Truncated { what: "Property length", within: "the packet" }), "[MQTT-2.2.2]", malformed),
    ];
    for (i, (got, expected, rule, reason)) in table.into_iter().enumerate() {
        assert_eq!(got, expected, "case {i}");
        assert!(got.to_string().starts_with(rule), "case {i}: {got}");
        assert_eq!(got.reason_code(), reason, "case {i}: {got}");
    }
}

#[test]
fn encoding_refuses_what_decoding_would_refuse_and_writes_nothing() {
    use PacketError as E;
    let ack = |kind, reason| Ack { kind, pid: pid(1), reason, properties: Properties::default() };
    let will_props = props(PacketKind::Will, vec![Property::WillDelayInterval(1)]);
    let mut null_id = full_connect();
    null_id.client_id = "a\0b".into();
    let mut long_user = full_connect();
    long_user.username = Some("u".repeat(65_536));
    let mut misplaced = full_connect();
    misplaced.properties = will_props.clone();
    let cases: Vec<(Result<(), PacketError>, PacketError)> = vec![
        (
            ConnAck { session_present: false, reason: ReasonCode::GrantedQos1, properties: Properties::default() }
                .encode(&mut BytesMut::new()),
            E::ReasonCode(ReasonCodeError { packet: ReasonPacket::ConnAck, code: 0x01 }),
        ),
        (
            ConnAck { session_present: true, reason: ReasonCode::Banned, properties: Properties::default() }
                .encode(&mut BytesMut::new()),
            E::SessionPresentWithError(ReasonCode::Banned),
        ),
        (
            ack(AckKind::PubComp, ReasonCode::QuotaExceeded).encode(&mut BytesMut::new()),
            E::ReasonCode(ReasonCodeError { packet: ReasonPacket::PubComp, code: 0x97 }),
        ),
        (
            Disconnect { reason: ReasonCode::Success, properties: will_props }.encode(&mut BytesMut::new()),
            E::Property(PropertyError::NotAllowed {
                id: PropertyId::WillDelayInterval,
                packet: PacketKind::Disconnect,
            }),
        ),
        (
            misplaced.encode(&mut BytesMut::new()),
            E::Property(PropertyError::NotAllowed { id: PropertyId::WillDelayInterval, packet: PacketKind::Connect }),
        ),
        (null_id.encode(&mut BytesMut::new()), E::Encode(EncodeError::NullCharacter { what: "client identifier" })),
        (
            long_user.encode(&mut BytesMut::new()),
            E::Encode(EncodeError::StringTooLong { what: "user name", len: 65_536 }),
        ),
    ];
    for (i, (got, expected)) in cases.into_iter().enumerate() {
        assert_eq!(got.unwrap_err(), expected, "case {i}");
    }
    let mut buf = BytesMut::from(&b"kept"[..]);
    assert!(null_id.encode(&mut buf).is_err());
    assert_eq!(&buf[..], b"kept");
}
