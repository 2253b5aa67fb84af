use super::*;

/// A server frame (unmasked) with opcode `op` carrying `payload`.
fn server_frame(op: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | op];
    match payload.len() {
        n @ 0..=125 => f.push(n as u8),
        n @ 126..=0xffff => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

/// What a decoder gave back: MQTT bytes, ping payloads, and whether a close frame came.
type Decoded = (Vec<u8>, Vec<Vec<u8>>, bool);

/// Feeds `wire` to a decoder in pieces of `step` bytes.
fn decode_in_steps(wire: &[u8], step: usize) -> Result<Decoded, FrameError> {
    let mut d = Decoder::default();
    let (mut bytes, mut pings) = (Vec::new(), Vec::new());
    for piece in wire.chunks(step) {
        let mut buf = piece.to_vec();
        let u = d.unframe(&mut buf)?;
        bytes.extend_from_slice(&buf[..u.kept]);
        pings.extend(u.ping);
    }
    Ok((bytes, pings, d.closed))
}

#[test]
fn frames_split_or_joined_anywhere_give_back_the_same_bytes() {
    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let mid: Vec<u8> = (0..300u32).map(|i| (i % 7) as u8).collect();
    let mut wire = server_frame(BINARY, b"\x20\x02\x00\x00");
    wire.extend(server_frame(PING, b"hi"));
    wire.extend(server_frame(BINARY, &big));
    // A message in two fragments, a pong between them, then an empty frame.
    wire.extend([0x02, 3, b'a', b'b', b'c']);
    wire.extend(server_frame(PONG, b""));
    wire.extend(server_frame(CONTINUATION, &mid));
    wire.extend(server_frame(BINARY, b""));
    let mut expected = b"\x20\x02\x00\x00".to_vec();
    expected.extend_from_slice(&big);
    expected.extend_from_slice(b"abc");
    expected.extend_from_slice(&mid);
    for step in [1, 2, 3, 13, 125, 4096, wire.len()] {
        let (bytes, pings, closed) = decode_in_steps(&wire, step).unwrap();
        assert!(bytes == expected, "step {step}: {} bytes, {} expected", bytes.len(), expected.len());
        assert_eq!((pings, closed), (vec![b"hi".to_vec()], false), "step {step}");
    }
}

#[test]
fn close_ends_the_stream_and_nothing_after_it_is_read() {
    let mut wire = server_frame(BINARY, b"ab");
    wire.extend(server_frame(CLOSE, &1000u16.to_be_bytes()));
    wire.extend(server_frame(BINARY, b"cd"));
    for step in [1, 5, wire.len()] {
        let (bytes, _, closed) = decode_in_steps(&wire, step).unwrap();
        assert_eq!((bytes.as_slice(), closed), (&b"ab"[..], true), "step {step}");
    }
}

#[test]
fn refused_frames_are_named() {
    let masked = [0x82, 0x81, 1, 2, 3, 4, 5];
    assert_eq!(decode_in_steps(&masked, 1).unwrap_err(), FrameError::Masked);
    assert_eq!(decode_in_steps(&server_frame(TEXT, b"x"), 9).unwrap_err(), FrameError::Text);
    assert_eq!(decode_in_steps(&[0xC2, 0], 2).unwrap_err(), FrameError::Reserved);
    assert_eq!(decode_in_steps(&[0x83, 0], 2).unwrap_err(), FrameError::Opcode(3));
    // A ping without FIN, and one of 126 bytes.
    assert_eq!(decode_in_steps(&[0x09, 0], 2).unwrap_err(), FrameError::Control(PING));
    assert_eq!(decode_in_steps(&server_frame(PING, &[0; 126]), 200).unwrap_err(), FrameError::Control(PING));
    assert!(FrameError::Text.to_string().contains("binary only"));
}

/// Takes a client frame apart: (first byte, payload unmasked).
fn unmask(frame: &[u8]) -> (u8, Vec<u8>) {
    assert_eq!(frame[1] & 0x80, 0x80, "client frames are masked");
    let (len, at) = match frame[1] & 0x7f {
        126 => (usize::from(u16::from_be_bytes([frame[2], frame[3]])), 4),
        127 => (usize::try_from(u64::from_be_bytes(frame[2..10].try_into().unwrap())).unwrap(), 10),
        n => (usize::from(n), 2),
    };
    let key: [u8; 4] = frame[at..at + 4].try_into().unwrap();
    let mut payload = frame[at + 4..].to_vec();
    assert_eq!(payload.len(), len);
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
    (frame[0], payload)
}

#[test]
fn client_frames_are_masked_with_changing_keys_and_every_length_form() {
    let mut m = Masker::new();
    for len in [0, 1, 7, 8, 9, 125, 126, 65_535, 65_536] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 256) as u8).collect();
        let mut out = Vec::new();
        m.binary(&mut out, &payload);
        assert_eq!(unmask(&out), (0x82, payload.clone()), "length {len}");
        if len >= 8 {
            assert_ne!(&out[out.len() - len..], &payload[..], "length {len}: sent unmasked");
        }
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    m.pong(&mut a, b"p");
    m.pong(&mut b, b"p");
    assert_eq!((unmask(&a), unmask(&b)), ((0x8A, b"p".to_vec()), (0x8A, b"p".to_vec())));
    assert_ne!(a[2..6], b[2..6], "two frames, one key");
    let mut c = Vec::new();
    m.close(&mut c);
    assert_eq!(unmask(&c), (0x88, vec![0x03, 0xE8]));
}
