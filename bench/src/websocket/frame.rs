//! WebSocket frames (RFC 6455 section 5) as a client sends and reads them: [`Encoder`] wraps
//! bytes in masked binary frames; [`Decoder`] takes the server's frames apart in place, in the
//! buffer the bytes were read into, so MQTT bytes are never copied into a second buffer.

use std::io;

/// Opcodes (RFC 6455 section 5.2).
const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// The largest header: 2 bytes, a 64-bit length and a masking key.
const MAX_HEADER: usize = 14;

/// The most payload a control frame carries (RFC 6455 section 5.5).
const MAX_CONTROL: u64 = 125;

/// A server frame the client must refuse: the connection is failed (RFC 6455 section 7.1.7).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the server sent a masked WebSocket frame (RFC 6455 5.1: servers never mask)")]
    Masked,
    #[error("the server sent a text WebSocket frame (MQTT over WebSocket is binary only [MQTT-6.0.0-1])")]
    Text,
    #[error("the server sent a WebSocket frame with reserved bits set and no extension agreed")]
    Reserved,
    #[error("the server sent a WebSocket frame with the unknown opcode {0:#x}")]
    Opcode(u8),
    #[error("the server sent a fragmented or oversized WebSocket control frame (opcode {0:#x})")]
    Control(u8),
}

impl From<FrameError> for io::Error {
    fn from(e: FrameError) -> Self {
        Self::new(io::ErrorKind::InvalidData, e)
    }
}

/// What the frame being read carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Binary or continuation: MQTT bytes, handed to the reader.
    Data,
    /// Ping, pong or close: collected in [`Decoder::control`].
    Control(u8),
}

/// The server's frames, taken apart as their bytes arrive, split or joined in any way.
#[derive(Debug, Default)]
pub struct Decoder {
    /// The header being read, which may arrive a byte at a time.
    head: [u8; MAX_HEADER],
    head_len: usize,
    /// The frame whose payload is being read (None: a header is expected).
    current: Option<(Kind, u64)>,
    /// The payload of the control frame being read (at most 125 bytes).
    control: Vec<u8>,
    /// The server sent a close frame: nothing after it is read.
    pub closed: bool,
}

/// What [`Decoder::unframe`] found in one read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Unframed {
    /// MQTT bytes, now at the start of the slice.
    pub kept: usize,
    /// The payload of the last ping, to be answered by a pong.
    pub ping: Option<Vec<u8>>,
}

impl Decoder {
    /// Takes the frames out of `data` in place: their payload bytes (MQTT) end up at its start,
    /// in order; headers and control frames are consumed.
    pub fn unframe(&mut self, data: &mut [u8]) -> Result<Unframed, FrameError> {
        let mut out = Unframed::default();
        let mut at = 0;
        while at < data.len() && !self.closed {
            let Some((kind, left)) = self.current else {
                at += self.read_header(&data[at..])?;
                if self.current.is_some_and(|(_, left)| left == 0) {
                    self.finish(&mut out);
                }
                continue;
            };
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(data.len() - at);
            match kind {
                Kind::Data => {
                    data.copy_within(at..at + n, out.kept);
                    out.kept += n;
                }
                Kind::Control(_) => self.control.extend_from_slice(&data[at..at + n]),
            }
            at += n;
            self.current = Some((kind, left - n as u64));
            if left == n as u64 {
                self.finish(&mut out);
            }
        }
        Ok(out)
    }

    /// Reads header bytes from `data`; returns how many it took. Sets `current` once the
    /// header is whole.
    fn read_header(&mut self, data: &[u8]) -> Result<usize, FrameError> {
        let mut took = 0;
        loop {
            // Two bytes, then as many as the second one says.
            let need = if self.head_len < 2 {
                2
            } else if self.head[1] & 0x80 != 0 {
                return Err(FrameError::Masked);
            } else {
                match self.head[1] & 0x7f {
                    126 => 4,
                    127 => 10,
                    _ => 2,
                }
            };
            if self.head_len == need {
                break;
            }
            let n = (need - self.head_len).min(data.len() - took);
            if n == 0 {
                return Ok(took);
            }
            self.head[self.head_len..self.head_len + n].copy_from_slice(&data[took..took + n]);
            self.head_len += n;
            took += n;
        }
        let len = match self.head_len {
            4 => u64::from(u16::from_be_bytes([self.head[2], self.head[3]])),
            10 => u64::from_be_bytes(self.head[2..10].try_into().unwrap_or_default()),
            _ => u64::from(self.head[1] & 0x7f),
        };
        self.head_len = 0;
        self.current = Some((kind_of(self.head[0], len)?, len));
        Ok(took)
    }

    /// The current frame's payload is complete.
    fn finish(&mut self, out: &mut Unframed) {
        match self.current.take() {
            Some((Kind::Control(PING), _)) => out.ping = Some(std::mem::take(&mut self.control)),
            Some((Kind::Control(CLOSE), _)) => self.closed = true,
            _ => self.control.clear(),
        }
    }
}

/// What a frame with first byte `b0` and payload length `len` carries, or why it is refused.
fn kind_of(b0: u8, len: u64) -> Result<Kind, FrameError> {
    if b0 & 0x70 != 0 {
        return Err(FrameError::Reserved);
    }
    match b0 & 0x0f {
        CONTINUATION | BINARY => Ok(Kind::Data),
        TEXT => Err(FrameError::Text),
        op @ (CLOSE | PING | PONG) if b0 & 0x80 == 0 || len > MAX_CONTROL => Err(FrameError::Control(op)),
        op @ (CLOSE | PING | PONG) => Ok(Kind::Control(op)),
        op => Err(FrameError::Opcode(op)),
    }
}

/// Client frames: masked with a fresh key each (RFC 6455 5.3), from a generator seeded once
/// per connection by OpenSSL's random bytes (the key must be unpredictable to the network, not
/// secret; a system call per frame would cost more than the frame).
#[derive(Debug)]
pub struct Masker(u64);

impl Masker {
    pub fn new() -> Self {
        let mut seed = [0u8; 8];
        // Never zero: xorshift would stay there. A failure of OpenSSL's generator leaves a
        // fixed seed, still a valid (if predictable) mask.
        let _ = openssl::rand::rand_bytes(&mut seed);
        Self(u64::from_ne_bytes(seed) | 1)
    }

    /// The next key (xorshift64*).
    fn key(&mut self) -> [u8; 4] {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let [a, b, c, d, ..] = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_be_bytes();
        [a, b, c, d]
    }

    /// Appends a binary frame carrying `payload` to `out`.
    pub fn binary(&mut self, out: &mut Vec<u8>, payload: &[u8]) {
        self.frame(out, BINARY, payload);
    }

    /// Appends a pong answering a ping that carried `payload`.
    pub fn pong(&mut self, out: &mut Vec<u8>, payload: &[u8]) {
        self.frame(out, PONG, payload);
    }

    /// Appends a close frame with status 1000 (normal closure).
    pub fn close(&mut self, out: &mut Vec<u8>) {
        self.frame(out, CLOSE, &1000u16.to_be_bytes());
    }

    fn frame(&mut self, out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
        out.reserve(MAX_HEADER + payload.len());
        out.push(0x80 | opcode);
        match payload.len() {
            n @ 0..=125 => out.push(0x80 | n as u8),
            n @ 126..=0xffff => {
                out.push(0x80 | 0x7e);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 0x7f);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let key = self.key();
        out.extend_from_slice(&key);
        let start = out.len();
        out.extend_from_slice(payload);
        mask(&mut out[start..], key);
    }
}

impl Default for Masker {
    fn default() -> Self {
        Self::new()
    }
}

/// XORs `data` with `key` repeated, eight bytes at a time.
pub fn mask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(<[u8; 8]>::try_from(&*chunk).unwrap_or_default()) ^ wide;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
