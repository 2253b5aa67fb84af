//! Client frames to the MQTT byte stream, in place: the bytes just read are unmasked where
//! they lie and their payloads moved down over the headers, so a connection needs no buffer of
//! its own for data frames. MQTT packets may be split across frames or joined in one any way
//! [MQTT-6.0.0-2]: payloads are a byte stream, and frame boundaries mean nothing.

use super::frame::{FrameError, MAX_HEADER_LEN, Opcode, decode_frame, unmask};

/// What one call of [`Deframer::unframe`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Unframed {
    /// The MQTT bytes, now at the start of the buffer given.
    pub data: usize,
    /// The payload of the last complete ping frame, to answer with a pong (RFC 6455 5.5.3 lets
    /// only the most recent be answered).
    pub ping: Option<Vec<u8>>,
    /// A close frame arrived: its payload (status code and reason). Bytes after it are ignored.
    pub close: Option<Vec<u8>>,
}

/// The frame being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Current {
    /// Between frames.
    Header,
    /// Payload of a binary or continuation frame.
    Data,
    /// Payload of a control frame, gathered in `control`.
    Control(Opcode),
}

/// The reading half of a server's WebSocket connection, as a state machine over bytes: about
/// 50 bytes while idle (no heap).
#[derive(Debug)]
pub struct Deframer {
    /// The largest data frame payload accepted.
    max_payload: usize,
    /// A header that arrived in parts.
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    current: Current,
    /// Payload bytes of the current frame still to come.
    left: u64,
    mask: [u8; 4],
    /// Payload bytes of the current frame already unmasked: where in the mask to resume.
    offset: u8,
    /// A binary message whose last frame has not arrived: continuation frames are expected.
    fragmented: bool,
    /// A control frame's payload (at most 125 bytes); allocated only while one is read.
    control: Vec<u8>,
}

impl Deframer {
    /// Data frames with a payload over `max_payload` are refused from their header.
    pub fn new(max_payload: usize) -> Self {
        Self {
            max_payload,
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            current: Current::Header,
            left: 0,
            mask: [0; 4],
            offset: 0,
            fragmented: false,
            control: Vec::new(),
        }
    }

    /// Whether the stream is between frames (a clean place for the peer to stop).
    pub fn between_frames(&self) -> bool {
        self.current == Current::Header && self.header_len == 0
    }

    /// Consumes `raw`, bytes as read from the client, and leaves the MQTT bytes they carry at
    /// the start of `raw` (`data` of them). Stops at a close frame.
    ///
    /// # Errors
    /// A frame is refused ([`FrameError`]); the connection must be closed with its code.
    pub fn unframe(&mut self, raw: &mut [u8]) -> Result<Unframed, FrameError> {
        let mut out = Unframed::default();
        let mut pos = 0;
        while pos < raw.len() {
            match self.current {
                Current::Header => pos += self.header(&raw[pos..])?,
                Current::Data => {
                    let n = self.take(raw.len() - pos);
                    let payload = &mut raw[pos..pos + n];
                    unmask(payload, self.mask, usize::from(self.offset));
                    raw.copy_within(pos..pos + n, out.data);
                    out.data += n;
                    pos += n;
                    self.advance(n);
                }
                Current::Control(_) => {
                    let n = self.take(raw.len() - pos);
                    self.control.extend_from_slice(&raw[pos..pos + n]);
                    pos += n;
                    self.advance(n);
                }
            }
            if self.current != Current::Header && self.left == 0 {
                self.complete(&mut out);
                if out.close.is_some() {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Reads (part of) a header from `raw`; returns how many bytes of `raw` it used.
    fn header(&mut self, raw: &[u8]) -> Result<usize, FrameError> {
        let had = usize::from(self.header_len);
        let n = (MAX_HEADER_LEN - had).min(raw.len());
        self.header[had..had + n].copy_from_slice(&raw[..n]);
        let Some((header, len)) = decode_frame(&self.header[..had + n], self.max_payload)? else {
            self.header_len = (had + n) as u8;
            return Ok(n);
        };
        match header.opcode {
            Opcode::Continuation if !self.fragmented => {
                return Err(FrameError::Bad("continuation frame with no message to continue"));
            }
            Opcode::Binary if self.fragmented => {
                return Err(FrameError::Bad("new message before the last one's final frame"));
            }
            Opcode::Continuation | Opcode::Binary => {
                self.fragmented = !header.fin;
                self.current = Current::Data;
            }
            opcode => {
                self.control = Vec::with_capacity(header.payload_len as usize);
                self.current = Current::Control(opcode);
            }
        }
        self.header_len = 0;
        self.left = header.payload_len;
        self.mask = header.mask;
        self.offset = 0;
        Ok(len - had)
    }

    /// How many of `available` bytes belong to the current frame.
    fn take(&self, available: usize) -> usize {
        usize::try_from(self.left).map_or(available, |left| left.min(available))
    }

    fn advance(&mut self, n: usize) {
        self.left -= n as u64;
        self.offset = ((usize::from(self.offset) + n) % 4) as u8;
    }

    /// The current frame has all its payload.
    fn complete(&mut self, out: &mut Unframed) {
        if let Current::Control(opcode) = self.current {
            let mut payload = std::mem::take(&mut self.control);
            unmask(&mut payload, self.mask, 0);
            match opcode {
                Opcode::Ping => out.ping = Some(payload),
                Opcode::Close => out.close = Some(payload),
                _ => {}
            }
        }
        self.current = Current::Header;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASK: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];

    fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![b0];
        if payload.len() < 126 {
            f.push(0x80 | payload.len() as u8);
        } else {
            f.push(0x80 | 0x7E);
            f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        f.extend_from_slice(&MASK);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
        f
    }

    /// The data, the pings' payloads and the close frame's.
    type Fed = (Vec<u8>, Vec<Vec<u8>>, Option<Vec<u8>>);

    /// Feeds `wire` in pieces of `step` bytes; returns the data and the control payloads seen.
    fn feed(wire: &[u8], step: usize) -> Result<Fed, FrameError> {
        let mut d = Deframer::new(1000);
        let (mut data, mut pings, mut close) = (Vec::new(), Vec::new(), None);
        for piece in wire.chunks(step) {
            let mut raw = piece.to_vec();
            let u = d.unframe(&mut raw)?;
            data.extend_from_slice(&raw[..u.data]);
            pings.extend(u.ping);
            if u.close.is_some() {
                close = u.close;
                break;
            }
        }
        Ok((data, pings, close))
    }

    #[test]
    fn data_is_the_same_however_frames_and_reads_cut_it() {
        let message: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        let mut wire = frame(0x02, &message[..1]);
        wire.extend(frame(0x00, &message[1..300]));
        wire.extend(frame(0x89, b"are you there"));
        wire.extend(frame(0x80, &message[300..301]));
        wire.extend(frame(0x82, &message[301..]));
        wire.extend(frame(0x82, &[]));
        for step in [1, 2, 3, 5, 7, 13, 64, 1000, wire.len()] {
            let (data, pings, close) = feed(&wire, step).unwrap();
            assert_eq!(data, message, "step {step}");
            assert_eq!(pings, vec![b"are you there".to_vec()], "step {step}");
            assert_eq!(close, None);
        }
    }

    #[test]
    fn a_close_frame_ends_the_stream_and_hands_back_its_code() {
        let mut wire = frame(0x82, b"abc");
        wire.extend(frame(0x88, &1000u16.to_be_bytes()));
        wire.extend(frame(0x82, b"ignored"));
        let (data, _, close) = feed(&wire, wire.len()).unwrap();
        assert_eq!((data, close), (b"abc".to_vec(), Some(vec![0x03, 0xE8])));
    }

    #[test]
    fn continuation_rules_are_kept() {
        assert!(matches!(feed(&frame(0x80, b"x"), 100), Err(FrameError::Bad(_))), "continuation of nothing");
        let mut two = frame(0x02, b"x");
        two.extend(frame(0x82, b"y"));
        assert!(matches!(feed(&two, 100), Err(FrameError::Bad(_))), "new message inside one");
        assert!(matches!(feed(&frame(0x82, &[0; 1001]), 3), Err(FrameError::TooLarge { len: 1001, max: 1000 })));
    }

    #[test]
    fn the_idle_state_is_small_and_holds_no_heap() {
        let mut d = Deframer::new(10);
        let mut raw = frame(0x89, b"p");
        d.unframe(&mut raw).unwrap();
        assert!(d.between_frames());
        assert_eq!(d.control.capacity(), 0);
        assert!(size_of::<Deframer>() <= 64, "{}", size_of::<Deframer>());
    }
}
