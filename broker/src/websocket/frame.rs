//! RFC 6455 frame headers (section 5.2) as a server reads them from clients and writes its own,
//! and unmasking (5.3).

/// A frame's opcode (RFC 6455 5.2); the reserved ones are refused by [`decode_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    const fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, ping and pong: at most 125 bytes, never fragmented (RFC 6455 5.5).
    pub const fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A client frame's header, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The last frame of its message.
    pub fin: bool,
    pub opcode: Opcode,
    /// The masking key every client frame carries (RFC 6455 5.1).
    pub mask: [u8; 4],
    pub payload_len: u64,
}

/// The largest frame header: 2 bytes, 8 of extended length, 4 of mask.
pub const MAX_HEADER_LEN: usize = 14;

/// The payload of a control frame at most (RFC 6455 5.5).
pub const MAX_CONTROL_PAYLOAD: u64 = 125;

/// Close status codes the broker sends (RFC 6455 7.4.1).
pub mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const UNSUPPORTED_DATA: u16 = 1003;
    pub const TOO_BIG: u16 = 1009;
}

/// Why a client frame is refused; each names the rule and the close code sent back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// MQTT travels in binary frames only [MQTT-6.0.0-1].
    #[error("text frame (MQTT-6.0.0-1)")]
    Text,
    #[error("unmasked client frame (RFC 6455 5.1)")]
    Unmasked,
    /// Refused from the header, before any of the payload is buffered.
    #[error("frame over the largest MQTT packet ({len} bytes declared, {max} allowed)")]
    TooLarge { len: u64, max: u64 },
    /// Reserved bits or opcodes, an oversized or fragmented control frame, a continuation of
    /// nothing, a 64-bit length with its top bit set.
    #[error("bad frame: {0}")]
    Bad(&'static str),
}

impl FrameError {
    /// The status code of the close frame that answers it.
    pub const fn close_code(&self) -> u16 {
        match self {
            Self::Text => close_code::UNSUPPORTED_DATA,
            Self::TooLarge { .. } => close_code::TOO_BIG,
            Self::Unmasked | Self::Bad(_) => close_code::PROTOCOL_ERROR,
        }
    }
}

/// Decodes and checks the header of a client frame at the start of `buf`: `Ok(None)` while
/// `buf` holds only part of it, else the header and its length in bytes.
///
/// Refused, as early as the bytes at hand show it: reserved bits or opcodes, text frames,
/// unmasked frames, control frames that are fragmented or over 125 bytes, and data frames whose
/// declared payload is over `max_payload` (so a 2^63-byte claim costs nothing). Stateless:
/// whether a continuation frame continues anything is [`super::Deframer`]'s business.
///
/// # Errors
/// The frame breaks RFC 6455 or MQTT's rules for WebSocket ([`FrameError`]).
pub fn decode_frame(buf: &[u8], max_payload: usize) -> Result<Option<(FrameHeader, usize)>, FrameError> {
    let [b0, b1, rest @ ..] = buf else { return Ok(None) };
    if b0 & 0x70 != 0 {
        return Err(FrameError::Bad("reserved bits set (no extension was negotiated)"));
    }
    let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(FrameError::Bad("reserved opcode"))?;
    let fin = b0 & 0x80 != 0;
    if opcode == Opcode::Text {
        return Err(FrameError::Text);
    }
    if b1 & 0x80 == 0 {
        return Err(FrameError::Unmasked);
    }
    let short = u64::from(b1 & 0x7F);
    if opcode.is_control() {
        if !fin {
            return Err(FrameError::Bad("fragmented control frame (RFC 6455 5.5)"));
        }
        if short > MAX_CONTROL_PAYLOAD {
            return Err(FrameError::Bad("control frame over 125 bytes (RFC 6455 5.5)"));
        }
    }
    let (payload_len, extended) = match short {
        126 => {
            let Some(bytes) = rest.first_chunk::<2>() else { return Ok(None) };
            (u64::from(u16::from_be_bytes(*bytes)), 2)
        }
        127 => {
            let Some(bytes) = rest.first_chunk::<8>() else { return Ok(None) };
            let len = u64::from_be_bytes(*bytes);
            if len >> 63 != 0 {
                return Err(FrameError::Bad("64-bit length with its most significant bit set (RFC 6455 5.2)"));
            }
            (len, 8)
        }
        n => (n, 0),
    };
    let max = max_payload as u64;
    if !opcode.is_control() && payload_len > max {
        return Err(FrameError::TooLarge { len: payload_len, max });
    }
    let Some(mask) = rest[extended..].first_chunk::<4>() else { return Ok(None) };
    let header = FrameHeader { fin, opcode, mask: *mask, payload_len };
    Ok(Some((header, 2 + extended + 4)))
}

/// Writes the header of an unmasked, final server frame of `len` bytes into `out`; returns its
/// length (2, 4 or 10).
pub fn encode_header(opcode: Opcode, len: usize, out: &mut [u8; 10]) -> usize {
    out[0] = 0x80 | opcode.bits();
    if len < 126 {
        out[1] = len as u8;
        2
    } else if let Ok(len) = u16::try_from(len) {
        out[1] = 126;
        out[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        out[1] = 127;
        out[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    }
}

/// A whole server control frame: close (with its status code), ping or pong.
pub fn control_frame(opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let payload = &payload[..payload.len().min(MAX_CONTROL_PAYLOAD as usize)];
    let mut header = [0; 10];
    let n = encode_header(opcode, payload.len(), &mut header);
    let mut frame = Vec::with_capacity(n + payload.len());
    frame.extend_from_slice(&header[..n]);
    frame.extend_from_slice(payload);
    frame
}

/// A close frame carrying `code` (RFC 6455 5.5.1).
pub fn close_frame(code: u16) -> Vec<u8> {
    control_frame(Opcode::Close, &code.to_be_bytes())
}

/// XORs `data` with the masking key, `data[0]` being byte `offset` of the payload (RFC 6455
/// 5.3). Eight bytes at a time: a publisher's payloads pass through here.
pub fn unmask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    let mut key = mask;
    key.rotate_left(offset % 4);
    let mut chunks = data.chunks_exact_mut(8);
    let wide = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASK: [u8; 4] = [1, 2, 3, 4];

    fn client_header(b0: u8, len: u64) -> Vec<u8> {
        let mut h = vec![b0];
        if len < 126 {
            h.push(0x80 | len as u8);
        } else if len <= 0xFFFF {
            h.push(0x80 | 0x7E);
            h.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            h.push(0x80 | 0x7F);
            h.extend_from_slice(&len.to_be_bytes());
        }
        h.extend_from_slice(&MASK);
        h
    }

    #[test]
    fn headers_of_every_length_form_decode_and_need_all_their_bytes() {
        for (len, header_len) in [(0, 6), (125, 6), (126, 8), (65_535, 8), (65_536, 14)] {
            let h = client_header(0x82, len);
            assert_eq!(h.len(), header_len);
            for cut in 0..h.len() {
                assert_eq!(decode_frame(&h[..cut], 1 << 20), Ok(None), "len {len}, {cut} bytes");
            }
            let (header, n) = decode_frame(&h, 1 << 20).unwrap().unwrap();
            assert_eq!(
                (header.payload_len, n, header.fin, header.opcode, header.mask),
                (len, header_len, true, Opcode::Binary, MASK)
            );
        }
        let (header, _) = decode_frame(&client_header(0x00, 3), 10).unwrap().unwrap();
        assert_eq!((header.fin, header.opcode), (false, Opcode::Continuation));
    }

    #[test]
    fn refusals_come_from_the_first_bytes_that_show_them() {
        assert_eq!(decode_frame(&[0x81, 0x85], 10), Err(FrameError::Text));
        assert_eq!(decode_frame(&[0x82, 0x05], 10), Err(FrameError::Unmasked));
        assert!(matches!(decode_frame(&[0xC2, 0x85], 10), Err(FrameError::Bad(_))), "RSV1");
        assert!(matches!(decode_frame(&[0x83, 0x85], 10), Err(FrameError::Bad(_))), "opcode 3");
        assert!(matches!(decode_frame(&[0x8B, 0x85], 10), Err(FrameError::Bad(_))), "opcode 0xB");
        assert!(matches!(decode_frame(&[0x09, 0x80], 10), Err(FrameError::Bad(_))), "fragmented ping");
        assert!(matches!(decode_frame(&[0x89, 0xFE], 10), Err(FrameError::Bad(_))), "ping of 126+");
        // The size is refused from the length alone, before the mask arrives.
        let big = client_header(0x82, 11);
        assert_eq!(decode_frame(&big[..2], 10), Err(FrameError::TooLarge { len: 11, max: 10 }));
        let huge = client_header(0x82, u64::MAX >> 1);
        assert_eq!(decode_frame(&huge[..10], 10), Err(FrameError::TooLarge { len: u64::MAX >> 1, max: 10 }));
        let top = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(decode_frame(&top, usize::MAX), Err(FrameError::Bad(_))));
        // Control frames are bounded by 125, not by max_payload.
        assert!(decode_frame(&client_header(0x88, 2), 0).unwrap().is_some());
        assert_eq!(FrameError::Text.close_code(), 1003);
        assert_eq!(FrameError::TooLarge { len: 2, max: 1 }.close_code(), 1009);
        assert_eq!(FrameError::Unmasked.close_code(), 1002);
    }

    #[test]
    fn server_headers_use_the_shortest_length_form() {
        let mut out = [0; 10];
        assert_eq!(encode_header(Opcode::Binary, 5, &mut out), 2);
        assert_eq!(out[..2], [0x82, 5]);
        assert_eq!(encode_header(Opcode::Binary, 300, &mut out), 4);
        assert_eq!(out[..4], [0x82, 126, 1, 44]);
        assert_eq!(encode_header(Opcode::Binary, 70_000, &mut out), 10);
        assert_eq!(out[..10], [0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
        assert_eq!(close_frame(1002), vec![0x88, 2, 0x03, 0xEA]);
    }

    #[test]
    fn unmasking_at_any_offset_matches_the_byte_by_byte_rule() {
        let plain: Vec<u8> = (0..=40).collect();
        for offset in 0..8 {
            for start in 0..4 {
                let mut data = plain[start..].to_vec();
                unmask(&mut data, MASK, offset);
                for (i, (got, orig)) in data.iter().zip(&plain[start..]).enumerate() {
                    assert_eq!(*got, orig ^ MASK[(offset + i) % 4], "offset {offset}, byte {i}");
                }
            }
        }
    }
}
