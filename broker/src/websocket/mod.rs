//! MQTT over WebSocket (RFC 6455; MQTT 3.1.1 and 5.0 section 6), the protocol half: no I/O
//! here, so every rule can be unit-tested and fuzzed. The broker's transport
//! (`broker::transport::websocket`) runs it on sockets.
//!
//! - [`decode_frame`]: a client frame's header, checked (masking, opcodes, control frame
//!   rules, binary only, the size limit from the header alone).
//! - [`Deframer`]: client frames to the MQTT byte stream, in place, in any cut.
//! - [`encode_header`], [`control_frame`], [`close_frame`]: server frames (unmasked).
//! - [`parse_upgrade`], [`switching_protocols`], [`error_response`], [`accept_key`]: the
//!   opening handshake.
//! - [`static_path`], [`content_type`]: what `http_dir` serves.
//!
//! # Why the framing is ours
//! An idle connection must cost about what an idle TCP one does (under 2 KB: thousands of
//! sensors and dashboards stay connected). tungstenite 0.28, under tokio-tungstenite, creates
//! its frame codec with `BytesMut::with_capacity(read_buffer_size)` for the connection's whole
//! life, and `WebSocketConfig::default()` sets `read_buffer_size: 128 * 1024` and
//! `write_buffer_size: 128 * 1024` (tungstenite-0.28.0/src/protocol/mod.rs lines 96-100,
//! src/protocol/frame/mod.rs line 126): 128 KiB per idle client before a byte arrives, and a
//! message-oriented API that copies each message into a new `Vec`. Here the [`Deframer`]
//! unmasks the bytes in the connection's own read (which lands on the stack) and moves the
//! payload over the headers: an idle connection holds a 14-byte partial header at most and no
//! heap. Writes frame the connection's own write buffer (a header, then the bytes as they are).
//! Measured with `mqtt-lab-bench conn --count 5000 --pid PID` on a release build: 1,690 B per
//! idle connection over ws://, 1,500 B over TCP (the adapter adds 144 B inline; the rest is the
//! allocator's share of what the upgrade used and gave back).
//! The standard parts come from crates: `httparse` for the HTTP request, `sha1` and `base64`
//! for the accept key.

mod deframe;
mod frame;
mod handshake;
mod http_dir;

pub use deframe::{Deframer, Unframed};
pub use frame::{
    FrameError, FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode, close_code, close_frame, control_frame,
    decode_frame, encode_header, unmask,
};
pub use handshake::{
    HandshakeError, Subprotocol, Upgrade, accept_key, error_response, parse_upgrade, reason_phrase, switching_protocols,
};
pub use http_dir::{content_type, static_path};
