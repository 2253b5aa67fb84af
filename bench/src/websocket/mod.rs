//! MQTT over WebSocket (`--ws`): the framing layer between the bench's MQTT bytes and the
//! connection (TCP, TLS or TLS-PSK, as [`crate::transport::Security`] says).
//!
//! # Why a framing layer of our own, not tokio-tungstenite
//! The bench's loops read and write a byte stream (`AsyncRead`/`AsyncWrite`, split in halves
//! that wait on each other in a `select!`), and batch many MQTT packets per write. A client
//! side of RFC 6455 that carries one binary stream is small: [`handshake`] (the upgrade) and
//! [`frame`] (masking and unframing). Doing it here keeps the stream a byte stream and costs
//! per connection only the state below (no read buffer; measured: 10,000 idle connections took
//! 445 B more each in the bench's RSS over ws than over TCP): the server's frames are
//! taken apart in place, in the buffer the MQTT reader reads into, and a write is masked once
//! into one outgoing buffer. tokio-tungstenite is message based: every read and write would be
//! a `Message` (a `Vec` per batch) behind an adapter back to a byte stream, and its defaults
//! allocate a 128 KiB read buffer per connection at once (tungstenite's `WebSocketConfig::
//! read_buffer_size`), 1.3 GB for 10,000 connections. The bench must not be the bottleneck of
//! fan-in (measured: 0.33-0.41 s of the bench's CPU for 400,000 QoS 1 messages over ws in
//! 1.5-2.8 s against our broker), nor run out of memory before the broker it measures.
//!
//! # What is sent
//! Each write becomes one binary frame of at most [`MAX_FRAME`] bytes (many MQTT packets joined,
//! or one split, as RFC 6455 and [MQTT-6.0.0-2] allow), masked with a fresh key. Pings from the
//! server are answered by a pong sent with the next write or flush (the latest ping only, as
//! RFC 6455 5.5.3 allows); a close frame from the server ends the stream like a TCP EOF.

pub mod frame;
pub mod handshake;

use std::io;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use frame::{Decoder, Masker};

/// The most MQTT bytes one frame carries: the publisher's batches (32 KiB) fit whole.
pub const MAX_FRAME: usize = 64 * 1024;

/// One connection's WebSocket state, next to the connection it frames.
#[derive(Debug, Default)]
pub struct WebSocket {
    read: ReadState,
    write: WriteState,
    /// The pong owed to the server's last ping: the reading side finds it, the writing side
    /// sends it.
    pong: Mutex<Option<Vec<u8>>>,
}

#[derive(Debug, Default)]
struct ReadState {
    decoder: Decoder,
    /// What the server sent right after its 101 (in the handshake's buffer), unframed first.
    leftover: Vec<u8>,
}

#[derive(Debug, Default)]
struct WriteState {
    masker: Masker,
    /// Frames being written; `sent` of their bytes are out.
    out: Vec<u8>,
    sent: usize,
    /// The caller's bytes framed in `out`: reported written once `out` is out. Until then the
    /// caller calls again with the same bytes first (as with OpenSSL's writes), and they are
    /// not framed twice.
    committed: usize,
    /// A close frame was queued by `poll_shutdown`.
    closing: bool,
}

impl WebSocket {
    /// The state after a handshake; `leftover`: bytes the server sent after its answer.
    pub fn new(leftover: Vec<u8>) -> Self {
        Self { read: ReadState { leftover, ..ReadState::default() }, ..Self::default() }
    }

    /// Framed reading and writing halves over the connection's halves `r` and `w`.
    pub fn split<R, W>(&mut self, r: R, w: W) -> (Reading<'_, R>, Writing<'_, W>)
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let Self { read, write, pong } = self;
        (Reading { inner: r, state: read, pong }, Writing { inner: w, state: write, pong })
    }

    /// Reads MQTT bytes from `inner`, the whole connection.
    pub fn poll_read<S: AsyncRead + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        poll_read(Pin::new(inner), &mut self.read, &self.pong, cx, buf)
    }

    pub fn poll_write<S: AsyncWrite + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write(Pin::new(inner), &mut self.write, &self.pong, cx, buf)
    }

    pub fn poll_flush<S: AsyncWrite + Unpin>(&mut self, inner: &mut S, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(Pin::new(inner), &mut self.write, &self.pong, cx)
    }

    pub fn poll_shutdown<S: AsyncWrite + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        poll_shutdown(Pin::new(inner), &mut self.write, &self.pong, cx)
    }
}

/// The reading half of a split WebSocket connection.
pub struct Reading<'a, R> {
    inner: R,
    state: &'a mut ReadState,
    pong: &'a Mutex<Option<Vec<u8>>>,
}

/// The writing half of a split WebSocket connection.
pub struct Writing<'a, W> {
    inner: W,
    state: &'a mut WriteState,
    pong: &'a Mutex<Option<Vec<u8>>>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Reading<'_, R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_read(Pin::new(&mut this.inner), this.state, this.pong, cx, buf)
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Writing<'_, W> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        poll_write(Pin::new(&mut this.inner), this.state, this.pong, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_flush(Pin::new(&mut this.inner), this.state, this.pong, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_shutdown(Pin::new(&mut this.inner), this.state, this.pong, cx)
    }
}

fn lock(pong: &Mutex<Option<Vec<u8>>>) -> std::sync::MutexGuard<'_, Option<Vec<u8>>> {
    pong.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads into `buf` and unframes what arrived in place; reads again when all of it was
/// framing or control frames. A close frame (or EOF) reads as the end of the stream.
fn poll_read<R: AsyncRead + Unpin>(
    mut inner: Pin<&mut R>,
    state: &mut ReadState,
    pong: &Mutex<Option<Vec<u8>>>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    loop {
        if state.decoder.closed || buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let start = buf.filled().len();
        if state.leftover.is_empty() {
            ready!(inner.as_mut().poll_read(cx, buf))?;
            if buf.filled().len() == start {
                return Poll::Ready(Ok(()));
            }
        } else {
            let n = buf.remaining().min(state.leftover.len());
            buf.put_slice(&state.leftover[..n]);
            state.leftover.drain(..n);
        }
        let unframed = state.decoder.unframe(&mut buf.filled_mut()[start..])?;
        buf.set_filled(start + unframed.kept);
        if let Some(ping) = unframed.ping {
            *lock(pong) = Some(ping);
        }
        if unframed.kept > 0 || state.decoder.closed {
            return Poll::Ready(Ok(()));
        }
    }
}

/// Writes `out` from `sent` on, to the end.
fn poll_drain<W: AsyncWrite + Unpin>(
    mut inner: Pin<&mut W>,
    state: &mut WriteState,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while state.sent < state.out.len() {
        let n = ready!(inner.as_mut().poll_write(cx, &state.out[state.sent..]))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        state.sent += n;
    }
    state.out.clear();
    state.sent = 0;
    Poll::Ready(Ok(()))
}

/// Queues the pong owed, if any.
fn queue_pong(state: &mut WriteState, pong: &Mutex<Option<Vec<u8>>>) {
    if let Some(payload) = lock(pong).take() {
        state.masker.pong(&mut state.out, &payload);
    }
}

fn poll_write<W: AsyncWrite + Unpin>(
    mut inner: Pin<&mut W>,
    state: &mut WriteState,
    pong: &Mutex<Option<Vec<u8>>>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    loop {
        if state.out.is_empty() {
            // Bytes framed by an earlier call are out (this call's drain or a flush): report them.
            if state.committed > 0 {
                return Poll::Ready(Ok(std::mem::take(&mut state.committed)));
            }
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            queue_pong(state, pong);
            let n = buf.len().min(MAX_FRAME);
            state.masker.binary(&mut state.out, &buf[..n]);
            state.committed = n;
        }
        // Also finishes a pong or close frame a flush left half written, before framing `buf`.
        ready!(poll_drain(inner.as_mut(), state, cx))?;
    }
}

fn poll_flush<W: AsyncWrite + Unpin>(
    mut inner: Pin<&mut W>,
    state: &mut WriteState,
    pong: &Mutex<Option<Vec<u8>>>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    if state.out.is_empty() {
        queue_pong(state, pong);
    }
    ready!(poll_drain(inner.as_mut(), state, cx))?;
    inner.poll_flush(cx)
}

/// Sends a close frame (status 1000), then shuts the connection down.
fn poll_shutdown<W: AsyncWrite + Unpin>(
    mut inner: Pin<&mut W>,
    state: &mut WriteState,
    pong: &Mutex<Option<Vec<u8>>>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    ready!(poll_drain(inner.as_mut(), state, cx))?;
    if !state.closing {
        state.closing = true;
        queue_pong(state, pong);
        state.masker.close(&mut state.out);
        ready!(poll_drain(inner.as_mut(), state, cx))?;
    }
    inner.poll_shutdown(cx)
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
