//! Decoding bytes into packets, strictly: every malformed input is an error naming its rule.

use bytes::Bytes;

use super::layout::{Field, Part};
use super::{
    ConnAck, Connect, ConnectReturnCode, DecodeError, LastWill, Packet, PacketId, PacketType, Protocol, Publish, QoS,
    QosPid, SubAck, SubAckCode, Subscribe, TopicFilter, TopicName, Unsubscribe,
};

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

/// Decodes one packet from the front of `buf`, refusing packets larger than `max_packet_size`
/// bytes before any of their body has arrived.
pub fn decode(buf: &[u8], max_packet_size: usize) -> Result<Decoded, DecodeError> {
    let Some(header) = decode_header(buf)? else {
        return Ok(Decoded::Incomplete);
    };
    if header.packet_len() > max_packet_size {
        return Err(DecodeError::PacketTooLarge { size: header.packet_len(), limit: max_packet_size });
    }
    if buf.len() < header.packet_len() {
        return Ok(Decoded::Incomplete);
    }
    let packet = decode_body(&buf[..header.packet_len()], header, None)?;
    Ok(Decoded::Packet(packet, header.packet_len()))
}

/// What the inspector learns from the bytes of one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The packet, or why it is malformed (the fields decoded before the error are still listed).
    pub packet: Result<Packet, DecodeError>,
    pub fields: Vec<Field>,
}

/// Decodes `bytes`, which should hold exactly one packet, and records the byte range of each field.
pub fn inspect(bytes: &[u8]) -> Inspection {
    let mut fields = Vec::new();
    let packet = inspect_into(bytes, &mut fields);
    Inspection { packet, fields }
}

fn inspect_into(bytes: &[u8], fields: &mut Vec<Field>) -> Result<Packet, DecodeError> {
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
    decode_body(&bytes[..header.packet_len()], header, Some(fields))
}

/// A cursor over the bytes of one whole packet that can record what it reads.
struct Reader<'a, 'f> {
    packet: &'a [u8],
    pos: usize,
    part: Part,
    fields: Option<&'f mut Vec<Field>>,
}

impl<'a> Reader<'a, '_> {
    fn remaining(&self) -> usize {
        self.packet.len() - self.pos
    }

    fn record(&mut self, name: &str, start: usize, value: impl FnOnce() -> String) {
        if let Some(fields) = self.fields.as_deref_mut() {
            fields.push(Field {
                name: name.to_owned(),
                part: self.part,
                range: start..self.pos,
                mask: None,
                value: value(),
            });
        }
    }

    fn record_bits(&mut self, name: &str, at: usize, mask: u8, value: impl FnOnce() -> String) {
        if let Some(fields) = self.fields.as_deref_mut() {
            fields.push(Field {
                name: name.to_owned(),
                part: self.part,
                range: at..at + 1,
                mask: Some(mask),
                value: value(),
            });
        }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::LengthBeyondPacket { what, len: n });
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.packet[start..self.pos])
    }

    fn u8(&mut self, name: &'static str) -> Result<u8, DecodeError> {
        let v = self.take(1, name)?[0];
        self.record(name, self.pos - 1, || v.to_string());
        Ok(v)
    }

    fn u16(&mut self, name: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, name)?;
        let v = u16::from_be_bytes([b[0], b[1]]);
        self.record(name, self.pos - 2, || v.to_string());
        Ok(v)
    }

    fn pid(&mut self, packet: PacketType) -> Result<PacketId, DecodeError> {
        PacketId::new(self.u16("Packet identifier")?).ok_or(DecodeError::ZeroPacketId { packet })
    }

    /// A two-byte length and that many bytes; `name` labels both fields.
    fn binary(&mut self, name: &str, what: &'static str, secret: bool) -> Result<Bytes, DecodeError> {
        let start = self.pos;
        let b = self.take(2, what)?;
        let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
        self.record(&format!("{name} length"), start, || len.to_string());
        let start = self.pos;
        let data = Bytes::copy_from_slice(self.take(len, what)?);
        self.record(name, start, || {
            if secret { format!("<{len} bytes>") } else { format!("{:?}", String::from_utf8_lossy(&data)) }
        });
        Ok(data)
    }

    /// A UTF-8 string: well-formed [MQTT-1.5.3-1] and free of U+0000 [MQTT-1.5.3-2].
    fn string(&mut self, name: &str, what: &'static str) -> Result<String, DecodeError> {
        self.str_field(name, what).map(str::to_owned)
    }

    /// [`Self::string`] borrowed from the packet: no allocation (a PUBLISH topic is copied
    /// once, straight into its `TopicName`).
    fn str_field(&mut self, name: &str, what: &'static str) -> Result<&'a str, DecodeError> {
        let start = self.pos;
        let b = self.take(2, what)?;
        let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
        self.record(&format!("{name} length"), start, || len.to_string());
        let start = self.pos;
        let bytes = self.take(len, what)?;
        let s = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { what })?;
        if s.contains('\0') {
            return Err(DecodeError::NullCharacter { what });
        }
        self.record(name, start, || format!("{s:?}"));
        Ok(s)
    }

    fn finish(&self, packet: PacketType) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingBytes { packet, extra }),
        }
    }
}

fn decode_body(packet: &[u8], header: FixedHeader, fields: Option<&mut Vec<Field>>) -> Result<Packet, DecodeError> {
    let mut r = Reader { packet, pos: header.header_len, part: Part::VariableHeader, fields };
    let t = header.packet_type;
    let packet = match t {
        PacketType::Connect => Packet::Connect(Box::new(connect(&mut r)?)),
        PacketType::ConnAck => {
            let flags = r.u8("Acknowledge flags")?;
            if flags & 0xFE != 0 {
                return Err(DecodeError::ConnAckReservedFlags(flags));
            }
            let code = r.u8("Return code")?;
            let code = ConnectReturnCode::from_u8(code).ok_or(DecodeError::ReservedReturnCode(code))?;
            Packet::ConnAck(ConnAck { session_present: flags & 1 == 1, code })
        }
        PacketType::Publish => Packet::Publish(publish(&mut r, header.flags)?),
        PacketType::PubAck => Packet::PubAck(r.pid(t)?),
        PacketType::PubRec => Packet::PubRec(r.pid(t)?),
        PacketType::PubRel => Packet::PubRel(r.pid(t)?),
        PacketType::PubComp => Packet::PubComp(r.pid(t)?),
        PacketType::UnsubAck => Packet::UnsubAck(r.pid(t)?),
        PacketType::Subscribe => Packet::Subscribe(subscribe(&mut r)?),
        PacketType::SubAck => {
            let pid = r.pid(t)?;
            r.part = Part::Payload;
            let mut codes = Vec::new();
            while r.remaining() > 0 {
                let name = format!("Return code {}", codes.len() + 1);
                let start = r.pos;
                let byte = r.take(1, "SUBACK return code")?[0];
                let code = match byte {
                    0x80 => SubAckCode::Failure,
                    b => SubAckCode::Granted(QoS::from_u8(b).ok_or(DecodeError::InvalidSubAckCode(b))?),
                };
                r.record(&name, start, || match code {
                    SubAckCode::Failure => "0x80 (failure)".into(),
                    SubAckCode::Granted(q) => format!("{q} (granted QoS {q})"),
                });
                codes.push(code);
            }
            Packet::SubAck(SubAck { pid, codes })
        }
        PacketType::Unsubscribe => {
            let pid = r.pid(t)?;
            r.part = Part::Payload;
            let mut filters = Vec::new();
            while r.remaining() > 0 {
                let name = format!("Topic filter {}", filters.len() + 1);
                filters.push(TopicFilter::new(r.string(&name, "UNSUBSCRIBE topic filter")?)?);
            }
            if filters.is_empty() {
                return Err(DecodeError::UnsubscribeWithoutFilters);
            }
            Packet::Unsubscribe(Unsubscribe { pid, filters })
        }
        PacketType::PingReq => Packet::PingReq,
        PacketType::PingResp => Packet::PingResp,
        PacketType::Disconnect => Packet::Disconnect,
    };
    r.finish(t)?;
    Ok(packet)
}

fn connect(r: &mut Reader<'_, '_>) -> Result<Connect, DecodeError> {
    let name = r.string("Protocol name", "protocol name")?;
    let level = r.u8("Protocol level")?;
    let protocol = match (name.as_str(), level) {
        ("MQTT", 4) => Protocol::V311,
        ("MQIsdp", 3) => Protocol::V31,
        ("MQTT" | "MQIsdp", level) => return Err(DecodeError::UnsupportedProtocolLevel { level }),
        _ => return Err(DecodeError::InvalidProtocolName { name }),
    };
    let at = r.pos;
    let flags = r.take(1, "connect flags")?[0];
    let bit = |mask: u8| flags & mask != 0;
    for (name, mask) in [
        ("User name flag", 0x80),
        ("Password flag", 0x40),
        ("Will retain", 0x20),
        ("Will QoS", 0x18),
        ("Will flag", 0x04),
        ("Clean session", 0x02),
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
    if bit(0x40) && !bit(0x80) {
        return Err(DecodeError::PasswordWithoutUsername);
    }
    let keep_alive = r.u16("Keep alive")?;
    r.part = Part::Payload;
    let client_id = r.string("Client identifier", "client identifier")?;
    let will = if bit(0x04) {
        let topic = TopicName::new(r.string("Will topic", "will topic")?)?;
        let payload = r.binary("Will message", "will message", false)?;
        Some(LastWill { topic, payload, qos: will_qos, retain: bit(0x20) })
    } else {
        None
    };
    let username = if bit(0x80) { Some(r.string("User name", "user name")?) } else { None };
    let password = if bit(0x40) { Some(r.binary("Password", "password", true)?) } else { None };
    Ok(Connect { protocol, clean_session: bit(0x02), keep_alive, client_id, will, username, password })
}

fn publish(r: &mut Reader<'_, '_>, flags: u8) -> Result<Publish, DecodeError> {
    let dup = flags & 0x08 != 0;
    let qos = QoS::from_bits((flags >> 1) & 3, "PUBLISH")?;
    if dup && qos == QoS::AtMostOnce {
        return Err(DecodeError::DupOnQos0);
    }
    let topic = TopicName::parse(r.str_field("Topic name", "topic name")?)?;
    let qos_pid = match qos {
        QoS::AtMostOnce => QosPid::AtMostOnce,
        _ => QosPid::with(qos, r.pid(PacketType::Publish)?),
    };
    r.part = Part::Payload;
    let start = r.pos;
    let payload = Bytes::copy_from_slice(r.take(r.remaining(), "payload")?);
    r.record("Payload", start, || format!("{:?}", String::from_utf8_lossy(&payload)));
    Ok(Publish { dup, qos_pid, retain: flags & 1 == 1, topic, payload })
}

fn subscribe(r: &mut Reader<'_, '_>) -> Result<Subscribe, DecodeError> {
    let pid = r.pid(PacketType::Subscribe)?;
    r.part = Part::Payload;
    let mut filters = Vec::new();
    while r.remaining() > 0 {
        let n = filters.len() + 1;
        let filter = TopicFilter::new(r.string(&format!("Topic filter {n}"), "SUBSCRIBE topic filter")?)?;
        let start = r.pos;
        let byte = r.take(1, "requested QoS")?[0];
        r.record(&format!("Requested QoS {n}"), start, || byte.to_string());
        if byte & 0xFC != 0 || byte == 3 {
            return Err(DecodeError::InvalidRequestedQos(byte));
        }
        filters.push((filter, QoS::from_u8(byte).unwrap_or_default()));
    }
    if filters.is_empty() {
        return Err(DecodeError::SubscribeWithoutFilters);
    }
    Ok(Subscribe { pid, filters })
}
