//! What the `ws_frame` fuzz target checks, shared by the target (`cargo fuzz run ws_frame`) and
//! the normal tests, which replay its committed inputs: the bytes a client sends a WebSocket
//! listener, through the broker's WebSocket codec (`mqtt_lab_broker::websocket`) as the
//! transport uses it. Panics on a finding: a panic in the codec, or a property that fails.
#![allow(dead_code, reason = "the fuzz target and the replaying test each use it")]

use mqtt_lab_broker::websocket::{
    Deframer, FrameError, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode, accept_key, content_type, decode_frame,
    error_response, parse_upgrade, static_path, switching_protocols,
};

/// `websockets_headers_size` values: small (cuts most requests), the default, no real limit.
const HEADER_LIMITS: [usize; 3] = [64, 4096, usize::MAX];

/// `max_packet_size` values: refuses any data, small, the protocol's maximum.
const PAYLOAD_LIMITS: [usize; 3] = [0, 100, 268_435_455];

/// The whole input as a connection's first bytes (upgrade request, then frames), then as
/// frames alone, then as a path for `http_dir`.
pub fn ws_frame(data: &[u8]) {
    for max in HEADER_LIMITS {
        upgrade(data, max);
    }
    for max in PAYLOAD_LIMITS {
        header(data, max);
        deframe(data, max);
    }
    path(&String::from_utf8_lossy(data));
}

/// A request is refused with a status the transport answers, or accepted within the limit, with
/// a 101 that carries the right accept key and one header block; the rest are frames.
fn upgrade(data: &[u8], max: usize) {
    match parse_upgrade(data, max) {
        Ok(None) => assert!(data.len() < max, "incomplete, yet over the {max}-byte limit"),
        Ok(Some(up)) => {
            assert!(
                up.len <= data.len() && up.len <= max,
                "request of {} bytes, {} read, limit {max}",
                up.len,
                data.len()
            );
            let answer = switching_protocols(&up);
            assert!(answer.starts_with("HTTP/1.1 101 "), "{answer}");
            assert!(answer.contains(&format!("Sec-WebSocket-Accept: {}\r\n", accept_key(&up.key))), "{answer}");
            // The subprotocol as the client spelled it (RFC 6455 4.2.2), one of the MQTT ones.
            assert!(up.offered.eq_ignore_ascii_case(up.subprotocol.as_str()), "{up:?}");
            assert!(answer.contains(&format!("Sec-WebSocket-Protocol: {}\r\n", up.offered)), "{answer}");
            // A client's bytes cannot end the header block early or add a header.
            assert_eq!(answer.find("\r\n\r\n"), Some(answer.len() - 4), "{answer:?}");
            assert!(!answer.replace("\r\n", "").contains(['\r', '\n']), "a bare CR or LF: {answer:?}");
            for max in PAYLOAD_LIMITS {
                deframe(&data[up.len..], max);
            }
        }
        Err(e) => {
            let status = e.status();
            assert!(matches!(status, 400 | 426 | 431), "status {status} for {e}");
            let answer = error_response(status, &e.to_string());
            assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{answer}");
            let (head, body) = answer.split_once("\r\n\r\n").expect("a header block");
            let length = format!("Content-Length: {}\r\n", body.len());
            assert!(format!("{head}\r\n").contains(&length), "{answer:?}");
        }
    }
}

/// A header is accepted only whole, masked, within the limits, and never longer than 14 bytes.
fn header(data: &[u8], max: usize) {
    match decode_frame(data, max) {
        Ok(Some((h, len))) => {
            assert!(len <= data.len() && len <= MAX_HEADER_LEN, "header of {len} bytes from {}", data.len());
            assert!(!matches!(h.opcode, Opcode::Text), "a text frame accepted");
            if h.opcode.is_control() {
                assert!(h.fin && h.payload_len <= MAX_CONTROL_PAYLOAD, "{h:?}");
            } else {
                assert!(h.payload_len <= max as u64, "{h:?} over {max}");
            }
        }
        Ok(None) => assert!(data.len() < MAX_HEADER_LEN, "{} bytes are not yet a header", data.len()),
        Err(e) => assert!(matches!(e.close_code(), 1002 | 1003 | 1009), "{e}"),
    }
}

/// What the deframer makes of the bytes: the MQTT data, the last ping, the close frame, or the
/// error that ends the connection.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    data: Vec<u8>,
    last_ping: Option<Vec<u8>>,
    close: Option<Vec<u8>>,
    error: Option<FrameError>,
}

/// Feeds `data` in reads of `step` bytes, as the transport does, until a close or an error.
fn feed(data: &[u8], max: usize, step: usize) -> Outcome {
    let mut deframer = Deframer::new(max);
    let mut out = Outcome { data: Vec::new(), last_ping: None, close: None, error: None };
    for piece in data.chunks(step.max(1)) {
        let mut raw = piece.to_vec();
        match deframer.unframe(&mut raw) {
            Ok(u) => {
                assert!(u.data <= piece.len(), "{} bytes of data out of a {}-byte read", u.data, piece.len());
                out.data.extend_from_slice(&raw[..u.data]);
                if let Some(ping) = u.ping {
                    assert!(ping.len() <= MAX_CONTROL_PAYLOAD as usize, "a ping of {} bytes", ping.len());
                    out.last_ping = Some(ping);
                }
                if u.close.is_some() {
                    out.close = u.close;
                    break;
                }
            }
            Err(e) => {
                out.error = Some(e);
                break;
            }
        }
    }
    out
}

/// However reads cut the stream, the deframer finds the same data, close and error; a read
/// that ends in an error loses its own data, so the comparison keeps what came before it.
fn deframe(data: &[u8], max: usize) {
    let whole = feed(data, max, data.len());
    let bytes = feed(data, max, 1);
    assert_eq!(whole.error, bytes.error, "the error depends on how reads cut the stream");
    if whole.error.is_none() {
        assert_eq!(whole, bytes, "one read and byte-by-byte reads differ");
    }
    let halves = feed(data, max, data.len().div_ceil(2));
    assert_eq!(halves.error, bytes.error);
    if halves.error.is_none() {
        assert_eq!((&halves.data, &halves.close), (&bytes.data, &bytes.close), "two reads and byte-by-byte differ");
    }
}

/// An `http_dir` path never leaves the directory.
fn path(request_path: &str) {
    let Some(relative) = static_path(request_path) else { return };
    assert!(relative.is_relative(), "{request_path:?} -> {}", relative.display());
    for component in relative.components() {
        assert!(matches!(component, std::path::Component::Normal(_)), "{request_path:?} -> {}", relative.display());
    }
    let text = relative.to_string_lossy();
    assert!(!text.contains(['\\', '\0']), "{request_path:?} -> {text:?}");
    let _ = content_type(&relative);
}
