//! MQTT over WebSocket on a secured stream: the HTTP upgrade (or a file from `http_dir`), then
//! the connection runs on a [`WsStream`], which frames and unframes its bytes. The protocol
//! rules are in [`crate::websocket`]; here only the I/O.
//!
//! - `upgrade`: reading the request (bounded by `websockets_headers_size`), answering it.
//! - `stream`: the adapter, holding no buffer while idle.

mod stream;
mod upgrade;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite};

use super::{Accepted, HANDSHAKE_TIMEOUT, Identity};
use crate::broker::Shared;
use crate::broker::connection::{self, ConnectionTask};

/// The most a data frame may declare: MQTT's largest packet (a remaining length of
/// 268,435,455 and its 5-byte fixed header).
const MQTT_LARGEST: usize = crate::codec::MAX_REMAINING_LENGTH + 5;
use crate::config::{Config, ListenerConfig};
use crate::log::LogType;
pub(crate) use stream::WsStream;

/// A WebSocket listener's settings, shared by its connections.
#[derive(Debug)]
pub(crate) struct WsSettings {
    /// `websockets_headers_size`: the request's bytes at most.
    headers_size: usize,
    /// The largest data frame payload: the broker's packet size limit (`max_packet_size`, or
    /// MQTT's largest packet), so an oversized packet is refused from its frame header.
    max_payload: usize,
    /// `http_dir`, resolved at startup (symlinks and all) so that served files can be checked
    /// to lie under it.
    http_dir: Option<PathBuf>,
}

impl WsSettings {
    pub(super) fn new(l: &ListenerConfig, config: &Config) -> Result<Self, String> {
        let http_dir = match &l.http_dir {
            Some(dir) => {
                let resolved = dir.canonicalize().map_err(|e| format!("http_dir {}: {e}", dir.display()))?;
                if !resolved.is_dir() {
                    return Err(format!("http_dir {}: not a directory", dir.display()));
                }
                Some(resolved)
            }
            None => None,
        };
        // Frames are limited by MQTT's largest packet, not by max_packet_size: packets may be
        // joined in one frame any way [MQTT-6.0.0-2] (MQTT.js joins the writes it corks), and
        // frames are streamed, never buffered whole, so the MQTT decoder's own max_packet_size
        // check ([MQTT-2.2.3], per packet, as on TCP) is what bounds memory. A frame declaring
        // more than any MQTT packet is still refused from its header (1009).
        Ok(Self { headers_size: config.websockets_headers_size, max_payload: MQTT_LARGEST, http_dir })
    }
}

/// Logs a refused WebSocket client: the one line that says why.
fn refused(shared: &Shared, peer: SocketAddr, reason: impl fmt::Display) {
    shared.log.log(LogType::Notice, format_args!("Client connection from {peer} failed: WebSocket: {reason}."));
}

/// Runs the upgrade on `stream` (bounded by the handshake timeout), then the connection.
pub(super) fn serve<S>(settings: Arc<WsSettings>, stream: S, identity: Option<Identity>, a: Accepted) -> WsTask<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    WsTask::Upgrading(Box::pin(upgrade(settings, stream, identity, a)))
}

/// The upgrade's future: the connection's task when it succeeded.
type Upgrading<S> = Pin<Box<dyn Future<Output = Option<ConnectionTask<WsStream<S>>>> + Send>>;

/// The upgrade, then the connection's own task: what it needs for the upgrade (the request's
/// buffer, a timer, the listener's settings, the stream before it is wrapped) is boxed and
/// gone once the connection runs, so an idle WebSocket client's task is its connection's task
/// and nothing more (an `async fn` keeps room for its arguments for its whole life).
#[expect(clippy::large_enum_variant, reason = "the large variant is what an idle client holds; boxing it adds")]
pub(crate) enum WsTask<S: 'static> {
    Upgrading(Upgrading<S>),
    Connected(ConnectionTask<WsStream<S>>),
    Ended,
}

impl<S> Future for WsTask<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            match this {
                Self::Upgrading(upgrade) => {
                    let Some(task) = ready!(upgrade.as_mut().poll(cx)) else {
                        *this = Self::Ended;
                        return Poll::Ready(());
                    };
                    *this = Self::Connected(task);
                }
                Self::Connected(task) => {
                    ready!(Pin::new(task).poll(cx));
                    *this = Self::Ended;
                    return Poll::Ready(());
                }
                Self::Ended => return Poll::Ready(()),
            }
        }
    }
}

async fn upgrade<S>(
    settings: Arc<WsSettings>,
    mut stream: S,
    identity: Option<Identity>,
    a: Accepted,
) -> Option<ConnectionTask<WsStream<S>>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let upgrade = upgrade::run(&settings, &mut stream, &a.shared, a.peer);
    let Ok(early) = tokio::time::timeout(HANDSHAKE_TIMEOUT, upgrade).await else {
        let secs = HANDSHAKE_TIMEOUT.as_secs();
        refused(&a.shared, a.peer, format_args!("no upgrade request within {secs} seconds"));
        return None;
    };
    // None: answered (a file, a refusal) and logged.
    let ws = WsStream::new(stream, settings.max_payload, early?, a.shared.clone(), a.peer);
    Some(connection::serve(a.shared, ws, a.peer, a.stop, identity, a.rules).ending(a.ending))
}
