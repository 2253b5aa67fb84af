//! A WebSocket connection seen as a byte stream: what is written goes out as one binary frame
//! per write, and binary frames from the broker are read back as the bytes they carry, however
//! MQTT packets are split across them or joined in them (MQTT over WebSocket is a byte stream
//! [MQTT-6.0.0-2]). Ping and pong are answered by tungstenite while reading. A close frame
//! without a code, and a TCP close without any close frame (as many brokers do), end the stream
//! as over TCP; a close frame with a code ("1009, message too big") ends it with that code and
//! the broker's reason in words, for the relay to report. So everything above (the relay's pump
//! and tap) handles MQTT bytes exactly as over TCP.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use futures_util::{Sink, Stream as _};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error, Message};

use super::super::transport::Stream;

/// The framed connection to the broker.
pub struct Frames {
    socket: WebSocketStream<Box<dyn Stream>>,
    /// What is left of the last binary frame, when the reader asked for fewer bytes.
    pending: Bytes,
}

impl Frames {
    pub(super) fn new(socket: WebSocketStream<Box<dyn Stream>>) -> Self {
        Self { socket, pending: Bytes::new() }
    }
}

/// Why the WebSocket ended the connection, in words: frames that cannot be MQTT bytes (a text
/// frame, a broken frame, a message over the limit) or the broker's close frame with its code.
/// Carried inside the I/O error, so the relay can tell it from a dropped connection and report it
/// as the reason the connection was lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FramingError(pub String);

impl FramingError {
    /// The framing error inside an I/O error, if that is what it is.
    pub fn of(e: &io::Error) -> Option<&Self> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<Self>())
    }
}

/// A WebSocket error as an I/O error: the socket's own error as it was; the connection closed
/// without a close frame as a plain reset (a broker that stops, or drops the TCP connection, is
/// a lost connection, not a protocol error); a message over the limit and a protocol error as a
/// `FramingError`.
fn io_error(e: Error) -> io::Error {
    match e {
        Error::Io(e) => e,
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)
        | Error::ConnectionClosed
        | Error::AlreadyClosed => io::Error::new(io::ErrorKind::ConnectionReset, "the broker closed the connection"),
        Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => io::Error::new(
            io::ErrorKind::InvalidData,
            FramingError(format!(
                "the broker sent a WebSocket message of {size} bytes, more than the {max_size} bytes the app accepts (an MQTT packet of {} MiB)",
                super::super::worker::MAX_PACKET >> 20
            )),
        ),
        other => io::Error::new(
            io::ErrorKind::InvalidData,
            FramingError(format!("the broker's WebSocket frames broke the protocol ({other})")),
        ),
    }
}

/// The broker's close frame in words: "the broker closed the WebSocket: 1009 (message too big),
/// saying \"…\"".
pub(super) fn describe_close(frame: &CloseFrame) -> String {
    let code = u16::from(frame.code);
    let name = match code {
        1000 => " (normal closure)",
        1001 => " (going away: the broker is stopping or restarting)",
        1002 => " (protocol error)",
        1003 => " (unsupported data)",
        1007 => " (invalid data)",
        1008 => " (policy violation)",
        1009 => " (message too big)",
        1010 => " (an extension is missing)",
        1011 => " (server error)",
        1012 => " (service restart)",
        1013 => " (try again later)",
        _ => "",
    };
    let reason = frame.reason.trim();
    let saying = if reason.is_empty() { String::new() } else { format!(", saying {reason:?}") };
    format!("the broker closed the WebSocket: {code}{name}{saying}")
}

impl AsyncRead for Frames {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.pending.is_empty() {
            match ready!(Pin::new(&mut this.socket).poll_next(cx)) {
                None | Some(Ok(Message::Close(None))) => return Poll::Ready(Ok(())),
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        FramingError(describe_close(&frame)),
                    )));
                }
                Some(Ok(Message::Binary(data))) => this.pending = data,
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Text(_))) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        FramingError(
                            "the broker sent a WebSocket text frame: MQTT travels in binary frames only [MQTT-6.0.0-1]"
                                .into(),
                        ),
                    )));
                }
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending[..n]);
        this.pending.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Frames {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if data.is_empty() {
            // Nothing to carry: no empty frame on the wire.
            return Poll::Ready(Ok(0));
        }
        let socket = Pin::new(&mut self.socket);
        ready!(socket.poll_ready(cx)).map_err(io_error)?;
        Pin::new(&mut self.socket).start_send(Message::Binary(Bytes::copy_from_slice(data))).map_err(io_error)?;
        // The frame is written at once (write buffer 0); a TLS layer below may still hold it
        // until flushed, and a caller that never flushes must not leave it there.
        if let Poll::Ready(Err(e)) = Pin::new(&mut self.socket).poll_flush(cx) {
            return Poll::Ready(Err(io_error(e)));
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_flush(cx).map_err(io_error)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_close(cx).map_err(io_error)
    }
}
