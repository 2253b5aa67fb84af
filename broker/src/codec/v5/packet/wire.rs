//! The wire helpers of the MQTT 5.0 packets: a cursor over a packet body that answers
//! [`PacketError`]s, the reason code and properties that a packet may leave out, and exact
//! lengths checked before anything is written.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::v5::{PacketError, PacketKind, Properties, PropertyError, ReasonCode, ReasonPacket};
use crate::codec::{EncodeError, MAX_REMAINING_LENGTH, put_remaining_length};

/// A cursor over one packet body.
pub(super) struct Body<'a> {
    bytes: &'a [u8],
    pos: usize,
    packet: &'static str,
}

impl<'a> Body<'a> {
    pub(super) const fn new(bytes: &'a [u8], packet: &'static str) -> Self {
        Self { bytes, pos: 0, packet }
    }

    pub(super) const fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub(super) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PacketError> {
        if self.remaining() < n {
            return Err(PacketError::Truncated { packet: self.packet, what });
        }
        self.pos += n;
        Ok(&self.bytes[self.pos - n..self.pos])
    }

    pub(super) fn u8(&mut self, what: &'static str) -> Result<u8, PacketError> {
        Ok(self.take(1, what)?[0])
    }

    pub(super) fn u16(&mut self, what: &'static str) -> Result<u16, PacketError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(super) fn prefixed(&mut self, what: &'static str) -> Result<&'a [u8], PacketError> {
        let len = self.u16(what)?;
        self.take(usize::from(len), what)
    }

    pub(super) fn binary(&mut self, what: &'static str) -> Result<Bytes, PacketError> {
        self.prefixed(what).map(Bytes::copy_from_slice)
    }

    /// A UTF-8 encoded string: well-formed [MQTT-1.5.4-1] and free of U+0000 [MQTT-1.5.4-2].
    pub(super) fn string(&mut self, what: &'static str) -> Result<String, PacketError> {
        let s = std::str::from_utf8(self.prefixed(what)?).map_err(|_| PacketError::InvalidUtf8 { what })?;
        if s.contains('\0') {
            return Err(PacketError::NullCharacter { what });
        }
        Ok(s.to_owned())
    }

    pub(super) fn properties(&mut self, kind: PacketKind) -> Result<Properties, PacketError> {
        let (properties, pos) = Properties::decode(self.bytes, self.pos, kind)?;
        self.pos = pos;
        Ok(properties)
    }

    /// A reason code and properties, either of which may be left out: nothing means 0x00
    /// without properties, a reason code alone (when `reason_alone`) no properties.
    pub(super) fn tail(
        mut self,
        packet: ReasonPacket,
        kind: PacketKind,
        reason_alone: bool,
    ) -> Result<(ReasonCode, Properties), PacketError> {
        if self.remaining() == 0 {
            return Ok((ReasonCode::Success, Properties::default()));
        }
        let reason = ReasonCode::decode(packet, self.u8("reason code")?)?;
        if reason_alone && self.remaining() == 0 {
            return Ok((reason, Properties::default()));
        }
        let properties = self.properties(kind)?;
        self.finish()?;
        Ok((reason, properties))
    }

    pub(super) fn finish(&self) -> Result<(), PacketError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(PacketError::TrailingBytes { packet: self.packet, extra }),
        }
    }
}

/// The bytes of a reason code and properties in their shortest form (see [`Body::tail`]).
pub(super) fn tail_len(
    reason: ReasonCode,
    properties: &Properties,
    packet: ReasonPacket,
    kind: PacketKind,
    reason_alone: bool,
) -> Result<usize, PacketError> {
    check_reason(reason, packet)?;
    check_properties(properties, kind)?;
    Ok(match (reason, properties.is_empty()) {
        (ReasonCode::Success, true) => 0,
        (_, true) if reason_alone => 1,
        _ => 1 + properties.encoded_len()?,
    })
}

pub(super) fn put_tail(
    buf: &mut BytesMut,
    reason: ReasonCode,
    properties: &Properties,
    len: usize,
) -> Result<(), PacketError> {
    if len > 0 {
        buf.put_u8(reason as u8);
    }
    if len > 1 {
        properties.encode(buf)?;
    }
    Ok(())
}

pub(super) fn check_reason(reason: ReasonCode, packet: ReasonPacket) -> Result<(), PacketError> {
    ReasonCode::decode(packet, reason as u8)?;
    Ok(())
}

/// Properties are validated when built, but for a kind they do not record: this checks that
/// each may appear in `kind`.
pub(super) fn check_properties(properties: &Properties, kind: PacketKind) -> Result<(), PacketError> {
    match properties.iter().find(|p| kind.section(p.id()).is_none()) {
        Some(p) => Err(PropertyError::NotAllowed { id: p.id(), packet: kind }.into()),
        None => Ok(()),
    }
}

/// A UTF-8 string field: at most 65535 bytes and no U+0000, which a receiver must refuse.
pub(super) fn str_len(what: &'static str, s: &str) -> Result<usize, EncodeError> {
    if s.contains('\0') {
        return Err(EncodeError::NullCharacter { what });
    }
    bin_len(what, s.as_bytes())
}

pub(super) fn bin_len(what: &'static str, b: &[u8]) -> Result<usize, EncodeError> {
    if b.len() > usize::from(u16::MAX) {
        return Err(EncodeError::StringTooLong { what, len: b.len() });
    }
    Ok(2 + b.len())
}

// Lengths were checked by `remaining_length` before anything was written.
pub(super) fn put_bin(buf: &mut BytesMut, b: &[u8]) {
    buf.put_u16(b.len() as u16);
    buf.put_slice(b);
}

/// Checks the remaining length, reserves room and writes the fixed header.
pub(super) fn header(buf: &mut BytesMut, first: u8, remaining: usize) -> Result<usize, EncodeError> {
    if remaining > MAX_REMAINING_LENGTH {
        return Err(EncodeError::PacketTooLarge(remaining));
    }
    buf.reserve(packet_len(remaining));
    buf.put_u8(first);
    put_remaining_length(buf, remaining);
    Ok(remaining)
}

/// The size of a whole packet whose remaining length is `remaining`.
pub(super) const fn packet_len(remaining: usize) -> usize {
    1 + match remaining {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    } + remaining
}
