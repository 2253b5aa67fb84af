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
                // The answer echoes the status code (RFC 6455 5.5.1), or says 1002 for a code
                // no endpoint may send (7.4) or a 1-byte payload; then reads end.
                if !this.close_sent {
                    this.queue(&control_frame(Opcode::Close, &close_answer(&payload)));
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

/// The status code a close frame is answered with: the peer's own when it is one an endpoint
/// may send (RFC 6455 7.4.1 and 7.4.2: 1000-1003, 1007-1014, 3000-4999), none for an empty
/// close, else 1002 (protocol error).
fn close_answer(payload: &[u8]) -> Vec<u8> {
    match payload {
        [] => Vec::new(),
        [a, b, ..] => {
            let code = u16::from_be_bytes([*a, *b]);
            let sendable = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if sendable { vec![*a, *b] } else { 1002u16.to_be_bytes().to_vec() }
        }
        [_] => 1002u16.to_be_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn shared() -> Arc<Shared> {
        let auth = crate::auth::Auth::default();
        Arc::new(Shared::new(
            crate::Config::default(),
            crate::log::Logger::silent(),
            auth,
            None,
            crate::broker::park::GroupId::none(),
        ))
    }

    /// Reads server frames until `total` payload bytes came; checks each is a final, unmasked
    /// binary frame.
    async fn read_frames(mut r: impl AsyncRead + Unpin, total: usize) -> Vec<u8> {
        let mut payload = Vec::new();
        while payload.len() < total {
            let mut head = [0; 2];
            r.read_exact(&mut head).await.unwrap();
            assert_eq!(head[0], 0x82, "a final binary frame");
            assert_eq!(head[1] & 0x80, 0, "not masked");
            let len = match head[1] {
                126 => usize::from(r.read_u16().await.unwrap()),
                127 => usize::try_from(r.read_u64().await.unwrap()).unwrap(),
                n => usize::from(n),
            };
            let start = payload.len();
            payload.resize(start + len, 0);
            r.read_exact(&mut payload[start..]).await.unwrap();
        }
        payload
    }

    /// A pipe that takes a few bytes at a time: headers and payloads are cut anywhere, and a
    /// header may go out alone, yet every frame arrives whole and in order.
    #[tokio::test]
    async fn writes_cut_anywhere_still_make_whole_frames() {
        for (pipe, size) in [(1, 100usize), (3, 2000), (7, 70_000), (4096, 300_000)] {
            let (ours, theirs) = tokio::io::duplex(pipe);
            let peer = "127.0.0.1:1".parse().unwrap();
            let mut ws = WsStream::new(ours, 1 << 20, Vec::new(), shared(), peer);
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let expected = [data.clone(), data.clone()].concat();
            let reader = tokio::spawn(read_frames(theirs, expected.len()));
            ws.write_all(&data).await.unwrap();
            ws.write_all(&data).await.unwrap();
            assert_eq!(reader.await.unwrap(), expected, "pipe of {pipe}, {size} bytes");
        }
    }

    fn client_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [9, 8, 7, 6];
        let mut f = vec![b0, 0x80 | payload.len() as u8];
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        f
    }

    /// Bytes sent along with the upgrade request are read first; a ping is answered, a close
    /// frame answered and then reads end; nothing is held once idle.
    #[tokio::test]
    async fn early_bytes_pings_and_close_are_handled() {
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let early = [client_frame(0x82, b"abc"), client_frame(0x89, b"hi")].concat();
        let mut ws = WsStream::new(ours, 1000, early, shared(), "127.0.0.1:1".parse().unwrap());
        let mut buf = [0; 64];
        assert_eq!(ws.read(&mut buf).await.unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
        let mut pong = [0; 4];
        theirs.read_exact(&mut pong).await.unwrap();
        assert_eq!(pong, [0x8A, 2, b'h', b'i']);
        assert!(ws.extra.is_none(), "idle again: nothing held");
        theirs.write_all(&[client_frame(0x82, b"de"), client_frame(0x88, &[0x03, 0xE8])].concat()).await.unwrap();
        assert_eq!(ws.read(&mut buf).await.unwrap(), 2);
        assert_eq!(ws.read(&mut buf).await.unwrap(), 0, "EOF after the close frame");
        let mut close = [0; 4];
        theirs.read_exact(&mut close).await.unwrap();
        assert_eq!(close, [0x88, 2, 0x03, 0xE8]);
        assert!(ws.write_all(b"late").await.is_err(), "nothing after a close frame");
    }

    #[test]
    fn a_close_is_answered_with_its_code_or_1002() {
        assert_eq!(close_answer(&[]), Vec::<u8>::new());
        assert_eq!(close_answer(&[0x03, 0xE8, b'b', b'y', b'e']), [0x03, 0xE8], "1000 echoed, reason left out");
        assert_eq!(close_answer(&[0x0F, 0xA0]), [0x0F, 0xA0], "4000, an application's code");
        for bad in [1005u16, 1006, 1015, 999, 2000, 5000] {
            assert_eq!(close_answer(&bad.to_be_bytes()), [0x03, 0xEA], "{bad}");
        }
        assert_eq!(close_answer(&[0x03]), [0x03, 0xEA], "a 1-byte payload");
    }
}
