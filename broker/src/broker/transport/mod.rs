//! How bytes reach a listener: plain TCP, TLS-PSK (OpenSSL: rustls has no PSK and will not add
//! the TLS 1.2 PSK suites an ESP32 offers) or certificate TLS (rustls). The handshake runs in
//! the connection's own task, bounded in time; a failed one is logged and ends only that
//! connection.

mod psk;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::watch;

use super::Shared;
use super::connection::{self, Ending};
use crate::config::ListenerConfig;
use crate::log::LogType;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the transport proved about a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// The PSK identity, or the common name of the client certificate.
    pub name: String,
    /// `use_identity_as_username`: the name is the MQTT user, authenticated already.
    pub as_username: bool,
}

/// A listener that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("listener {port}: {message}")]
    Setup { port: u16, message: String },
}

pub(crate) enum Transport {
    Plain,
    Psk(openssl::ssl::SslContext),
    Tls(tokio_rustls::TlsAcceptor),
}

impl Transport {
    pub(crate) fn for_listener(l: &ListenerConfig, shared: &Arc<Shared>) -> Result<Self, TransportError> {
        let setup = |message: String| TransportError::Setup { port: l.port, message };
        if l.psk_hint.is_some() {
            psk::context(l, shared).map(Self::Psk).map_err(setup)
        } else if l.certfile.is_some() || l.keyfile.is_some() {
            tls::acceptor(l).map(Self::Tls).map_err(setup)
        } else {
            Ok(Self::Plain)
        }
    }

    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Self::Plain => "",
            Self::Psk(_) => " (TLS-PSK)",
            Self::Tls(_) => " (TLS)",
        }
    }
}

/// Spawns the connection's task: the transport's handshake, then MQTT over it.
pub(crate) fn spawn(
    transport: &Transport,
    use_identity: bool,
    shared: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
    ending: Ending,
) {
    match transport {
        // A plain connection's task is the connection itself: the smallest task for the
        // thousands of idle clients a broker may hold.
        Transport::Plain => {
            tokio::spawn(connection::serve(shared, tcp, peer, stop, None).ending(ending));
        }
        // Cheap clones: both hold their configuration behind a reference count.
        Transport::Psk(ctx) => {
            let ctx = ctx.clone();
            tokio::spawn(async move { serve_psk(&ctx, use_identity, shared, tcp, peer, stop, ending).await });
        }
        Transport::Tls(acceptor) => {
            let acceptor = acceptor.clone();
            tokio::spawn(async move { serve_tls(&acceptor, use_identity, shared, tcp, peer, stop, ending).await });
        }
    }
}

fn identity(name: Option<String>, as_username: bool) -> Option<Identity> {
    name.map(|name| Identity { name, as_username })
}

fn failed(shared: &Shared, peer: SocketAddr, kind: &str, e: &str) {
    shared.log.log(LogType::Notice, format_args!("Client connection from {peer} failed: {kind} handshake: {e}."));
}

async fn serve_psk(
    ctx: &openssl::ssl::SslContext,
    use_identity: bool,
    shared: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
    ending: Ending,
) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, psk::accept(ctx, tcp)).await {
        Ok(Ok((stream, name))) => {
            log_session(
                &shared,
                peer,
                stream.ssl().version_str(),
                stream.ssl().current_cipher().map(openssl::ssl::SslCipherRef::name),
            );
            connection::serve(shared, stream, peer, stop, identity(name, use_identity)).ending(ending).await;
        }
        Ok(Err(e)) => failed(&shared, peer, "TLS-PSK", &e),
        Err(_) => failed(&shared, peer, "TLS-PSK", "no handshake within 10 seconds"),
    }
}

async fn serve_tls(
    acceptor: &tokio_rustls::TlsAcceptor,
    use_identity: bool,
    shared: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
    ending: Ending,
) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls::accept(acceptor, tcp)).await {
        Ok(Ok((stream, name))) => {
            let (_, conn) = stream.get_ref();
            let version = conn.protocol_version().map(|v| format!("{v:?}"));
            let suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
            log_session(&shared, peer, version.as_deref().unwrap_or("?"), suite.as_deref());
            connection::serve(shared, stream, peer, stop, identity(name, use_identity)).ending(ending).await;
        }
        Ok(Err(e)) => failed(&shared, peer, "TLS", &e),
        Err(_) => failed(&shared, peer, "TLS", "no handshake within 10 seconds"),
    }
}

fn log_session(shared: &Shared, peer: SocketAddr, version: &str, cipher: Option<&str>) {
    shared.log.log(LogType::Debug, format_args!("TLS session with {peer}: {version}, {}.", cipher.unwrap_or("?")));
}
