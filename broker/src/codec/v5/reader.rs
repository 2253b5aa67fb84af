//! A cursor over the bytes of one packet for the property decoder, which records every field it
//! reads when the inspector asks. Its own rather than decode.rs's `Reader`, which speaks the
//! MQTT 3.1.1 [`DecodeError`](crate::codec::DecodeError): MQTT 5 adds variable byte integers
//! inside the packet and a limit (the property length) short of the packet's end.

use crate::codec::{Field, Part};

use super::PropertyError;

pub(super) struct Reader<'a, 'f> {
    packet: &'a [u8],
    pos: usize,
    /// Reads stop here: the end of the packet, then of the property block.
    end: usize,
    within: &'static str,
    part: Part,
    fields: Option<&'f mut Vec<Field>>,
}

impl<'a, 'f> Reader<'a, 'f> {
    pub(super) fn new(packet: &'a [u8], pos: usize, part: Part, fields: Option<&'f mut Vec<Field>>) -> Self {
        Self { packet, pos: pos.min(packet.len()), end: packet.len(), within: "the packet", part, fields }
    }

    pub(super) const fn pos(&self) -> usize {
        self.pos
    }

    pub(super) const fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    /// Lets reads go no further than `len` bytes from here.
    pub(super) fn limit(&mut self, len: usize) -> Result<(), PropertyError> {
        let available = self.end - self.pos;
        if len > available {
            return Err(PropertyError::LengthBeyondPacket { len, available });
        }
        self.end = self.pos + len;
        self.within = "the property block";
        Ok(())
    }

    /// Records the bytes from `start` to here; the closures run only when recording.
    pub(super) fn record(&mut self, start: usize, name: impl FnOnce() -> String, value: impl FnOnce() -> String) {
        if let Some(fields) = self.fields.as_deref_mut() {
            fields.push(Field { name: name(), part: self.part, range: start..self.pos, mask: None, value: value() });
        }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PropertyError> {
        if self.end - self.pos < n {
            return Err(PropertyError::Truncated { what, within: self.within });
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.packet[start..self.pos])
    }

    /// A variable byte integer: at most 4 bytes [MQTT-1.5.5], and no more than its value needs
    /// [MQTT-1.5.5-1] (a last byte of 0 after the first says the same value in one byte less).
    /// Not recorded: callers name it.
    pub(super) fn variable(&mut self, what: &'static str) -> Result<u32, PropertyError> {
        let mut value = 0u32;
        for i in 0..4 {
            let byte = self.take(1, what)?[0];
            value |= u32::from(byte & 0x7F) << (7 * i);
            if byte & 0x80 == 0 {
                if i > 0 && byte == 0 {
                    return Err(PropertyError::VariableIntegerNotMinimal { what });
                }
                return Ok(value);
            }
        }
        Err(PropertyError::VariableIntegerTooLong { what })
    }

    /// A variable byte integer, recorded as `what`.
    pub(super) fn variable_field(&mut self, what: &'static str) -> Result<u32, PropertyError> {
        let start = self.pos;
        let v = self.variable(what)?;
        self.record(start, || what.to_owned(), || v.to_string());
        Ok(v)
    }

    pub(super) fn u8(&mut self, what: &'static str) -> Result<u8, PropertyError> {
        let v = self.take(1, what)?[0];
        self.record(self.pos - 1, || what.to_owned(), || v.to_string());
        Ok(v)
    }

    pub(super) fn u16(&mut self, what: &'static str) -> Result<u16, PropertyError> {
        let b = self.take(2, what)?;
        let v = u16::from_be_bytes([b[0], b[1]]);
        self.record(self.pos - 2, || what.to_owned(), || v.to_string());
        Ok(v)
    }

    pub(super) fn u32(&mut self, what: &'static str) -> Result<u32, PropertyError> {
        let b = self.take(4, what)?;
        let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        self.record(self.pos - 4, || what.to_owned(), || v.to_string());
        Ok(v)
    }

    /// Binary data: a two-byte length, then that many bytes. A `secret` shows only its length.
    pub(super) fn binary(&mut self, what: &'static str, secret: bool) -> Result<&'a [u8], PropertyError> {
        let data = self.prefixed(what)?;
        self.record(
            self.pos - data.len(),
            || what.to_owned(),
            || {
                if secret { format!("<{} bytes>", data.len()) } else { format!("{:?}", String::from_utf8_lossy(data)) }
            },
        );
        Ok(data)
    }

    /// A UTF-8 encoded string: well-formed [MQTT-1.5.4-1] and free of U+0000 [MQTT-1.5.4-2].
    pub(super) fn string(&mut self, what: &'static str) -> Result<&'a str, PropertyError> {
        let bytes = self.prefixed(what)?;
        let s = std::str::from_utf8(bytes).map_err(|_| PropertyError::InvalidUtf8 { what })?;
        if s.contains('\0') {
            return Err(PropertyError::NullCharacter { what });
        }
        self.record(self.pos - bytes.len(), || what.to_owned(), || format!("{s:?}"));
        Ok(s)
    }

    /// A two-byte length, recorded as "`what` length", and the bytes it counts.
    fn prefixed(&mut self, what: &'static str) -> Result<&'a [u8], PropertyError> {
        let b = self.take(2, what)?;
        let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
        self.record(self.pos - 2, || format!("{what} length"), || len.to_string());
        self.take(len, what)
    }
}
