//! How bytes reach a listener: a security layer (plain TCP, TLS-PSK with OpenSSL, certificate
//! TLS with rustls) times a framing (MQTT as is, or MQTT over WebSocket), so ws://, wss:// and
//! WebSocket over TLS-PSK are combinations, not copies. rustls has no PSK and will not add the
//! TLS 1.2 PSK suites an ESP32 offers, hence OpenSSL for those. Each handshake runs in the
//! connection's own task, bounded in time; a failed one is logged and ends only that
//! connection.
//!
//! - `psk`, `tls`: the security handshakes.
//! - `websocket`: the HTTP upgrade (and `http_dir`), then the framing adapter the connection
//!   reads and writes through.

mod psk;
mod tls;
mod websocket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::Shared;
use super::connection::{self, Ending};
use super::mount::MountPoint;
use crate::config::{ListenerConfig, ListenerProtocol};
use crate::log::LogType;
use websocket::WsSettings;

/// How long a TLS handshake, and then a WebSocket upgrade request, may take.
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

/// A listener's transport: its security times its framing.
pub(crate) struct Transport {
    security: Security,
    framing: Framing,
    /// The listener's `mount_point`, which its connections apply to their topics.
    mount: Option<MountPoint>,
}

/// The layer under the framing. Cheap clones: both contexts hold their configuration behind a
/// reference count.
#[derive(Clone)]
enum Security {
    Plain,
    Psk(openssl::ssl::SslContext),
    Tls(tokio_rustls::TlsAcceptor),
}

/// How MQTT packets travel over the secured stream.
#[derive(Clone)]
enum Framing {
    /// As they are (MQTT's own framing).
    Mqtt,
    /// In binary WebSocket frames, after an HTTP upgrade (MQTT 3.1.1 / 5.0 section 6).
    WebSocket(Arc<WsSettings>),
}

/// An accepted connection and what its task needs besides the stream.
pub(crate) struct Accepted {
    pub shared: Arc<Shared>,
    pub peer: SocketAddr,
    pub stop: watch::Receiver<bool>,
    pub ending: Ending,
    pub mount: Option<MountPoint>,
}

impl Transport {
    pub(crate) fn for_listener(l: &ListenerConfig, shared: &Arc<Shared>) -> Result<Self, TransportError> {
        let setup = |message: String| TransportError::Setup { port: l.port, message };
        let security = if l.psk_hint.is_some() {
            psk::context(l, shared).map(Security::Psk).map_err(setup)?
        } else if l.certfile.is_some() || l.keyfile.is_some() {
            tls::acceptor(l).map(Security::Tls).map_err(setup)?
        } else {
            Security::Plain
        };
        let framing = match l.protocol {
            ListenerProtocol::Mqtt if l.http_dir.is_some() => {
                return Err(setup("http_dir is served on a \"protocol websockets\" listener only".into()));
            }
            ListenerProtocol::Mqtt => Framing::Mqtt,
            ListenerProtocol::WebSockets => {
                Framing::WebSocket(Arc::new(WsSettings::new(l, &shared.config).map_err(setup)?))
            }
        };
        Ok(Self { security, framing, mount: MountPoint::of(l.mount_point.as_deref()) })
    }

    /// What the startup line adds after the address: " (TLS)", " (WebSocket, TLS-PSK)"...
    pub(crate) fn describe(&self) -> &'static str {
        match (&self.framing, &self.security) {
            (Framing::Mqtt, Security::Plain) => "",
            (Framing::Mqtt, Security::Psk(_)) => " (TLS-PSK)",
            (Framing::Mqtt, Security::Tls(_)) => " (TLS)",
            (Framing::WebSocket(_), Security::Plain) => " (WebSocket)",
            (Framing::WebSocket(_), Security::Psk(_)) => " (WebSocket, TLS-PSK)",
            (Framing::WebSocket(_), Security::Tls(_)) => " (WebSocket, TLS)",
        }
    }

    /// The startup line for a listener bound to `addr`, in Mosquitto's words for a WebSocket
    /// one ("Opening websockets listen socket on port 9001.").
    pub(crate) fn opening_line(&self, addr: SocketAddr) -> String {
        match self.framing {
            Framing::Mqtt => format!("Opening listen socket on {addr}{}.", self.describe()),
            Framing::WebSocket(_) => {
                let security = match self.security {
                    Security::Plain => "",
                    Security::Psk(_) => " (TLS-PSK)",
                    Security::Tls(_) => " (TLS)",
                };
                format!("Opening websockets listen socket on port {}{security}.", addr.port())
            }
        }
    }
}

/// Spawns the connection's task: the transport's handshakes, then MQTT over it.
pub(crate) fn spawn(
    transport: &Transport,
    use_identity: bool,
    shared: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
    ending: Ending,
) {
    // One spawn per security: a task's future is as large as its largest state, and the plain
    // connections must not carry room for a TLS handshake.
    match (&transport.security, &transport.framing) {
        // A plain connection's task is the connection itself: the smallest task for the
        // thousands of idle clients a broker may hold.
        (Security::Plain, Framing::Mqtt) => {
            let mount = transport.mount.clone();
            tokio::spawn(connection::serve(shared, tcp, peer, stop, None, mount).ending(ending));
        }
        (Security::Plain, Framing::WebSocket(settings)) => {
            let accepted = Accepted { shared, peer, stop, ending, mount: transport.mount.clone() };
            tokio::spawn(websocket::serve(settings.clone(), tcp, None, accepted));
        }
        (Security::Psk(ctx), framing) => {
            let (ctx, framing) = (ctx.clone(), framing.clone());
            let accepted = Accepted { shared, peer, stop, ending, mount: transport.mount.clone() };
            tokio::spawn(async move { serve_psk(&ctx, framing, use_identity, tcp, accepted).await });
        }
        (Security::Tls(acceptor), framing) => {
            let (acceptor, framing) = (acceptor.clone(), framing.clone());
            let accepted = Accepted { shared, peer, stop, ending, mount: transport.mount.clone() };
            tokio::spawn(async move { serve_tls(&acceptor, framing, use_identity, tcp, accepted).await });
        }
    }
}

impl Framing {
    /// Serves the secured stream to its end.
    async fn serve<S>(self, stream: S, identity: Option<Identity>, a: Accepted)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        match self {
            Self::Mqtt => connection::serve(a.shared, stream, a.peer, a.stop, identity, a.mount).ending(a.ending).await,
            Self::WebSocket(settings) => websocket::serve(settings, stream, identity, a).await,
        }
    }
}

fn identity(name: Option<String>, as_username: bool) -> Option<Identity> {
    name.map(|name| Identity { name, as_username })
}

fn failed(shared: &Shared, peer: SocketAddr, kind: &str, e: &str) {
    shared.log.log(LogType::Notice, format_args!("Client connection from {peer} failed: {kind} handshake: {e}."));
}

async fn serve_psk(ctx: &openssl::ssl::SslContext, framing: Framing, use_identity: bool, tcp: TcpStream, a: Accepted) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, psk::accept(ctx, tcp)).await {
        Ok(Ok((stream, name))) => {
            log_session(
                &a.shared,
                a.peer,
                stream.ssl().version_str(),
                stream.ssl().current_cipher().map(openssl::ssl::SslCipherRef::name),
            );
            framing.serve(stream, identity(name, use_identity), a).await;
        }
        Ok(Err(e)) => failed(&a.shared, a.peer, "TLS-PSK", &e),
        Err(_) => failed(&a.shared, a.peer, "TLS-PSK", "no handshake within 10 seconds"),
    }
}

async fn serve_tls(
    acceptor: &tokio_rustls::TlsAcceptor,
    framing: Framing,
    use_identity: bool,
    tcp: TcpStream,
    a: Accepted,
) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls::accept(acceptor, tcp)).await {
        Ok(Ok((stream, name))) => {
            let (_, conn) = stream.get_ref();
            let version = conn.protocol_version().map(|v| format!("{v:?}"));
            let suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
            log_session(&a.shared, a.peer, version.as_deref().unwrap_or("?"), suite.as_deref());
            framing.serve(stream, identity(name, use_identity), a).await;
        }
        Ok(Err(e)) => failed(&a.shared, a.peer, "TLS", &e),
        Err(_) => failed(&a.shared, a.peer, "TLS", "no handshake within 10 seconds"),
    }
}

fn log_session(shared: &Shared, peer: SocketAddr, version: &str, cipher: Option<&str>) {
    shared.log.log(LogType::Debug, format_args!("TLS session with {peer}: {version}, {}.", cipher.unwrap_or("?")));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An idle WebSocket client's task is its connection's task over the adapter, nothing more:
    /// what the upgrade needed is gone (measured with the bench's `conn` scenario: 1,690 B per
    /// idle WebSocket connection, 1,500 B per TCP one).
    #[tokio::test]
    async fn a_websocket_task_costs_its_connection_and_the_adapter_only() {
        let auth = crate::auth::Auth::default();
        let shared = Arc::new(Shared::new(crate::Config::default(), crate::log::Logger::silent(), auth, None));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let tcp2 = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (done, _) = tokio::sync::mpsc::channel(1);
        let (_, stop) = watch::channel(false);
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let plain = connection::serve(shared.clone(), tcp, peer, stop.clone(), None, None);
        let settings = Arc::new(WsSettings::new(&ListenerConfig::default(), &shared.config).unwrap());
        let accepted =
            Accepted { shared: shared.clone(), peer, stop, ending: Ending { open: None, done }, mount: None };
        let ws = websocket::serve(settings, tcp2, None, accepted);
        let adapter = size_of::<websocket::WsStream<TcpStream>>() - size_of::<TcpStream>();
        assert!(adapter <= 160, "the adapter adds {adapter} bytes");
        assert!(
            size_of_val(&ws) <= size_of_val(&plain) + adapter + 16,
            "{} vs {}",
            size_of_val(&ws),
            size_of_val(&plain)
        );
    }
}
