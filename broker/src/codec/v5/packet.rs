//! The MQTT 5.0 forms of CONNECT, CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT and AUTH.
//!
//! Each packet decodes from its body (the bytes after the fixed header, as `decode_header`
//! splits them) and encodes whole, fixed header included, computing the remaining length first
//! so that nothing is written when a field cannot be encoded. Decoding is strict: every broken
//! rule is a [`PacketError`] naming it. The 3.1.1 codec is untouched: these are additive.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::{PacketError, PacketKind, Properties, ReasonCode, ReasonPacket};
use crate::codec::{PacketId, QoS, TopicName};

mod wire;

use wire::{Body, bin_len, check_properties, check_reason, header, packet_len, put_bin, put_tail, str_len, tail_len};

/// The protocol name of MQTT 5.0 [MQTT-3.1.2-1].
pub const PROTOCOL_NAME: &str = "MQTT";
/// The protocol version of MQTT 5.0 [MQTT-3.1.2-2].
pub const PROTOCOL_VERSION: u8 = 5;

/// CONNECT (section 3.1). A password may come without a user name in MQTT 5.0 (3.1.2.9).
#[derive(Clone, PartialEq, Eq)]
pub struct Connect {
    pub clean_start: bool,
    /// Seconds; 0 turns the keepalive mechanism off.
    pub keep_alive: u16,
    pub properties: Properties,
    pub client_id: String,
    pub will: Option<Will>,
    pub username: Option<String>,
    pub password: Option<Bytes>,
}

// Hand-written so that a password never reaches a log line through `{:?}`.
impl fmt::Debug for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connect")
            .field("clean_start", &self.clean_start)
            .field("keep_alive", &self.keep_alive)
            .field("properties", &self.properties)
            .field("client_id", &self.client_id)
            .field("will", &self.will)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<REDACTED>"))
            .finish()
    }
}

/// The will of a CONNECT: its properties, topic and payload sit in the payload (3.1.3.2-3.1.3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    pub properties: Properties,
    pub topic: TopicName,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
}

/// CONNACK (section 3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnAck {
    pub session_present: bool,
    pub reason: ReasonCode,
    pub properties: Properties,
}

/// Which of the four QoS 1 and 2 responses an [`Ack`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckKind {
    PubAck,
    PubRec,
    PubRel,
    PubComp,
}

impl AckKind {
    pub const ALL: [Self; 4] = [Self::PubAck, Self::PubRec, Self::PubRel, Self::PubComp];

    pub const fn reason_packet(self) -> ReasonPacket {
        match self {
            Self::PubAck => ReasonPacket::PubAck,
            Self::PubRec => ReasonPacket::PubRec,
            Self::PubRel => ReasonPacket::PubRel,
            Self::PubComp => ReasonPacket::PubComp,
        }
    }

    pub const fn property_kind(self) -> PacketKind {
        match self {
            Self::PubAck => PacketKind::PubAck,
            Self::PubRec => PacketKind::PubRec,
            Self::PubRel => PacketKind::PubRel,
            Self::PubComp => PacketKind::PubComp,
        }
    }

    /// The first byte of the fixed header: type and flags (PUBREL's are 0b0010).
    pub const fn first_byte(self) -> u8 {
        match self {
            Self::PubAck => 0x40,
            Self::PubRec => 0x50,
            Self::PubRel => 0x62,
            Self::PubComp => 0x70,
        }
    }

    pub const fn name(self) -> &'static str {
        self.reason_packet().name()
    }
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP (sections 3.4-3.7). The reason code and the property
/// length are left out when the reason is 0x00 and there are no properties [MQTT-3.4.2.1], and
/// the property length alone when there are no properties (3.4.2.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub kind: AckKind,
    pub pid: PacketId,
    pub reason: ReasonCode,
    pub properties: Properties,
}

/// DISCONNECT (section 3.14). A remaining length of 0 means 0x00 Normal disconnection, and of
/// 1 a reason code without properties (3.14.2.1, 3.14.2.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect {
    pub reason: ReasonCode,
    pub properties: Properties,
}

/// AUTH (section 3.15). A remaining length of 0 means 0x00 Success without properties
/// (3.15.2.1); otherwise the property length is always present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub reason: ReasonCode,
    pub properties: Properties,
}

impl Connect {
    pub const FIRST_BYTE: u8 = 0x10;

    /// Decodes a CONNECT body.
    pub fn decode(body: &[u8]) -> Result<Self, PacketError> {
        let mut r = Body::new(body, "CONNECT");
        let name = r.string("protocol name")?;
        if name != PROTOCOL_NAME {
            return Err(PacketError::ProtocolName { name });
        }
        let version = r.u8("protocol version")?;
        if version != PROTOCOL_VERSION {
            return Err(PacketError::ProtocolVersion { version });
        }
        let flags = r.u8("connect flags")?;
        if flags & 0x01 != 0 {
            return Err(PacketError::ConnectReservedFlag);
        }
        let will_flag = flags & 0x04 != 0;
        let will_qos = (flags >> 3) & 0x03;
        let will_retain = flags & 0x20 != 0;
        if !will_flag && will_qos != 0 {
            return Err(PacketError::WillQosWithoutWill);
        }
        if !will_flag && will_retain {
            return Err(PacketError::WillRetainWithoutWill);
        }
        let will_qos = QoS::from_u8(will_qos).ok_or(PacketError::WillQos3)?;
        let keep_alive = r.u16("keep alive")?;
        let properties = r.properties(PacketKind::Connect)?;
        let client_id = r.string("client identifier")?;
        let will = if will_flag {
            let properties = r.properties(PacketKind::Will)?;
            let topic = TopicName::new(r.string("will topic")?)?;
            let payload = r.binary("will payload")?;
            Some(Will { properties, topic, payload, qos: will_qos, retain: will_retain })
        } else {
            None
        };
        let username = if flags & 0x80 != 0 { Some(r.string("user name")?) } else { None };
        let password = if flags & 0x40 != 0 { Some(r.binary("password")?) } else { None };
        r.finish()?;
        Ok(Self { clean_start: flags & 0x02 != 0, keep_alive, properties, client_id, will, username, password })
    }

    fn remaining_length(&self) -> Result<usize, PacketError> {
        check_properties(&self.properties, PacketKind::Connect)?;
        let mut len = 2 + PROTOCOL_NAME.len() + 1 + 1 + 2 + self.properties.encoded_len()?;
        len += str_len("client identifier", &self.client_id)?;
        if let Some(w) = &self.will {
            check_properties(&w.properties, PacketKind::Will)?;
            len += w.properties.encoded_len()?;
            len += str_len("will topic", w.topic.as_str())? + bin_len("will payload", &w.payload)?;
        }
        if let Some(u) = &self.username {
            len += str_len("user name", u)?;
        }
        if let Some(p) = &self.password {
            len += bin_len("password", p)?;
        }
        Ok(len)
    }

    fn flags(&self) -> u8 {
        let mut flags = u8::from(self.clean_start) << 1;
        if let Some(w) = &self.will {
            flags |= 0x04 | ((w.qos as u8) << 3) | (u8::from(w.retain) << 5);
        }
        flags | (u8::from(self.password.is_some()) << 6) | (u8::from(self.username.is_some()) << 7)
    }

    /// Appends the whole packet to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), PacketError> {
        let remaining = header(buf, Self::FIRST_BYTE, self.remaining_length()?)?;
        let start = buf.len();
        put_bin(buf, PROTOCOL_NAME.as_bytes());
        buf.put_u8(PROTOCOL_VERSION);
        buf.put_u8(self.flags());
        buf.put_u16(self.keep_alive);
        self.properties.encode(buf)?;
        put_bin(buf, self.client_id.as_bytes());
        if let Some(w) = &self.will {
            w.properties.encode(buf)?;
            put_bin(buf, w.topic.as_str().as_bytes());
            put_bin(buf, &w.payload);
        }
        if let Some(u) = &self.username {
            put_bin(buf, u.as_bytes());
        }
        if let Some(p) = &self.password {
            put_bin(buf, p);
        }
        debug_assert_eq!(buf.len() - start, remaining);
        Ok(())
    }

    /// The encoded size in bytes, fixed header included.
    pub fn encoded_len(&self) -> Result<usize, PacketError> {
        Ok(packet_len(self.remaining_length()?))
    }
}

impl ConnAck {
    pub const FIRST_BYTE: u8 = 0x20;

    /// Decodes a CONNACK body.
    pub fn decode(body: &[u8]) -> Result<Self, PacketError> {
        let mut r = Body::new(body, "CONNACK");
        let flags = r.u8("acknowledge flags")?;
        if flags & 0xFE != 0 {
            return Err(PacketError::ConnAckReservedFlags(flags));
        }
        let reason = ReasonCode::decode(ReasonPacket::ConnAck, r.u8("reason code")?)?;
        let session_present = flags & 0x01 != 0;
        if session_present && reason.is_error() {
            return Err(PacketError::SessionPresentWithError(reason));
        }
        let properties = r.properties(PacketKind::ConnAck)?;
        r.finish()?;
        Ok(Self { session_present, reason, properties })
    }

    fn remaining_length(&self) -> Result<usize, PacketError> {
        check_reason(self.reason, ReasonPacket::ConnAck)?;
        if self.session_present && self.reason.is_error() {
            return Err(PacketError::SessionPresentWithError(self.reason));
        }
        check_properties(&self.properties, PacketKind::ConnAck)?;
        Ok(2 + self.properties.encoded_len()?)
    }

    /// Appends the whole packet to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), PacketError> {
        header(buf, Self::FIRST_BYTE, self.remaining_length()?)?;
        buf.put_u8(u8::from(self.session_present));
        buf.put_u8(self.reason as u8);
        self.properties.encode(buf)?;
        Ok(())
    }

    /// The encoded size in bytes, fixed header included.
    pub fn encoded_len(&self) -> Result<usize, PacketError> {
        Ok(packet_len(self.remaining_length()?))
    }
}

impl Ack {
    /// Decodes the body of a `kind` packet.
    pub fn decode(kind: AckKind, body: &[u8]) -> Result<Self, PacketError> {
        let mut r = Body::new(body, kind.name());
        let pid =
            PacketId::new(r.u16("packet identifier")?).ok_or(PacketError::ZeroPacketId { packet: kind.name() })?;
        let (reason, properties) = r.tail(kind.reason_packet(), kind.property_kind(), true)?;
        Ok(Self { kind, pid, reason, properties })
    }

    fn remaining_length(&self) -> Result<usize, PacketError> {
        Ok(2 + tail_len(self.reason, &self.properties, self.kind.reason_packet(), self.kind.property_kind(), true)?)
    }

    /// Appends the whole packet to `buf`, in its shortest form.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), PacketError> {
        let remaining = header(buf, self.kind.first_byte(), self.remaining_length()?)?;
        buf.put_u16(self.pid.get());
        put_tail(buf, self.reason, &self.properties, remaining - 2)
    }

    /// The encoded size in bytes, fixed header included.
    pub fn encoded_len(&self) -> Result<usize, PacketError> {
        Ok(packet_len(self.remaining_length()?))
    }
}

impl Disconnect {
    pub const FIRST_BYTE: u8 = 0xE0;

    /// Decodes a DISCONNECT body.
    pub fn decode(body: &[u8]) -> Result<Self, PacketError> {
        let (reason, properties) =
            Body::new(body, "DISCONNECT").tail(ReasonPacket::Disconnect, PacketKind::Disconnect, true)?;
        Ok(Self { reason, properties })
    }

    fn remaining_length(&self) -> Result<usize, PacketError> {
        tail_len(self.reason, &self.properties, ReasonPacket::Disconnect, PacketKind::Disconnect, true)
    }

    /// Appends the whole packet to `buf`, in its shortest form.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), PacketError> {
        let remaining = header(buf, Self::FIRST_BYTE, self.remaining_length()?)?;
        put_tail(buf, self.reason, &self.properties, remaining)
    }

    /// The encoded size in bytes, fixed header included.
    pub fn encoded_len(&self) -> Result<usize, PacketError> {
        Ok(packet_len(self.remaining_length()?))
    }
}

impl Auth {
    pub const FIRST_BYTE: u8 = 0xF0;

    /// Decodes an AUTH body.
    pub fn decode(body: &[u8]) -> Result<Self, PacketError> {
        let (reason, properties) = Body::new(body, "AUTH").tail(ReasonPacket::Auth, PacketKind::Auth, false)?;
        Ok(Self { reason, properties })
    }

    fn remaining_length(&self) -> Result<usize, PacketError> {
        tail_len(self.reason, &self.properties, ReasonPacket::Auth, PacketKind::Auth, false)
    }

    /// Appends the whole packet to `buf`, in its shortest form.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), PacketError> {
        let remaining = header(buf, Self::FIRST_BYTE, self.remaining_length()?)?;
        put_tail(buf, self.reason, &self.properties, remaining)
    }

    /// The encoded size in bytes, fixed header included.
    pub fn encoded_len(&self) -> Result<usize, PacketError> {
        Ok(packet_len(self.remaining_length()?))
    }
}

#[cfg(test)]
mod tests;
