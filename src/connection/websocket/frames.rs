//! A WebSocket connection seen as a byte stream: what is written goes out as one binary frame
//! per write, and binary frames from the broker are read back as the bytes they carry, however
//! MQTT packets are split across them or joined in them (MQTT over WebSocket is a byte stream
//! [MQTT-6.0.0-2]). Ping and pong are answered by tungstenite while reading; a close frame
//! reads as the end of the stream. So everything above (the relay's pump and tap, the
//! self-test's probe) handles MQTT bytes exactly as over TCP.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use futures_util::{Sink, Stream as _};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
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

/// Why the broker's frames could not be read as MQTT bytes (a text frame, a broken frame), in
/// words. Carried inside the I/O error, so the relay can tell it from a dropped connection and
/// report it as the reason the connection was lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FramingError(pub String);

impl FramingError {
    /// The framing error inside an I/O error, if that is what it is.
    pub fn of(e: &io::Error) -> Option<&Self> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<Self>())
    }
}

/// A WebSocket error as an I/O error: the socket's own error as it was, a protocol error as a
/// `FramingError`.
fn io_error(e: Error) -> io::Error {
    match e {
        Error::Io(e) => e,
        other => io::Error::new(
            io::ErrorKind::InvalidData,
            FramingError(format!("the broker's WebSocket frames broke the protocol ({other})")),
        ),
    }
}

impl AsyncRead for Frames {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.pending.is_empty() {
            match ready!(Pin::new(&mut this.socket).poll_next(cx)) {
                None | Some(Ok(Message::Close(_))) => return Poll::Ready(Ok(())),
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
