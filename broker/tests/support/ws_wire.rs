//! The client's side of MQTT over WebSocket as exact bytes, written from RFC 6455 for the tests
//! that judge a broker's listener byte by byte (ws_malformed.rs, ws_differential.rs): an
//! upgrade request, masked frames of any shape (also the forbidden ones), and a reader for the
//! server's frames and the MQTT packets they carry. Included with `#[path]` by those tests.
#![allow(dead_code, reason = "each test binary uses part of it")]

use std::net::SocketAddr;

use bytes::BytesMut;
use mqtt_lab_broker::codec::{Decoded, Packet, Protocol, decode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::PATIENCE;

/// RFC 6455 4.1's sample key, and 1.3's accept value for it.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

pub const CONTINUATION: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// The mask every test frame uses: not zero, so an unmasking bug shows.
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// An upgrade request for `path`, asking for `protocols` (the Sec-WebSocket-Protocol value)
/// when given, with `extra` header lines (each ending in CRLF).
pub fn upgrade_request(path: &str, protocols: Option<&str>, extra: &str) -> String {
    let protocol = protocols.map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n")).unwrap_or_default();
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{protocol}{extra}\r\n"
    )
}

/// A frame: `first` is FIN, RSV and opcode as sent (so reserved bits can be set), `mask` its
/// masking key (`None`: unmasked, which clients must not send).
pub fn raw_frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let bit = if mask.is_some() { 0x80 } else { 0 };
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(bit | 0x7E);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(bit | 0x7F);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if let Some(mask) = mask {
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A masked frame with FIN set or not.
pub fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(if fin { 0x80 } else { 0 } | opcode, payload, Some(MASK))
}

/// One MQTT packet as a 3.1.1 client encodes it.
pub fn mqtt(packet: &Packet) -> Vec<u8> {
    packet.to_bytes(Protocol::V311).expect("a test packet encodes").to_vec()
}

/// The server's answer to the upgrade request.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header lines as sent, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub masked: bool,
    pub payload: Vec<u8>,
}

impl Frame {
    /// A close frame's status code.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == CLOSE).then(|| self.payload.first_chunk::<2>().map(|c| u16::from_be_bytes(*c)))?
    }
}

/// A TCP connection speaking WebSocket from the client's side.
pub struct WsClient {
    pub stream: TcpStream,
    /// Bytes read and not yet parsed.
    buf: BytesMut,
    /// MQTT bytes from binary frames, not yet decoded.
    mqtt: BytesMut,
}

impl WsClient {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("the listener accepts");
        stream.set_nodelay(true).expect("nodelay");
        Self { stream, buf: BytesMut::new(), mqtt: BytesMut::new() }
    }

    /// A client over a stream connected by the test (e.g. with a small receive buffer).
    pub fn over(stream: TcpStream) -> Self {
        Self { stream, buf: BytesMut::new(), mqtt: BytesMut::new() }
    }

    /// Connects, upgrades with the `mqtt` subprotocol, and expects 101.
    pub async fn upgraded(addr: SocketAddr) -> Self {
        let mut c = Self::connect(addr).await;
        let response = c.upgrade(&upgrade_request("/mqtt", Some("mqtt"), "")).await;
        assert_eq!(response.status, 101, "{response:?}");
        c
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("the broker reads");
    }

    /// Sends; false once the broker has closed the connection.
    pub async fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok()
    }

    /// Reads more bytes; false at the end of the stream (or a reset).
    async fn fill(&mut self) -> bool {
        let read = tokio::time::timeout(PATIENCE, self.stream.read_buf(&mut self.buf)).await;
        matches!(read.expect("the broker answers in time"), Ok(n) if n > 0)
    }

    /// Sends `request` and reads the response head; `None` if the connection closes first.
    pub async fn try_upgrade(&mut self, request: &[u8]) -> Option<Response> {
        self.send(request).await;
        self.response().await
    }

    pub async fn upgrade(&mut self, request: &str) -> Response {
        self.try_upgrade(request.as_bytes()).await.expect("an HTTP response before the connection closed")
    }

    /// The response head, once its blank line has arrived; the bytes after it stay buffered.
    pub async fn response(&mut self) -> Option<Response> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = self.buf.split_to(end + 4);
                let text = String::from_utf8_lossy(&head);
                let mut lines = text.split("\r\n");
                let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
                let headers = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                    .collect();
                return Some(Response { status, headers });
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// The next frame from the server; `None` when the connection ends.
    pub async fn recv_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some((frame, len)) = parse_server_frame(&self.buf) {
                let _ = self.buf.split_to(len);
                return Some(frame);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// The next MQTT packet from binary frames; control frames other than close are skipped.
    /// `None` when the connection ends or a close frame arrives.
    pub async fn try_recv(&mut self) -> Option<Packet> {
        loop {
            match decode(&self.mqtt, usize::MAX, Protocol::V311).expect("the broker sends well-formed packets") {
                Decoded::Packet(p, n) => {
                    let _ = self.mqtt.split_to(n);
                    return Some(p);
                }
                Decoded::Incomplete => {}
            }
            let frame = self.recv_frame().await?;
            assert!(!frame.masked, "a server must not mask its frames (RFC 6455 5.1): {frame:?}");
            match frame.opcode {
                BINARY | CONTINUATION => self.mqtt.extend_from_slice(&frame.payload),
                CLOSE => return None,
                PING | PONG => {}
                other => panic!("unexpected frame opcode {other:#x} from the broker: {frame:?}"),
            }
        }
    }

    pub async fn recv(&mut self) -> Packet {
        self.try_recv().await.expect("an MQTT packet before the connection closed")
    }

    /// Sends one MQTT packet in one binary frame.
    pub async fn send_packet(&mut self, packet: &Packet) {
        self.send(&frame(true, BINARY, &mqtt(packet))).await;
    }

    /// Reads until the server's close frame; answers its status code, and checks the TCP
    /// connection then ends (no unbounded wait for a client that keeps it open).
    pub async fn expect_close(&mut self) -> u16 {
        loop {
            match self.recv_frame().await {
                Some(f) if f.opcode == CLOSE => {
                    let code = f.close_code().expect("the close frame carries a status code");
                    self.expect_end().await;
                    return code;
                }
                Some(_) => {}
                None => panic!("the connection ended with no close frame"),
            }
        }
    }

    /// Expects the connection to end (after any bytes still in flight).
    pub async fn expect_end(&mut self) {
        while self.fill().await {
            self.buf.clear();
        }
    }
}

/// A server frame at the start of `buf`, and its length; `None` while incomplete.
pub fn parse_server_frame(buf: &[u8]) -> Option<(Frame, usize)> {
    let [b0, b1, rest @ ..] = buf else { return None };
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7F {
        126 => (usize::from(u16::from_be_bytes(*rest.first_chunk::<2>()?)), 4),
        127 => (usize::try_from(u64::from_be_bytes(*rest.first_chunk::<8>()?)).ok()?, 10),
        n => (usize::from(n), 2),
    };
    let mask = if masked {
        let m = *buf.get(at..)?.first_chunk::<4>()?;
        at += 4;
        Some(m)
    } else {
        None
    };
    let mut payload = buf.get(at..at.checked_add(len)?)?.to_vec();
    if let Some(m) = mask {
        payload.iter_mut().enumerate().for_each(|(i, b)| *b ^= m[i % 4]);
    }
    Some((Frame { fin: b0 & 0x80 != 0, opcode: b0 & 0x0F, masked, payload }, at + len))
}
