//! Encoding packets into bytes.

use bytes::{BufMut, BytesMut};

use super::decode::MAX_REMAINING_LENGTH;
use super::{Connect, EncodeError, Packet, PacketId, Publish, QosPid};

impl Packet {
    /// Appends the encoded packet to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let remaining = self.remaining_length()?;
        buf.reserve(remaining + 5);
        buf.put_u8(((self.packet_type() as u8) << 4) | self.flags());
        put_remaining_length(buf, remaining);
        match self {
            Self::Connect(c) => put_connect(buf, c),
            Self::ConnAck(a) => {
                buf.put_u8(u8::from(a.session_present));
                buf.put_u8(a.code as u8);
            }
            Self::Publish(p) => {
                put_str(buf, p.topic.as_str());
                if let Some(pid) = p.qos_pid.pid() {
                    buf.put_u16(pid.get());
                }
                buf.put_slice(&p.payload);
            }
            Self::PubAck(pid) | Self::PubRec(pid) | Self::PubRel(pid) | Self::PubComp(pid) | Self::UnsubAck(pid) => {
                buf.put_u16(pid.get());
            }
            Self::Subscribe(s) => {
                buf.put_u16(s.pid.get());
                for (filter, qos) in &s.filters {
                    put_str(buf, filter.as_str());
                    buf.put_u8(*qos as u8);
                }
            }
            Self::SubAck(s) => {
                buf.put_u16(s.pid.get());
                buf.extend(s.codes.iter().map(|c| c.to_u8()));
            }
            Self::Unsubscribe(u) => {
                buf.put_u16(u.pid.get());
                for filter in &u.filters {
                    put_str(buf, filter.as_str());
                }
            }
            Self::PingReq | Self::PingResp | Self::Disconnect => {}
        }
        Ok(())
    }

    /// The encoded size in bytes, fixed header included.
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        let remaining = self.remaining_length()?;
        Ok(1 + remaining_length_bytes(remaining) + remaining)
    }

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self) -> Result<BytesMut, EncodeError> {
        let mut buf = BytesMut::new();
        self.encode(&mut buf)?;
        Ok(buf)
    }

    fn flags(&self) -> u8 {
        match self {
            Self::Publish(p) => publish_flags(p),
            _ => self.packet_type().required_flags().unwrap_or(0),
        }
    }

    fn remaining_length(&self) -> Result<usize, EncodeError> {
        let len = match self {
            Self::Connect(c) => connect_len(c)?,
            Self::Publish(p) => {
                2 + p.topic.as_str().len() + if p.qos_pid.pid().is_some() { 2 } else { 0 } + p.payload.len()
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
                2 + s.filters.iter().map(|(f, _)| 3 + f.as_str().len()).sum::<usize>()
            }
            Self::SubAck(s) => 2 + s.codes.len(),
            Self::Unsubscribe(u) => {
                if u.filters.is_empty() {
                    return Err(EncodeError::UnsubscribeWithoutFilters);
                }
                2 + u.filters.iter().map(|f| 2 + f.as_str().len()).sum::<usize>()
            }
            Self::PingReq | Self::PingResp | Self::Disconnect => 0,
        };
        if len > MAX_REMAINING_LENGTH {
            return Err(EncodeError::PacketTooLarge(len));
        }
        Ok(len)
    }
}

fn publish_flags(p: &Publish) -> u8 {
    (u8::from(p.dup) << 3) | ((p.qos() as u8) << 1) | u8::from(p.retain)
}

fn checked(what: &'static str, len: usize) -> Result<usize, EncodeError> {
    if len > usize::from(u16::MAX) {
        return Err(EncodeError::StringTooLong { what, len });
    }
    Ok(2 + len)
}

/// A UTF-8 string field: at most 65535 bytes and no U+0000, which a receiver must refuse.
fn checked_str(what: &'static str, s: &str) -> Result<usize, EncodeError> {
    if s.contains('\0') {
        return Err(EncodeError::NullCharacter { what });
    }
    checked(what, s.len())
}

fn connect_len(c: &Connect) -> Result<usize, EncodeError> {
    let mut len = 2 + c.protocol.name().len() + 1 + 1 + 2;
    len += checked_str("client identifier", &c.client_id)?;
    if let Some(w) = &c.will {
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

fn put_connect(buf: &mut BytesMut, c: &Connect) {
    put_str(buf, c.protocol.name());
    buf.put_u8(c.protocol.level());
    let mut flags = u8::from(c.clean_session) << 1;
    if let Some(w) = &c.will {
        flags |= 0x04 | ((w.qos as u8) << 3) | (u8::from(w.retain) << 5);
    }
    flags |= u8::from(c.password.is_some()) << 6;
    flags |= u8::from(c.username.is_some()) << 7;
    buf.put_u8(flags);
    buf.put_u16(c.keep_alive);
    put_str(buf, &c.client_id);
    if let Some(w) = &c.will {
        put_str(buf, w.topic.as_str());
        put_bytes(buf, &w.payload);
    }
    if let Some(u) = &c.username {
        put_str(buf, u);
    }
    if let Some(p) = &c.password {
        put_bytes(buf, p);
    }
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

const fn remaining_length_bytes(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

impl QosPid {
    /// The same QoS with another packet id.
    #[must_use]
    pub const fn with_pid(self, pid: PacketId) -> Self {
        Self::with(self.qos(), pid)
    }
}
