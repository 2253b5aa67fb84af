//! Lengths of encoded fields, checked against what the wire can say.

use crate::codec::EncodeError;
use crate::codec::v5::{PacketKind, Properties, PropertyError, ReasonCode};

pub(super) fn checked(what: &'static str, len: usize) -> Result<usize, EncodeError> {
    if len > usize::from(u16::MAX) {
        return Err(EncodeError::StringTooLong { what, len });
    }
    Ok(2 + len)
}

/// A UTF-8 string field: at most 65535 bytes and no U+0000, which a receiver must refuse.
pub(super) fn checked_str(what: &'static str, s: &str) -> Result<usize, EncodeError> {
    if s.contains('\0') {
        return Err(EncodeError::NullCharacter { what });
    }
    checked(what, s.len())
}

/// The bytes of an MQTT 5.0 reason code and properties in their shortest form: none for
/// 0x00 without properties, the reason code alone (where `reason_alone`) without properties.
pub(super) fn tail_len(
    reason: ReasonCode,
    properties: &Properties,
    kind: PacketKind,
    reason_alone: bool,
) -> Result<usize, EncodeError> {
    if let Some(packet) = kind.reason_packet()
        && !reason.valid_in(packet)
    {
        return Err(EncodeError::ReasonCode(crate::codec::v5::ReasonCodeError { packet, code: reason as u8 }));
    }
    if let Some(p) = properties.iter().find(|p| kind.section(p.id()).is_none()) {
        return Err(EncodeError::Property(PropertyError::NotAllowed { id: p.id(), packet: kind }));
    }
    Ok(match (reason, properties.is_empty()) {
        (ReasonCode::Success, true) => 0,
        (_, true) if reason_alone => 1,
        _ => 1 + properties.encoded_len()?,
    })
}

pub(super) const fn remaining_length_bytes(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}
