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
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::{Accepted, HANDSHAKE_TIMEOUT, Identity};
use crate::broker::Shared;
use crate::broker::connection;
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
        Ok(Self { headers_size: config.websockets_headers_size, max_payload: config.packet_size_limit(), http_dir })
    }
}

/// Logs a refused WebSocket client: the one line that says why.
fn refused(shared: &Shared, peer: SocketAddr, reason: impl fmt::Display) {
    shared.log.log(LogType::Notice, format_args!("Client connection from {peer} failed: WebSocket: {reason}."));
}

/// Runs the upgrade on `stream` (bounded by the handshake timeout), then the connection.
pub(super) async fn serve<S>(settings: Arc<WsSettings>, mut stream: S, identity: Option<Identity>, a: Accepted)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Boxed: the request's buffer and the answer live on the heap and only during the upgrade,
    // not in the connection task's future for its whole life.
    let upgrade = Box::pin(upgrade::run(&settings, &mut stream, &a.shared, a.peer));
    let early = match tokio::time::timeout(HANDSHAKE_TIMEOUT, upgrade).await {
        Ok(Some(early)) => early,
        // Answered (a file, a refusal) and logged.
        Ok(None) => return,
        Err(_) => {
            let secs = HANDSHAKE_TIMEOUT.as_secs();
            return refused(&a.shared, a.peer, format_args!("no upgrade request within {secs} seconds"));
        }
    };
    let ws = WsStream::new(stream, settings.max_payload, early, a.shared.clone(), a.peer);
    connection::serve(a.shared, ws, a.peer, a.stop, identity).ending(a.ending).await;
}
