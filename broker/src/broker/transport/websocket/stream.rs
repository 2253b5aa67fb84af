//! [`WsStream`]: the connection reads and writes MQTT bytes; this adapter unframes what it reads
//! and frames what it writes.
//!
//! Reads land in the caller's buffer (the connection's, on its stack) and are unframed there
//! ([`Deframer`]): no read buffer here. Each write is one binary frame: its header, then the
//! caller's bytes as they are, in one vectored write where the stream takes them (TCP, rustls),
//! else copied after the header for small writes. Pings are answered, a close frame is answered
//! and reads then end; refused frames are logged, answered with a close code, and end the
//! connection with an error. While idle the adapter holds no heap at all.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::refused;
use crate::broker::Shared;
use crate::websocket::{Deframer, FrameError, Opcode, close_code, close_frame, control_frame, encode_header};

/// Writes up to this size go out with their header in one write on a stream that cannot
/// take two buffers at once (OpenSSL): one TLS record, not two.
const COPY_SMALL_WRITE: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// The client sent a close frame (answered): reads give EOF.
    Closed,
    /// A frame was refused: reads and writes fail.
    Failed(u16),
}

/// The data frame being written.
#[derive(Debug, Default)]
struct Writing {
    header: [u8; 10],
    header_len: u8,
    header_sent: u8,
    /// Payload bytes of the frame not yet written: the caller's next write goes on with them.
    left: usize,
}

/// What an idle connection does not need: boxed, and gone once empty.
#[derive(Debug, Default)]
struct Extra {
    /// Bytes the client sent right after its upgrade request (frames already).
    early: Vec<u8>,
    /// Control frames to send (a pong, a close) once no data frame is half written.
    outgoing: Vec<u8>,
}

pub(crate) struct WsStream<S> {
    inner: S,
    deframer: Deframer,
    writing: Writing,
    state: State,
    /// A close frame went out: nothing may follow it (RFC 6455 5.5.1).
    close_sent: bool,
    extra: Option<Box<Extra>>,
    /// For the log line of a refused frame.
    shared: Arc<Shared>,
    peer: SocketAddr,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    pub(crate) fn new(inner: S, max_payload: usize, early: Vec<u8>, shared: Arc<Shared>, peer: SocketAddr) -> Self {
        let extra = (!early.is_empty()).then(|| Box::new(Extra { early, outgoing: Vec::new() }));
        Self {
            inner,
            deframer: Deframer::new(max_payload),
            writing: Writing::default(),
            state: State::Open,
            close_sent: false,
            extra,
            shared,
            peer,
        }
    }

    fn queue(&mut self, frame: &[u8]) {
        self.extra.get_or_insert_default().outgoing.extend_from_slice(frame);
    }

    /// Frees the extras once nothing is in them.
    fn tidy(&mut self) {
        if self.extra.as_ref().is_some_and(|e| e.early.is_empty() && e.outgoing.is_empty()) {
            self.extra = None;
        }
    }

    /// Writes the queued control frames, unless a data frame is half written (a frame may not
    /// be cut by another).
    fn poll_outgoing(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.writing.left > 0 {
            return Poll::Ready(Ok(()));
        }
        while let Some(extra) = self.extra.as_mut().filter(|e| !e.outgoing.is_empty()) {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &extra.outgoing))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            extra.outgoing.drain(..n);
            if extra.outgoing.is_empty() {
                self.tidy();
                return Pin::new(&mut self.inner).poll_flush(cx);
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Moves bytes the client sent with its upgrade request into `buf`; false when none.
    fn take_early(&mut self, buf: &mut ReadBuf<'_>) -> bool {
        let Some(extra) = self.extra.as_mut().filter(|e| !e.early.is_empty()) else { return false };
        let n = extra.early.len().min(buf.remaining());
        buf.put_slice(&extra.early[..n]);
        extra.early.drain(..n);
        self.tidy();
        true
    }

    /// A refused frame: the log line, a close frame with its code, and the error for the
    /// connection.
    fn refuse(&mut self, e: &FrameError, cx: &mut Context<'_>) -> io::Error {
        refused(&self.shared, self.peer, e);
        let code = e.close_code();
        self.queue(&close_frame(code));
        self.close_sent = true;
        self.state = State::Failed(code);
        let _ = self.poll_outgoing(cx);
        failed_error(code)
    }
}

fn failed_error(code: u16) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("WebSocket closed with status {code}"))
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WsStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            match this.state {
                State::Open => {}
                State::Closed => return Poll::Ready(Ok(())),
                State::Failed(code) => return Poll::Ready(Err(failed_error(code))),
            }
            // A pong that could not go out at once goes now; it never holds up reading.
            let _ = this.poll_outgoing(cx);
            let start = buf.filled().len();
            if !this.take_early(buf) {
                ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
                if buf.filled().len() == start {
                    this.state = State::Closed;
                    return Poll::Ready(Ok(()));
                }
            }
            let unframed = match this.deframer.unframe(&mut buf.filled_mut()[start..]) {
                Ok(unframed) => unframed,
                Err(e) => {
                    buf.set_filled(start);
                    return Poll::Ready(Err(this.refuse(&e, cx)));
                }
            };
            buf.set_filled(start + unframed.data);
            // While a frame waits to go out, further pings go unanswered (RFC 6455 5.5.3 asks
            // for the most recent only): a client that pings without reading cannot grow this.
            if let Some(payload) = unframed.ping
                && this.extra.as_ref().is_none_or(|e| e.outgoing.is_empty())
            {
                this.queue(&control_frame(Opcode::Pong, &payload));
                let _ = this.poll_outgoing(cx);
            }
            if let Some(payload) = unframed.close {
                // The answer echoes the status code (RFC 6455 5.5.1); then reads end.
                if !this.close_sent {
                    this.queue(&control_frame(Opcode::Close, payload.get(..2).unwrap_or_default()));
                    this.close_sent = true;
                    let _ = this.poll_outgoing(cx);
                }
                this.state = State::Closed;
                return Poll::Ready(Ok(()));
            }
            if unframed.data > 0 {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for WsStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let State::Failed(code) = this.state {
            return Poll::Ready(Err(failed_error(code)));
        }
        if this.close_sent && this.writing.left == 0 {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.writing.left == 0 {
            ready!(this.poll_outgoing(cx))?;
            let w = &mut this.writing;
            w.header_len = encode_header(Opcode::Binary, data.len(), &mut w.header) as u8;
            w.header_sent = 0;
            w.left = data.len();
        }
        let Self { inner, writing: w, .. } = this;
        let payload = &data[..data.len().min(w.left)];
        let mut inner = Pin::new(inner);
        loop {
            let header = &w.header[usize::from(w.header_sent)..usize::from(w.header_len)];
            if header.is_empty() {
                let n = ready!(inner.as_mut().poll_write(cx, payload))?;
                w.left -= n;
                return Poll::Ready(Ok(n));
            }
            let n = if inner.is_write_vectored() {
                ready!(inner.as_mut().poll_write_vectored(cx, &[IoSlice::new(header), IoSlice::new(payload)]))?
            } else if payload.len() <= COPY_SMALL_WRITE {
                let mut joined = [0; 10 + COPY_SMALL_WRITE];
                joined[..header.len()].copy_from_slice(header);
                joined[header.len()..header.len() + payload.len()].copy_from_slice(payload);
                ready!(inner.as_mut().poll_write(cx, &joined[..header.len() + payload.len()]))?
            } else {
                ready!(inner.as_mut().poll_write(cx, header))?
            };
            if n == 0 {
                return Poll::Ready(Ok(0));
            }
            let of_header = n.min(header.len());
            w.header_sent += of_header as u8;
            let of_payload = n - of_header;
            if of_payload > 0 {
                w.left -= of_payload;
                return Poll::Ready(Ok(of_payload));
            }
            // The header, or part of it, went alone: the payload follows.
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_outgoing(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    /// Says goodbye with a close frame (1000) when none was exchanged; best effort: a client
    /// that does not read cannot hold the connection open.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.close_sent && this.writing.left == 0 {
            this.queue(&close_frame(close_code::NORMAL));
            this.close_sent = true;
        }
        if this.poll_outgoing(cx).is_pending() {
            this.extra = None;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}
