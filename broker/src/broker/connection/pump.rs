//! The connected loop, polled by hand rather than through `select!`: a task's future is as
//! large as everything it holds while waiting, and thousands of idle clients each hold one. So
//! while it waits a connection holds its stream and its wake (outbox, room again, keepalive,
//! shutdown: see `Wake`) and nothing else: no timer (the keepalive timer is shared), no read
//! buffer (reads land on the stack and only a partial packet is kept), no write buffer.

use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{Close, Connection, MAX_READ, Stats};

/// The largest write after which a busy connection keeps its write buffer (`poll_write`).
const KEEP_WRITE_BUFFER: usize = 64 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Reads, handles and writes until nothing can move without waiting; `Ready` when the
    /// connection ends, with why.
    pub(super) fn poll_turns(&mut self, cx: &mut Context<'_>) -> Poll<Close> {
        loop {
            let wake = &self.link.wake;
            wake.register(cx);
            if wake.shutting_down() {
                return Poll::Ready(Close::Shutdown);
            }
            if wake.expired() {
                return Poll::Ready(Close::Keepalive);
            }
            if wake.taken_over() {
                return Poll::Ready(Close::TakenOver);
            }
            self.recheck_congestion();
            if let Err(close) = self.drain_buffered() {
                return Poll::Ready(close);
            }
            // Yield once, so the subscribers' tasks write before this one acknowledges.
            if std::mem::take(&mut self.deliver_first) {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if self.wbuf.is_empty()
                && std::mem::take(&mut self.check_outbox)
                && let Err(close) = self.fill_write_buffer()
            {
                return Poll::Ready(close);
            }
            let mut moved = false;
            if !self.wbuf.is_empty() {
                match self.poll_write(cx) {
                    Poll::Ready(Ok(())) => moved = true,
                    Poll::Ready(Err(close)) => return Poll::Ready(close),
                    Poll::Pending => {}
                }
            }
            // Bytes that have arrived count before the stall check, which comes after them.
            if self.congestion.is_none() {
                match self.poll_read(cx) {
                    Poll::Ready(Ok(())) => moved = true,
                    Poll::Ready(Err(close)) => return Poll::Ready(close),
                    Poll::Pending => {}
                }
            }
            // While a write is pending the outbox waits; a paused publisher waits for room.
            if (self.wbuf.is_empty() || self.congestion.is_some()) && self.link.wake.take_notified() {
                self.check_outbox = true;
                moved = true;
            }
            if self.poll_stall_check(cx) {
                moved = true;
            }
            if !moved {
                return Poll::Pending;
            }
            self.sleepiness.worked();
            if self.sleepiness.is_busy() {
                let now_us = self.shared.keepalive.now_us();
                self.busy.get_or_insert_with(Box::default).last_active_us = now_us;
            }
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Close>> {
        match Pin::new(&mut self.stream).poll_write(cx, &self.wbuf) {
            Poll::Ready(Ok(0)) => Poll::Ready(Err(Close::Io(std::io::ErrorKind::WriteZero.into()))),
            Poll::Ready(Ok(n)) => {
                self.wbuf.advance(n);
                Stats::add(&self.shared.stats.bytes_sent, n as u64);
                // Kept while the connection is busy, for its next batch: freed after each
                // write, it was allocated again and grown by doubling for every batch (a
                // twentieth of the fan-in's instructions). Only a buffer that held at most
                // KEEP_WRITE_BUFFER since it was last empty (a batch written in several parts
                // counts whole), and freed once the connection goes quiet (doze.rs, task.rs).
                let keep = self.busy.as_mut().is_some_and(|busy| {
                    busy.written += n;
                    busy.written <= KEEP_WRITE_BUFFER
                });
                if self.wbuf.is_empty() {
                    if let Some(busy) = self.busy.as_mut() {
                        busy.written = 0;
                    }
                    if keep {
                        self.wbuf.clear();
                    } else {
                        self.wbuf = BytesMut::new();
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(Close::Io(e))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Reads onto the stack and handles the whole packets at once; only the rest of a partial
    /// packet (or, while congested, the packets not yet handled) is kept in `rbuf`.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Close>> {
        // Uninitialized: costs nothing until the stream fills it.
        #[expect(clippy::large_stack_arrays, reason = "64 KiB on a worker's 2 MiB stack, for one poll")]
        let mut stack = [MaybeUninit::<u8>::uninit(); MAX_READ];
        let mut buf = ReadBuf::uninit(&mut stack[..self.read_size]);
        match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(Close::Io(e))),
            Poll::Pending => return Poll::Pending,
        }
        self.input_due = false;
        let read = buf.filled();
        if let Err(close) = self.received(read.len()) {
            return Poll::Ready(Err(close));
        }
        if self.rbuf.is_empty() {
            match self.drain_packets(read) {
                Ok(used) => self.rbuf.extend_from_slice(&read[used..]),
                Err(close) => return Poll::Ready(Err(close)),
            }
        } else {
            self.rbuf.extend_from_slice(read);
            if let Err(close) = self.drain_buffered() {
                return Poll::Ready(Err(close));
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Handles the whole packets held in `rbuf`; frees it once empty.
    fn drain_buffered(&mut self) -> Result<(), Close> {
        if self.rbuf.is_empty() {
            // E.g. the handshake's buffer, once CONNECT is handled.
            if self.rbuf.capacity() > 0 {
                self.rbuf = BytesMut::new();
            }
            return Ok(());
        }
        if self.congestion.is_some() {
            return Ok(());
        }
        let mut held = std::mem::take(&mut self.rbuf);
        let used = self.drain_packets(&held)?;
        if used < held.len() {
            held.advance(used);
            self.rbuf = held;
        }
        Ok(())
    }
}
