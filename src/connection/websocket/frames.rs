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

/// A WebSocket error as an I/O error, keeping the socket's own error as it was.
fn io_error(e: Error) -> io::Error {
    match e {
        Error::Io(e) => e,
        other => io::Error::other(other),
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
                        "the broker sent a WebSocket text frame: MQTT travels in binary frames only [MQTT-6.0.0-1]",
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
