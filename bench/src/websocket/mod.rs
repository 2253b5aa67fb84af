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
//! or one split, as RFC 6455 and [MQTT-6.0.0-2] allow), masked with a fresh key. A close frame
//! from the server ends the stream like a TCP EOF.
//!
//! # Pings
//! A server's ping is answered by the reading side, as soon as it is read, even when the
//! application never writes (a QoS 0 subscriber, an idle soak client between its PINGREQs): a
//! server or proxy with a ping timeout would otherwise drop the connection and the bench would
//! count it against the broker. Only the latest ping is owed (RFC 6455 5.5.3): one slot,
//! replaced by a newer ping, so a server that pings a slow connection cannot grow a queue.
//!
//! Both sides write through the same `WriteState`. Unsplit ([`WebSocket::poll_read`]) the
//! reader holds the whole connection and writes the pong itself. Split ([`WebSocket::split`]),
//! the write half and its state sit behind a `std::sync::Mutex` shared by both halves (an `Arc`
//! per split, not per read): every poll holds it only for non-blocking calls, so it is never
//! held across an await. A waker kept for the writer (`AtomicWaker`) would not do: the bench's
//! loops poll their writer only when they have bytes to write, so nothing would run it.
//!
//! One side at a time waits for the connection to take bytes, as an `AsyncWrite` keeps one
//! waker per direction: the reader sends only what it started while nothing was going out
//! (`reader_sends`); when the writer has frames out, the pong joins them and the
//! writer sends it; when the writer writes while the reader's pong is half out, it takes over.
//!
//! A connection nobody reads sees no pings: `conn` holds its connections without reading, so a
//! server that pings them gets no pong. That is inherent (the ping is never read); the servers
//! the bench is run against do not ping WebSocket clients: our broker only answers pings,
//! aedes behind `ws` never calls `ping()`, and Mosquitto has no setting to send them.

pub mod frame;
pub mod handshake;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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
}

#[derive(Debug, Default)]
struct ReadState {
    decoder: Decoder,
    /// What the server sent right after its 101 (in the handshake's buffer), unframed first.
    leftover: Vec<u8>,
    /// The reading side left a pong half sent (the connection took no more): it goes on
    /// sending at its next read. Without this flag every read would take the writer's lock.
    answering: bool,
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
    /// A close frame was queued by `poll_shutdown`: no pong may follow it.
    closing: bool,
    /// The pong owed to the server's last ping, not yet in `out`: one at most, a newer ping
    /// replaces it (RFC 6455 5.5.3).
    pong: Option<Vec<u8>>,
    /// The reading side is sending `out` (it began while nothing was going out), so it, not the
    /// writing side, waits for the connection; the writing side takes over when it writes.
    reader_sends: bool,
}

/// The write half and its state, shared by the halves of a split connection.
struct WriteSide<'a, W> {
    inner: W,
    state: &'a mut WriteState,
}

impl WebSocket {
    /// The state after a handshake; `leftover`: bytes the server sent after its answer.
    pub fn new(leftover: Vec<u8>) -> Self {
        Self { read: ReadState { leftover, ..ReadState::default() }, ..Self::default() }
    }

    /// Framed reading and writing halves over the connection's halves `r` and `w`. The
    /// reading half answers pings through the writing half's connection `w`.
    pub fn split<R, W>(&mut self, r: R, w: W) -> (Reading<'_, R, W>, Writing<'_, W>)
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let Self { read, write } = self;
        let side = Arc::new(Mutex::new(WriteSide { inner: w, state: write }));
        (Reading { inner: r, state: read, side: Arc::clone(&side) }, Writing { side })
    }

    /// Reads MQTT bytes from `inner`, the whole connection (pongs are written to it).
    pub fn poll_read<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let Self { read, write } = self;
        poll_read(inner, read, cx, buf, |inner, cx, ping| answer(Pin::new(inner), write, cx, ping))
    }

    pub fn poll_write<S: AsyncWrite + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write(Pin::new(inner), &mut self.write, cx, buf)
    }

    pub fn poll_flush<S: AsyncWrite + Unpin>(&mut self, inner: &mut S, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(Pin::new(inner), &mut self.write, cx)
    }

    pub fn poll_shutdown<S: AsyncWrite + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        poll_shutdown(Pin::new(inner), &mut self.write, cx)
    }
}

/// The reading half of a split WebSocket connection; it writes pongs through `side`.
pub struct Reading<'a, R, W> {
    inner: R,
    state: &'a mut ReadState,
    side: Arc<Mutex<WriteSide<'a, W>>>,
}

/// The writing half of a split WebSocket connection.
pub struct Writing<'a, W> {
    side: Arc<Mutex<WriteSide<'a, W>>>,
}

/// The write side, whoever panicked while holding it (its state stays consistent: every
/// change is complete before the next call that can panic).
fn lock<'g, 'a, W>(side: &'g Mutex<WriteSide<'a, W>>) -> MutexGuard<'g, WriteSide<'a, W>> {
    side.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> AsyncRead for Reading<'_, R, W> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let side = &this.side;
        poll_read(&mut this.inner, this.state, cx, buf, |_, cx, ping| {
            let mut side = lock(side);
            let WriteSide { inner, state } = &mut *side;
            answer(Pin::new(inner), state, cx, ping)
        })
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Writing<'_, W> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut side = lock(&self.side);
        let WriteSide { inner, state } = &mut *side;
        poll_write(Pin::new(inner), state, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut side = lock(&self.side);
        let WriteSide { inner, state } = &mut *side;
        poll_flush(Pin::new(inner), state, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut side = lock(&self.side);
        let WriteSide { inner, state } = &mut *side;
        poll_shutdown(Pin::new(inner), state, cx)
    }
}

/// Reads into `buf` and unframes what arrived in place; reads again when all of it was
/// framing or control frames. A close frame (or EOF) reads as the end of the stream. A ping is
/// handed to `answer` at once (with `inner`, for the reader that holds the whole connection);
/// `answer` returns whether all it owes is out or in the writing side's hands.
fn poll_read<R: AsyncRead + Unpin>(
    inner: &mut R,
    state: &mut ReadState,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
    mut answer: impl FnMut(&mut R, &mut Context<'_>, Option<Vec<u8>>) -> io::Result<bool>,
) -> Poll<io::Result<()>> {
    if state.answering {
        state.answering = !answer(inner, cx, None)?;
    }
    loop {
        if state.decoder.closed || buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let start = buf.filled().len();
        if state.leftover.is_empty() {
            ready!(Pin::new(&mut *inner).poll_read(cx, buf))?;
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
            state.answering = !answer(inner, cx, Some(ping))?;
        }
        if unframed.kept > 0 || state.decoder.closed {
            return Poll::Ready(Ok(()));
        }
    }
}

/// The reading side's share of writing: owes `ping`'s pong, and sends what is owed unless the
/// writing side is sending (its drain ends with the pong). `Ok(false)`: the connection takes no
/// more bytes now and `cx` is woken when it does; call again then (with no new ping).
fn answer<W: AsyncWrite + Unpin>(
    mut inner: Pin<&mut W>,
    state: &mut WriteState,
    cx: &mut Context<'_>,
    ping: Option<Vec<u8>>,
) -> io::Result<bool> {
    if state.closing {
        return Ok(true);
    }
    if ping.is_some() {
        state.pong = ping;
    }
    if state.out.is_empty() {
        if state.pong.is_none() {
            state.reader_sends = false;
            return Ok(true);
        }
        state.reader_sends = true;
    } else if !state.reader_sends {
        return Ok(true);
    }
    let sent = poll_drain(inner.as_mut(), state, cx).map(|r| r.and_then(|()| ready_ok(inner.poll_flush(cx))));
    match sent {
        Poll::Ready(Ok(true)) => {
            state.reader_sends = false;
            Ok(true)
        }
        Poll::Ready(Ok(false)) | Poll::Pending => Ok(false),
        Poll::Ready(Err(e)) => {
            state.reader_sends = false;
            Err(e)
        }
    }
}

/// Whether a flush is done (`Ok(false)`: pending, the caller's waker registered).
fn ready_ok(flush: Poll<io::Result<()>>) -> io::Result<bool> {
    match flush {
        Poll::Ready(r) => r.map(|()| true),
        Poll::Pending => Ok(false),
    }
}

/// Writes `out` from `sent` on, to the end, then the pong owed, if any (never after a close).
fn poll_drain<W: AsyncWrite + Unpin>(
    mut inner: Pin<&mut W>,
    state: &mut WriteState,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    loop {
        while state.sent < state.out.len() {
            let n = ready!(inner.as_mut().poll_write(cx, &state.out[state.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            state.sent += n;
        }
        state.out.clear();
        state.sent = 0;
        match state.pong.take() {
            Some(payload) if !state.closing => state.masker.pong(&mut state.out, &payload),
            _ => return Poll::Ready(Ok(())),
        }
    }
}

fn poll_write<W: AsyncWrite + Unpin>(
    mut inner: Pin<&mut W>,
    state: &mut WriteState,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    // From here the writing side waits for the connection, for whatever is in `out`.
    state.reader_sends = false;
    loop {
        if state.out.is_empty() {
            // Bytes framed by an earlier call are out (this call's drain or a flush): report them.
            if state.committed > 0 {
                return Poll::Ready(Ok(std::mem::take(&mut state.committed)));
            }
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            // A pong owed goes first, in the same write.
            if let Some(payload) = state.pong.take() {
                state.masker.pong(&mut state.out, &payload);
            }
            let n = buf.len().min(MAX_FRAME);
            state.masker.binary(&mut state.out, &buf[..n]);
            state.committed = n;
        }
        // Also finishes a pong or close frame left half written, before framing `buf`.
        ready!(poll_drain(inner.as_mut(), state, cx))?;
    }
}

fn poll_flush<W: AsyncWrite + Unpin>(
    mut inner: Pin<&mut W>,
    state: &mut WriteState,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    state.reader_sends = false;
    ready!(poll_drain(inner.as_mut(), state, cx))?;
    inner.poll_flush(cx)
}

/// Sends a close frame (status 1000), then shuts the connection down.
fn poll_shutdown<W: AsyncWrite + Unpin>(
    mut inner: Pin<&mut W>,
    state: &mut WriteState,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    state.reader_sends = false;
    // Sends the pong owed, if any, before the close frame.
    ready!(poll_drain(inner.as_mut(), state, cx))?;
    if !state.closing {
        state.closing = true;
        state.masker.close(&mut state.out);
        ready!(poll_drain(inner.as_mut(), state, cx))?;
    }
    inner.poll_shutdown(cx)
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
