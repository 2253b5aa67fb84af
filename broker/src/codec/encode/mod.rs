//! Encoding packets into bytes for a connection of a given protocol version: the MQTT 5.0
//! parts (properties, reason codes) are written for 5.0 and left out for 3.1 and 3.1.1.
//! Every length is computed and checked before anything is written.

use bytes::{BufMut, BytesMut};

use super::decode::MAX_REMAINING_LENGTH;
use super::v5::{PacketKind, Properties, PropertyError, PropertyId, ReasonCode, ReasonCodeError, ReasonPacket};
use super::{Connect, EncodeError, Packet, PacketId, Protocol, Publish, QosPid, SubAckCode};

mod lengths;

use lengths::{checked, checked_str, remaining_length_bytes, tail_len};

impl Packet {
    /// Appends the packet, as a `protocol` connection sends it, to `buf`. A CONNECT is written
    /// in the protocol it names.
    pub fn encode(&self, protocol: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let v5 = protocol.is_v5();
        let remaining = self.remaining_length(protocol)?;
        buf.reserve(remaining + 5);
        buf.put_u8(((self.packet_type() as u8) << 4) | self.flags());
        put_remaining_length(buf, remaining);
        match self {
            Self::Connect(c) => put_connect(buf, c)?,
            Self::ConnAck(a) => {
                buf.put_u8(u8::from(a.session_present));
                if v5 {
                    buf.put_u8(a.reason as u8);
                    a.properties.encode(buf)?;
                } else {
                    buf.put_u8(a.code() as u8);
                }
            }
            Self::Publish(p) => {
                put_str(buf, p.topic.as_str());
                if let Some(pid) = p.qos_pid.pid() {
                    buf.put_u16(pid.get());
                }
                if v5 {
                    p.properties.encode(buf)?;
                }
                buf.put_slice(&p.payload);
            }
            Self::PubAck(a) | Self::PubRec(a) | Self::PubRel(a) | Self::PubComp(a) => {
                buf.put_u16(a.pid.get());
                if v5 {
                    put_tail(buf, a.reason, &a.properties, remaining - 2)?;
                }
            }
            Self::Subscribe(s) => {
                buf.put_u16(s.pid.get());
                if v5 {
                    s.properties.encode(buf)?;
                }
                for (filter, options) in &s.filters {
                    put_str(buf, filter.as_str());
                    buf.put_u8(if v5 { options.to_u8() } else { options.qos as u8 });
                }
            }
            Self::SubAck(s) => {
                buf.put_u16(s.pid.get());
                if v5 {
                    s.properties.encode(buf)?;
                }
                buf.extend(s.codes.iter().map(|c| c.to_u8(protocol)));
            }
            Self::Unsubscribe(u) => {
                buf.put_u16(u.pid.get());
                if v5 {
                    u.properties.encode(buf)?;
                }
                for filter in &u.filters {
                    put_str(buf, filter.as_str());
                }
            }
            Self::UnsubAck(u) => {
                buf.put_u16(u.pid.get());
                if v5 {
                    u.properties.encode(buf)?;
                    buf.extend(u.reasons.iter().map(|r| *r as u8));
                }
            }
            Self::Disconnect(d) if v5 => put_tail(buf, d.reason, &d.properties, remaining)?,
            Self::Auth(a) => put_tail(buf, a.reason, &a.properties, remaining)?,
            Self::PingReq | Self::PingResp | Self::Disconnect(_) => {}
        }
        Ok(())
    }

    /// The encoded size in bytes for a `protocol` connection, fixed header included.
    pub fn encoded_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let remaining = self.remaining_length(protocol)?;
        Ok(1 + remaining_length_bytes(remaining) + remaining)
    }

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self, protocol: Protocol) -> Result<BytesMut, EncodeError> {
        let mut buf = BytesMut::new();
        self.encode(protocol, &mut buf)?;
        Ok(buf)
    }

    fn flags(&self) -> u8 {
        match self {
            Self::Publish(p) => publish_flags(p),
            _ => self.packet_type().required_flags().unwrap_or(0),
        }
    }

    fn remaining_length(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let v5 = protocol.is_v5();
        let props = |p: &Properties, kind: PacketKind| -> Result<usize, EncodeError> {
            if !v5 {
                return Ok(0);
            }
            check_kind(p, kind)?;
            p.encoded_len()
        };
        let len = match self {
            Self::Connect(c) => connect_len(c)?,
            Self::Publish(p) => p.remaining_length(protocol)?,
            Self::ConnAck(a) if v5 => {
                if a.session_present && a.reason.is_error() {
                    return Err(EncodeError::SessionPresentWithError(a.reason));
                }
                check_reason(a.reason, ReasonPacket::ConnAck)?;
                2 + props(&a.properties, PacketKind::ConnAck)?
            }
            Self::PubAck(a) if v5 => 2 + tail_len(a.reason, &a.properties, PacketKind::PubAck, true)?,
            Self::PubRec(a) if v5 => 2 + tail_len(a.reason, &a.properties, PacketKind::PubRec, true)?,
            Self::PubRel(a) if v5 => 2 + tail_len(a.reason, &a.properties, PacketKind::PubRel, true)?,
            Self::PubComp(a) if v5 => 2 + tail_len(a.reason, &a.properties, PacketKind::PubComp, true)?,
            Self::UnsubAck(u) if v5 => {
                for r in &u.reasons {
                    check_reason(*r, ReasonPacket::UnsubAck)?;
                }
                2 + props(&u.properties, PacketKind::UnsubAck)? + u.reasons.len()
            }
            Self::ConnAck(_)
            | Self::PubAck(_)
            | Self::PubRec(_)
            | Self::PubRel(_)
            | Self::PubComp(_)
            | Self::UnsubAck(_) => 2,
            Self::Subscribe(s) => {
                if s.filters.is_empty() {
                    return Err(EncodeError::SubscribeWithoutFilters);
                }
                2 + props(&s.properties, PacketKind::Subscribe)?
                    + s.filters.iter().map(|(f, _)| 3 + f.as_str().len()).sum::<usize>()
            }
            Self::SubAck(s) => {
                for code in &s.codes {
                    if let SubAckCode::Failure(r) = code {
                        check_reason(*r, ReasonPacket::SubAck)?;
                        if !r.is_error() {
                            return Err(EncodeError::ReasonCode(ReasonCodeError {
                                packet: ReasonPacket::SubAck,
                                code: *r as u8,
                            }));
                        }
                    }
                }
                2 + props(&s.properties, PacketKind::SubAck)? + s.codes.len()
            }
            Self::Unsubscribe(u) => {
                if u.filters.is_empty() {
                    return Err(EncodeError::UnsubscribeWithoutFilters);
                }
                2 + props(&u.properties, PacketKind::Unsubscribe)?
                    + u.filters.iter().map(|f| 2 + f.as_str().len()).sum::<usize>()
            }
            Self::Disconnect(d) if v5 => tail_len(d.reason, &d.properties, PacketKind::Disconnect, true)?,
            Self::Auth(a) if v5 => {
                // The Authentication Method is required [MQTT-3.15.2.2.2], so AUTH never takes
                // its short form.
                let len = tail_len(a.reason, &a.properties, PacketKind::Auth, false)?;
                if a.properties.get(PropertyId::AuthenticationMethod).is_none() {
                    return Err(EncodeError::AuthWithoutMethod);
                }
                len
            }
            Self::Auth(_) => return Err(EncodeError::AuthBeforeV5),
            Self::PingReq | Self::PingResp | Self::Disconnect(_) => 0,
        };
        if len > MAX_REMAINING_LENGTH {
            return Err(EncodeError::PacketTooLarge(len));
        }
        Ok(len)
    }
}

impl Publish {
    /// The encoded size of this PUBLISH for a `protocol` connection, fixed header included.
    #[inline]
    pub fn encoded_len(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let remaining = self.remaining_length(protocol)?;
        Ok(1 + remaining_length_bytes(remaining) + remaining)
    }

    #[inline]
    fn remaining_length(&self, protocol: Protocol) -> Result<usize, EncodeError> {
        let properties = if protocol.is_v5() {
            check_kind(&self.properties, PacketKind::PublishToClient)?;
            self.properties.encoded_len()?
        } else {
            0
        };
        Ok(2 + self.topic.as_str().len()
            + if self.qos_pid.pid().is_some() { 2 } else { 0 }
            + properties
            + self.payload.len())
    }
}

fn publish_flags(p: &Publish) -> u8 {
    (u8::from(p.dup) << 3) | ((p.qos() as u8) << 1) | u8::from(p.retain)
}

/// Every property of `properties` may appear in a `kind` block.
fn check_kind(properties: &Properties, kind: PacketKind) -> Result<(), EncodeError> {
    match properties.iter().find(|p| kind.section(p.id()).is_none()) {
        Some(p) => Err(EncodeError::Property(PropertyError::NotAllowed { id: p.id(), packet: kind })),
        None => Ok(()),
    }
}

fn check_reason(reason: ReasonCode, packet: ReasonPacket) -> Result<(), EncodeError> {
    if reason.valid_in(packet) {
        Ok(())
    } else {
        Err(EncodeError::ReasonCode(ReasonCodeError { packet, code: reason as u8 }))
    }
}

fn connect_len(c: &Connect) -> Result<usize, EncodeError> {
    let v5 = c.protocol.is_v5();
    let mut len = 2 + c.protocol.name().len() + 1 + 1 + 2;
    if v5 {
        check_kind(&c.properties, PacketKind::Connect)?;
        len += c.properties.encoded_len()?;
    }
    len += checked_str("client identifier", &c.client_id)?;
    if let Some(w) = &c.will {
        if v5 {
            check_kind(&w.properties, PacketKind::Will)?;
            len += w.properties.encoded_len()?;
        }
        len += 2 + w.topic.as_str().len() + checked("will message", w.payload.len())?;
    }
    if let Some(u) = &c.username {
        len += checked_str("user name", u)?;
    }
    if let Some(p) = &c.password {
        len += checked("password", p.len())?;
    }
    Ok(len)
}

fn put_connect(buf: &mut BytesMut, c: &Connect) -> Result<(), EncodeError> {
    let v5 = c.protocol.is_v5();
    put_str(buf, c.protocol.name());
    buf.put_u8(c.protocol.level() | if c.bridge && !v5 { 0x80 } else { 0 });
    let mut flags = u8::from(c.clean_session) << 1;
    if let Some(w) = &c.will {
        flags |= 0x04 | ((w.qos as u8) << 3) | (u8::from(w.retain) << 5);
    }
    flags |= u8::from(c.password.is_some()) << 6;
    flags |= u8::from(c.username.is_some()) << 7;
    buf.put_u8(flags);
    buf.put_u16(c.keep_alive);
    if v5 {
        c.properties.encode(buf)?;
    }
    put_str(buf, &c.client_id);
    if let Some(w) = &c.will {
        if v5 {
            w.properties.encode(buf)?;
        }
        put_str(buf, w.topic.as_str());
        put_bytes(buf, &w.payload);
    }
    if let Some(u) = &c.username {
        put_str(buf, u);
    }
    if let Some(p) = &c.password {
        put_bytes(buf, p);
    }
    Ok(())
}

/// A reason code and properties in their shortest form: `len` (from [`tail_len`]) says which.
fn put_tail(buf: &mut BytesMut, reason: ReasonCode, properties: &Properties, len: usize) -> Result<(), EncodeError> {
    if len > 0 {
        buf.put_u8(reason as u8);
    }
    if len > 1 {
        properties.encode(buf)?;
    }
    Ok(())
}

fn put_str(buf: &mut BytesMut, s: &str) {
    put_bytes(buf, s.as_bytes());
}

// Lengths were checked by `remaining_length` before anything was written.
fn put_bytes(buf: &mut BytesMut, b: &[u8]) {
    buf.put_u16(b.len() as u16);
    buf.put_slice(b);
}

/// Appends a remaining length in MQTT's variable-length encoding (1 to 4 bytes).
pub fn put_remaining_length(buf: &mut BytesMut, mut len: usize) {
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        buf.put_u8(byte);
        if len == 0 {
            return;
        }
    }
}

impl QosPid {
    /// The same QoS with another packet id.
    #[must_use]
    pub const fn with_pid(self, pid: PacketId) -> Self {
        Self::with(self.qos(), pid)
    }
}
