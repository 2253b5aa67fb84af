//! A connection's task, written as a state machine by hand rather than as an `async fn`: an
//! `async fn`'s future keeps room for its arguments, every local and every awaited future at
//! once, and thousands of idle clients each hold one. Here an idle client's task holds its
//! [`Connection`] and nothing more; the handshake and the ending, which need more (timers, a
//! shutdown receiver, log lines), are boxed futures that own the connection while they run.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};

use super::doze::Parking;
use super::{Close, Connection};

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pub(crate) struct ConnectionTask<S: 'static> {
    phase: Phase<S>,
    /// Dropped when the task ends, however it ends (or handed on when it parks).
    ending: Option<Ending>,
    /// How the connection parks when it is out of work (doze.rs); `None`: over a stream that
    /// cannot leave tokio's reactor (TLS, WebSocket, an in-process pipe).
    park: Option<&'static Parking<S>>,
}

enum Phase<S: 'static> {
    /// Waiting for CONNECT (and answering it).
    Handshake(Boxed<(Connection<S>, Result<bool, Close>)>),
    Connected(Connection<S>),
    /// Logging, the will, detaching the session, flushing and closing the socket.
    Finishing(Boxed<()>),
    Ended,
}

/// What the server counts for a connection: the listener's open connections (for
/// `max_connections`) and the tasks shutdown waits for.
pub(crate) struct Ending {
    pub open: Option<Arc<AtomicUsize>>,
    /// Never sent on: shutdown waits until every clone is dropped.
    #[expect(dead_code, reason = "held, not read: dropped with the task")]
    pub done: mpsc::Sender<()>,
}

impl Drop for Ending {
    fn drop(&mut self) {
        if let Some(open) = &self.open {
            open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> ConnectionTask<S> {
    pub(super) fn new(mut conn: Connection<S>, mut shutdown: watch::Receiver<bool>) -> Self {
        let handshake = Box::pin(async move {
            let result = conn.handshake(&mut shutdown).await;
            (conn, result)
        });
        Self { phase: Phase::Handshake(handshake), ending: None, park: None }
    }

    /// A task for a connection past CONNECT (one resumed from parking).
    pub(super) fn connected(conn: Connection<S>, park: Option<&'static Parking<S>>) -> Self {
        Self { phase: Phase::Connected(conn), ending: None, park }
    }

    /// Parks the connection with `park` whenever it may (doze.rs).
    pub(super) fn parking(mut self, park: &'static Parking<S>) -> Self {
        self.park = Some(park);
        self
    }

    /// Runs `ending` when the task ends.
    pub(crate) fn ending(self, ending: Ending) -> Self {
        self.ending_opt(Some(ending))
    }

    pub(super) fn ending_opt(mut self, ending: Option<Ending>) -> Self {
        self.ending = ending;
        self
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Future for ConnectionTask<S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let (conn, close) = match &mut this.phase {
                Phase::Handshake(handshake) => match ready!(handshake.as_mut().poll(cx)) {
                    (conn, Ok(true)) => {
                        this.phase = Phase::Connected(conn);
                        continue;
                    }
                    // Refused: answered and logged already.
                    (_, Ok(false)) => break,
                    (conn, Err(close)) => (conn, close),
                },
                Phase::Connected(conn) => {
                    let Poll::Ready(close) = conn.poll_turns(cx) else {
                        if let Some(parking) = this.park
                            && conn.poll_doze(cx)
                            && conn.may_park()
                            && parking.quiet(&conn.stream)
                        {
                            let Phase::Connected(conn) = std::mem::replace(&mut this.phase, Phase::Ended) else {
                                unreachable!("the phase was just matched")
                            };
                            // This task is done; the parking lot has the connection now.
                            (parking.park)(conn, this.ending.take());
                            return Poll::Ready(());
                        }
                        if this.park.is_none() {
                            conn.free_write_buffer();
                        }
                        return Poll::Pending;
                    };
                    match std::mem::replace(&mut this.phase, Phase::Ended) {
                        Phase::Connected(conn) => (conn, close),
                        _ => unreachable!("the phase was just matched"),
                    }
                }
                Phase::Finishing(finishing) => {
                    ready!(finishing.as_mut().poll(cx));
                    break;
                }
                Phase::Ended => return Poll::Ready(()),
            };
            this.phase = Phase::Finishing(Box::pin(conn.finish(close)));
        }
        this.phase = Phase::Ended;
        this.ending = None;
        Poll::Ready(())
    }
}
