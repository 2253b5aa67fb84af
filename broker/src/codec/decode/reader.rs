//! A cursor over the bytes of one whole packet that can record what it reads, for the packet
//! inspector, and that reads the MQTT 5.0 parts (properties, reason codes) through the v5
//! decoders, which record their own fields.

use bytes::Bytes;

use crate::codec::layout::{Field, Part};
use crate::codec::v5::{PacketKind, Properties, ReasonCode, ReasonPacket};
use crate::codec::{DecodeError, PacketId, PacketType};

pub(super) struct Reader<'a, 'f> {
    pub(super) packet: &'a [u8],
    pub(super) pos: usize,
    pub(super) part: Part,
    pub(super) fields: Option<&'f mut Vec<Field>>,
}

impl<'a> Reader<'a, '_> {
    #[inline]
    pub(super) const fn remaining(&self) -> usize {
        self.packet.len() - self.pos
    }

    #[inline]
    pub(super) fn record(&mut self, name: &str, start: usize, value: impl FnOnce() -> String) {
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

    /// The length field before `name`, named "`name` length". Its name is made only when the
    /// fields are recorded: made for every PUBLISH topic, it was an allocation per message.
    #[inline]
    fn record_length(&mut self, name: &str, start: usize, len: usize) {
        if self.fields.is_some() {
            self.record(&format!("{name} length"), start, || len.to_string());
        }
    }

    #[inline]
    pub(super) fn record_bits(&mut self, name: &str, at: usize, mask: u8, value: impl FnOnce() -> String) {
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

    #[inline]
    pub(super) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::LengthBeyondPacket { what, len: n });
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.packet[start..self.pos])
    }

    #[inline]
    pub(super) fn u8(&mut self, name: &'static str) -> Result<u8, DecodeError> {
        let v = self.take(1, name)?[0];
        self.record(name, self.pos - 1, || v.to_string());
        Ok(v)
    }

    #[inline]
    pub(super) fn u16(&mut self, name: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, name)?;
        let v = u16::from_be_bytes([b[0], b[1]]);
        self.record(name, self.pos - 2, || v.to_string());
        Ok(v)
    }

    #[inline]
    pub(super) fn pid(&mut self, packet: PacketType) -> Result<PacketId, DecodeError> {
        PacketId::new(self.u16("Packet identifier")?).ok_or(DecodeError::ZeroPacketId { packet })
    }

    /// A two-byte length and that many bytes; `name` labels both fields.
    pub(super) fn binary(&mut self, name: &str, what: &'static str, secret: bool) -> Result<Bytes, DecodeError> {
        let start = self.pos;
        let b = self.take(2, what)?;
        let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
        self.record_length(name, start, len);
        let start = self.pos;
        let data = Bytes::copy_from_slice(self.take(len, what)?);
        self.record(name, start, || {
            if secret { format!("<{len} bytes>") } else { format!("{:?}", String::from_utf8_lossy(&data)) }
        });
        Ok(data)
    }

    /// A UTF-8 string: well-formed [MQTT-1.5.3-1] and free of U+0000 [MQTT-1.5.3-2].
    pub(super) fn string(&mut self, name: &str, what: &'static str) -> Result<String, DecodeError> {
        self.str_field(name, what).map(str::to_owned)
    }

    /// [`Self::string`] borrowed from the packet: no allocation (a PUBLISH topic is copied
    /// once, straight into its `TopicName`).
    #[inline]
    pub(super) fn str_field(&mut self, name: &str, what: &'static str) -> Result<&'a str, DecodeError> {
        let start = self.pos;
        let b = self.take(2, what)?;
        let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
        self.record_length(name, start, len);
        let start = self.pos;
        let bytes = self.take(len, what)?;
        let s = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { what })?;
        if memchr::memchr(0, bytes).is_some() {
            return Err(DecodeError::NullCharacter { what });
        }
        self.record(name, start, || format!("{s:?}"));
        Ok(s)
    }

    /// An MQTT 5.0 property block (Property Length, then the properties) for a packet `kind`.
    pub(super) fn properties(&mut self, kind: PacketKind) -> Result<Properties, DecodeError> {
        let (properties, pos) = match self.fields.as_deref_mut() {
            Some(fields) => Properties::inspect(self.packet, self.pos, kind, fields)?,
            None => Properties::decode(self.packet, self.pos, kind)?,
        };
        self.pos = pos;
        Ok(properties)
    }

    /// An MQTT 5.0 reason code that `packet` may carry.
    pub(super) fn reason(&mut self, name: &str, packet: ReasonPacket) -> Result<ReasonCode, DecodeError> {
        let start = self.pos;
        let byte = self.take(1, "reason code")?[0];
        let reason = ReasonCode::decode(packet, byte);
        self.record(name, start, || match reason {
            Ok(r) => format!("{byte:#04x} ({})", r.name_in(packet)),
            Err(_) => format!("{byte:#04x} (not a {} reason code)", packet.name()),
        });
        Ok(reason?)
    }

    /// The reason code and properties at the end of an MQTT 5.0 packet, either of which may
    /// be left out: nothing means 0x00 without properties; a reason code alone (when
    /// `reason_alone`), no properties.
    pub(super) fn tail(
        &mut self,
        packet: ReasonPacket,
        kind: PacketKind,
        reason_alone: bool,
    ) -> Result<(ReasonCode, Properties), DecodeError> {
        if self.remaining() == 0 {
            return Ok((ReasonCode::Success, Properties::default()));
        }
        let reason = self.reason("Reason code", packet)?;
        if reason_alone && self.remaining() == 0 {
            return Ok((reason, Properties::default()));
        }
        Ok((reason, self.properties(kind)?))
    }

    pub(super) fn finish(&self, packet: PacketType) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingBytes { packet, extra }),
        }
    }
}
