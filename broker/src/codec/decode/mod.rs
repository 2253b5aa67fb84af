//! Decoding bytes into packets, strictly: every malformed input is an error naming its rule.

use super::layout::{Field, Part};
use super::v5::{PacketKind, PropertyId, ReasonPacket};
use super::{Auth, DecodeError, Disconnect, Packet, PacketType, Protocol};

mod connect;
mod publish;
mod reader;
mod subscribe;

use reader::Reader;

/// The largest remaining length that four length bytes can say (section 2.2.3).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// The outcome of decoding from the front of a buffer that may hold a partial packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A whole packet, and how many bytes of the buffer it took.
    Packet(Packet, usize),
    /// The buffer ends before the packet does: read more bytes and try again.
    Incomplete,
}

/// The fixed header: type, flags and the length of the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    pub packet_type: PacketType,
    pub flags: u8,
    pub remaining_length: usize,
    /// Bytes taken by the fixed header itself (2 to 5).
    pub header_len: usize,
}

impl FixedHeader {
    pub const fn packet_len(&self) -> usize {
        self.header_len + self.remaining_length
    }
}

/// Reads the fixed header, or `Ok(None)` when more bytes are needed to know it.
pub fn decode_header(buf: &[u8]) -> Result<Option<FixedHeader>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let packet_type = PacketType::from_nibble(first >> 4)?;
    let flags = first & 0x0F;
    if let Some(expected) = packet_type.required_flags()
        && flags != expected
    {
        return Err(DecodeError::ReservedFlags { packet: packet_type, expected, got: flags });
    }
    let mut remaining_length = 0usize;
    for i in 0..4 {
        let Some(&byte) = buf.get(1 + i) else {
            return Ok(None);
        };
        remaining_length |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some(FixedHeader { packet_type, flags, remaining_length, header_len: 2 + i }));
        }
    }
    Err(DecodeError::RemainingLengthTooLong)
}

/// Decodes one packet from the front of `buf` as a packet of a `protocol` connection (a
/// CONNECT says its own), refusing packets larger than `max_packet_size` bytes before any of
/// their body has arrived.
pub fn decode(buf: &[u8], max_packet_size: usize, protocol: Protocol) -> Result<Decoded, DecodeError> {
    let Some(header) = decode_header(buf)? else {
        return Ok(Decoded::Incomplete);
    };
    if header.packet_len() > max_packet_size {
        return Err(DecodeError::PacketTooLarge { size: header.packet_len(), limit: max_packet_size });
    }
    if buf.len() < header.packet_len() {
        return Ok(Decoded::Incomplete);
    }
    let packet = decode_body(&buf[..header.packet_len()], header, protocol, None)?;
    Ok(Decoded::Packet(packet, header.packet_len()))
}

/// What the inspector learns from the bytes of one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The packet, or why it is malformed (the fields decoded before the error are still listed).
    pub packet: Result<Packet, DecodeError>,
    pub fields: Vec<Field>,
}

/// Decodes `bytes`, which should hold exactly one packet of a `protocol` connection, and
/// records the byte range of each field (each property's identifier, length and value too).
pub fn inspect(bytes: &[u8], protocol: Protocol) -> Inspection {
    let mut fields = Vec::new();
    let packet = inspect_into(bytes, protocol, &mut fields);
    Inspection { packet, fields }
}

fn inspect_into(bytes: &[u8], protocol: Protocol, fields: &mut Vec<Field>) -> Result<Packet, DecodeError> {
    let Some(&first) = bytes.first() else {
        return Err(DecodeError::LengthBeyondPacket { what: "fixed header", len: 2 });
    };
    fields.push(Field {
        name: "Packet type".into(),
        part: Part::FixedHeader,
        range: 0..1,
        mask: Some(0xF0),
        value: match PacketType::from_nibble(first >> 4) {
            Ok(t) => format!("{} ({t})", first >> 4),
            Err(_) => format!("{} (reserved)", first >> 4),
        },
    });
    let flag = |name: &str, mask: u8, value: String| Field {
        name: name.into(),
        part: Part::FixedHeader,
        range: 0..1,
        mask: Some(mask),
        value,
    };
    if first >> 4 == PacketType::Publish as u8 {
        fields.push(flag("DUP flag", 0x08, format!("{}", (first >> 3) & 1)));
        fields.push(flag("QoS level", 0x06, format!("{}", (first >> 1) & 3)));
        fields.push(flag("RETAIN flag", 0x01, format!("{}", first & 1)));
    } else {
        fields.push(flag("Reserved flags", 0x0F, format!("{:04b}", first & 0x0F)));
    }
    let Some(header) = decode_header(bytes)? else {
        return Err(DecodeError::LengthBeyondPacket { what: "remaining length", len: 1 });
    };
    fields.push(Field {
        name: "Remaining length".into(),
        part: Part::FixedHeader,
        range: 1..header.header_len,
        mask: None,
        value: header.remaining_length.to_string(),
    });
    if bytes.len() < header.packet_len() {
        return Err(DecodeError::LengthBeyondPacket { what: "remaining length", len: header.remaining_length });
    }
    decode_body(&bytes[..header.packet_len()], header, protocol, Some(fields))
}

fn decode_body(
    packet: &[u8],
    header: FixedHeader,
    protocol: Protocol,
    fields: Option<&mut Vec<Field>>,
) -> Result<Packet, DecodeError> {
    let mut r = Reader { packet, pos: header.header_len, part: Part::VariableHeader, fields };
    let t = header.packet_type;
    let v5 = protocol.is_v5();
    let packet = match t {
        PacketType::Connect => Packet::Connect(Box::new(connect::connect(&mut r)?)),
        PacketType::ConnAck => Packet::ConnAck(connect::connack(&mut r, protocol)?),
        PacketType::Publish => Packet::Publish(publish::publish(&mut r, header.flags, protocol)?),
        PacketType::PubAck => Packet::PubAck(publish::ack(&mut r, t, protocol)?),
        PacketType::PubRec => Packet::PubRec(publish::ack(&mut r, t, protocol)?),
        PacketType::PubRel => Packet::PubRel(publish::ack(&mut r, t, protocol)?),
        PacketType::PubComp => Packet::PubComp(publish::ack(&mut r, t, protocol)?),
        PacketType::Subscribe => Packet::Subscribe(subscribe::subscribe(&mut r, protocol)?),
        PacketType::SubAck => Packet::SubAck(subscribe::suback(&mut r, protocol)?),
        PacketType::Unsubscribe => Packet::Unsubscribe(subscribe::unsubscribe(&mut r, protocol)?),
        PacketType::UnsubAck => Packet::UnsubAck(subscribe::unsuback(&mut r, protocol)?),
        PacketType::PingReq => Packet::PingReq,
        PacketType::PingResp => Packet::PingResp,
        PacketType::Disconnect if v5 => {
            let (reason, properties) = r.tail(ReasonPacket::Disconnect, PacketKind::Disconnect, true)?;
            Packet::Disconnect(Disconnect { reason, properties })
        }
        PacketType::Disconnect => Packet::disconnect(),
        PacketType::Auth if v5 => {
            let (reason, properties) = r.tail(ReasonPacket::Auth, PacketKind::Auth, false)?;
            if properties.get(PropertyId::AuthenticationMethod).is_none() {
                return Err(DecodeError::AuthWithoutMethod);
            }
            Packet::Auth(Auth { reason, properties })
        }
        PacketType::Auth => return Err(DecodeError::ReservedPacketType15),
    };
    r.finish(t)?;
    Ok(packet)
}
