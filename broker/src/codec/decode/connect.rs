//! CONNECT (every version: its protocol level says which) and CONNACK.

use crate::codec::layout::Part;
use crate::codec::v5::{PacketKind, Properties, PropertyId, ReasonPacket};
use crate::codec::{ConnAck, Connect, ConnectReturnCode, DecodeError, LastWill, Protocol, QoS, TopicName};

use super::reader::Reader;

pub(super) fn connect(r: &mut Reader<'_, '_>) -> Result<Connect, DecodeError> {
    let name = r.string("Protocol name", "protocol name")?;
    let level = r.u8("Protocol level")?;
    // Bit 7 of the level is Mosquitto's bridge bit (`try_private`), on 3.1 and 3.1.1 only.
    let bridge = level & 0x80 != 0 && level & 0x7F != 5;
    let protocol = match (name.as_str(), level & if bridge { 0x7F } else { 0xFF }) {
        ("MQTT", 4) => Protocol::V311,
        ("MQTT", 5) => Protocol::V5,
        ("MQIsdp", 3) => Protocol::V31,
        ("MQTT" | "MQIsdp", level) => return Err(DecodeError::UnsupportedProtocolLevel { level }),
        _ => return Err(DecodeError::InvalidProtocolName { name }),
    };
    let at = r.pos;
    let flags = r.take(1, "connect flags")?[0];
    let bit = |mask: u8| flags & mask != 0;
    let clean = if protocol.is_v5() { "Clean start" } else { "Clean session" };
    for (name, mask) in [
        ("User name flag", 0x80),
        ("Password flag", 0x40),
        ("Will retain", 0x20),
        ("Will QoS", 0x18),
        ("Will flag", 0x04),
        (clean, 0x02),
        ("Reserved", 0x01),
    ] {
        r.record_bits(name, at, mask, || ((flags & mask) >> mask.trailing_zeros()).to_string());
    }
    if bit(0x01) {
        return Err(DecodeError::ConnectReservedFlag);
    }
    let will_qos = QoS::from_bits((flags >> 3) & 3, "will")?;
    if !bit(0x04) && will_qos != QoS::AtMostOnce {
        return Err(DecodeError::WillQosWithoutWill);
    }
    if !bit(0x04) && bit(0x20) {
        return Err(DecodeError::WillRetainWithoutWill);
    }
    // MQTT 5.0 allows a password without a user name (3.1.2.9).
    if bit(0x40) && !bit(0x80) && !protocol.is_v5() {
        return Err(DecodeError::PasswordWithoutUsername);
    }
    let keep_alive = r.u16("Keep alive")?;
    let properties = if protocol.is_v5() { r.properties(PacketKind::Connect)? } else { Properties::default() };
    r.part = Part::Payload;
    let client_id = r.string("Client identifier", "client identifier")?;
    let will = if bit(0x04) {
        let properties = if protocol.is_v5() { r.properties(PacketKind::Will)? } else { Properties::default() };
        if protocol.is_v5() {
            check_response_topic(&properties)?;
        }
        let topic = TopicName::new(r.string("Will topic", "will topic")?)?;
        let payload = r.binary("Will message", "will message", false)?;
        Some(LastWill { topic, payload, qos: will_qos, retain: bit(0x20), properties })
    } else {
        None
    };
    let username = if bit(0x80) { Some(r.string("User name", "user name")?) } else { None };
    let password = if bit(0x40) { Some(r.binary("Password", "password", true)?) } else { None };
    Ok(Connect {
        protocol,
        bridge,
        clean_session: bit(0x02),
        keep_alive,
        properties,
        client_id,
        will,
        username,
        password,
    })
}

pub(super) fn connack(r: &mut Reader<'_, '_>, protocol: Protocol) -> Result<ConnAck, DecodeError> {
    let flags = r.u8("Acknowledge flags")?;
    if flags & 0xFE != 0 {
        return Err(DecodeError::ConnAckReservedFlags(flags));
    }
    let session_present = flags & 1 == 1;
    if !protocol.is_v5() {
        let code = r.u8("Return code")?;
        let code = ConnectReturnCode::from_u8(code).ok_or(DecodeError::ReservedReturnCode(code))?;
        return Ok(ConnAck::new(session_present, code));
    }
    let reason = r.reason("Reason code", ReasonPacket::ConnAck)?;
    if session_present && reason.is_error() {
        return Err(DecodeError::SessionPresentWithError(reason));
    }
    let properties = r.properties(PacketKind::ConnAck)?;
    Ok(ConnAck { session_present, reason, properties })
}

/// A Response Topic is a topic name: no wildcards [MQTT-3.3.2-14], not empty.
pub(super) fn check_response_topic(properties: &Properties) -> Result<(), DecodeError> {
    if let Some(crate::codec::v5::Property::ResponseTopic(topic)) = properties.get(PropertyId::ResponseTopic) {
        TopicName::parse(topic).map_err(|e| DecodeError::InvalidResponseTopic { topic: topic.clone(), why: e })?;
    }
    Ok(())
}
