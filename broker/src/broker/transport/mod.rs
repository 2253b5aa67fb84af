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

mod bind;
mod psk;
mod rules;
mod subject;
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
use crate::config::{ListenerConfig, ListenerProtocol};
use crate::log::LogType;
pub(crate) use bind::{bind, restrict_to_interface};
pub(crate) use rules::ListenerRules;
use websocket::WsSettings;

/// How long a TLS handshake, and then a WebSocket upgrade request, may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the transport proved about a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// The PSK identity, the common name or subject of the client certificate, or a bridge's
    /// name.
    pub name: String,
    /// `use_identity_as_username` / `use_subject_as_username`: the name is the MQTT user,
    /// authenticated already.
    pub as_username: bool,
    /// The broker's own connection (a bridge's local side): no password, no client id rules
    /// and no ACL apply to it, as Mosquitto treats its bridges.
    pub trusted: bool,
}

impl Identity {
    /// An in-process bridge: no credentials, no client id rules, no ACL.
    pub(crate) fn bridge(name: &str) -> Self {
        Self { name: name.to_owned(), as_username: false, trusted: true }
    }
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
    /// The listener's mount point, auth scope and client id rules, given to each connection.
    rules: Arc<ListenerRules>,
    /// What a TLS client is known by, and whether that is its user name.
    names: Names,
}

/// `use_identity_as_username` / `use_subject_as_username`.
#[derive(Clone, Copy)]
struct Names {
    /// The transport's name for the client (PSK identity, certificate name) is its user name.
    as_username: bool,
    /// Which name of a client certificate.
    which: tls::CertName,
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
    pub rules: Option<Arc<ListenerRules>>,
}

impl Transport {
    pub(crate) fn for_listener(l: &ListenerConfig, shared: &Arc<Shared>) -> Result<Self, TransportError> {
        let setup = |message: String| TransportError::Setup { port: l.port, message };
        // The listener's place in the config, for its own auth with per_listener_settings; two
        // listeners configured alike share their settings, so the first equal one is right.
        let index = shared.config.listeners.iter().position(|c| c == l);
        let security =
            if l.psk_hint.is_some() {
                psk::context(l, index, shared).map(Security::Psk).map_err(setup)?
            } else if l.certfile.is_some() || l.keyfile.is_some() {
                let acceptor = tls::acceptor(l).map(Security::Tls).map_err(setup)?;
                if let Some(dhparamfile) = &l.dhparamfile {
                    shared.log.log(LogType::Notice, format_args!(
                    "Listener {}: dhparamfile {} read; its TLS uses ECDHE key exchange (rustls has no DHE suites).",
                    l.port,
                    dhparamfile.display()
                ));
                }
                acceptor
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
        // As Mosquitto, the common name wins when both options are on.
        let which = if l.use_subject_as_username && !l.use_identity_as_username {
            tls::CertName::Subject
        } else {
            tls::CertName::CommonName
        };
        let names = Names { as_username: l.use_identity_as_username || l.use_subject_as_username, which };
        Ok(Self { security, framing, rules: Arc::new(ListenerRules::of(l, index)), names })
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
            let rules = Some(transport.rules.clone());
            tokio::spawn(connection::serve_tcp(shared, tcp, peer, stop, rules).ending(ending));
        }
        (Security::Plain, Framing::WebSocket(settings)) => {
            let accepted = Accepted { shared, peer, stop, ending, rules: Some(transport.rules.clone()) };
            tokio::spawn(websocket::serve(settings.clone(), tcp, None, accepted));
        }
        (Security::Psk(ctx), framing) => {
            let (ctx, framing) = (ctx.clone(), framing.clone());
            let accepted = Accepted { shared, peer, stop, ending, rules: Some(transport.rules.clone()) };
            let names = transport.names;
            tokio::spawn(async move { serve_psk(&ctx, framing, names, tcp, accepted).await });
        }
        (Security::Tls(acceptor), framing) => {
            let (acceptor, framing) = (acceptor.clone(), framing.clone());
            let accepted = Accepted { shared, peer, stop, ending, rules: Some(transport.rules.clone()) };
            let names = transport.names;
            tokio::spawn(async move { serve_tls(&acceptor, framing, names, tcp, accepted).await });
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
            Self::Mqtt => connection::serve(a.shared, stream, a.peer, a.stop, identity, a.rules).ending(a.ending).await,
            Self::WebSocket(settings) => websocket::serve(settings, stream, identity, a).await,
        }
    }
}

/// What the handshake proved, kept where it is the user name: nothing else reads it, and every
/// idle client would carry it. A client that sent no certificate to a listener that takes the
/// user name from it gets an empty name, which CONNECT refuses (as Mosquitto does).
fn identity(name: Option<String>, names: Names) -> Option<Identity> {
    names.as_username.then(|| Identity { name: name.unwrap_or_default(), as_username: true, trusted: false })
}

fn failed(shared: &Shared, peer: SocketAddr, kind: &str, e: &str) {
    shared.log.log(LogType::Notice, format_args!("Client connection from {peer} failed: {kind} handshake: {e}."));
}

async fn serve_psk(ctx: &openssl::ssl::SslContext, framing: Framing, names: Names, tcp: TcpStream, a: Accepted) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, psk::accept(ctx, tcp)).await {
        Ok(Ok((stream, name))) => {
            log_session(
                &a.shared,
                a.peer,
                stream.ssl().version_str(),
                stream.ssl().current_cipher().map(openssl::ssl::SslCipherRef::name),
            );
            let identity = identity(name, names);
            match framing {
                // A task of its own, which parks when idle; this one, the handshake's, ends.
                Framing::Mqtt => {
                    let task = connection::serve_psk(a.shared, stream, a.peer, a.stop, identity, a.rules);
                    tokio::spawn(task.ending(a.ending));
                }
                framing @ Framing::WebSocket(_) => framing.serve(stream, identity, a).await,
            }
        }
        Ok(Err(e)) => failed(&a.shared, a.peer, "TLS-PSK", &e),
        Err(_) => failed(&a.shared, a.peer, "TLS-PSK", "no handshake within 10 seconds"),
    }
}

async fn serve_tls(acceptor: &tokio_rustls::TlsAcceptor, framing: Framing, names: Names, tcp: TcpStream, a: Accepted) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls::accept(acceptor, tcp, names.which)).await {
        Ok(Ok((stream, name))) => {
            let (_, conn) = stream.get_ref();
            let version = conn.protocol_version().map(|v| format!("{v:?}"));
            let suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
            log_session(&a.shared, a.peer, version.as_deref().unwrap_or("?"), suite.as_deref());
            framing.serve(stream, identity(name, names), a).await;
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

    /// A bridge's local side is served in process with no credentials: neither
    /// `allow_anonymous false` nor an ACL that grants nothing applies to it, while a client
    /// on the same terms is refused.
    #[tokio::test]
    async fn a_bridge_connection_skips_authentication_and_the_acl() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let acl = crate::auth::Acl::parse("user someone\ntopic readwrite nothing/#\n").0;
        let auth = crate::auth::Auth::for_tests(Some(acl), false);
        let shared = Arc::new(Shared::new(
            crate::Config::default(),
            crate::log::Logger::silent(),
            auth,
            None,
            crate::broker::park::GroupId::none(),
        ));
        let (_keep, stop) = watch::channel(false);
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let connect: &[u8] = &[0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 1, b'b'];
        let connack = |code| [0x20, 2, 0, code];
        for (identity, code) in [(None, 5), (Some(Identity::bridge("b")), 0)] {
            let (mut client, server) = tokio::io::duplex(4096);
            tokio::spawn(connection::serve(shared.clone(), server, peer, stop.clone(), identity, None));
            client.write_all(connect).await.unwrap();
            let mut answer = [0; 4];
            client.read_exact(&mut answer).await.unwrap();
            assert_eq!(answer, connack(code));
            if code != 0 {
                continue;
            }
            client.write_all(&[0x82, 8, 0, 1, 0, 3, b't', b'/', b'#', 0]).await.unwrap();
            let mut suback = [0; 5];
            client.read_exact(&mut suback).await.unwrap();
            assert_eq!(suback, [0x90, 3, 0, 1, 0], "granted QoS 0, not 0x80");
            let publish = [0x30, 7, 0, 3, b't', b'/', b'1', b'h', b'i'];
            client.write_all(&publish).await.unwrap();
            let mut delivered = [0; 9];
            client.read_exact(&mut delivered).await.unwrap();
            assert_eq!(delivered, publish, "published and read back past the ACL");
        }
    }

    /// An idle WebSocket client's task is its connection's task over the adapter, nothing more:
    /// what the upgrade needed is gone (measured with the bench's `conn` scenario: 1,690 B per
    /// idle WebSocket connection, 1,500 B per TCP one).
    #[tokio::test]
    async fn a_websocket_task_costs_its_connection_and_the_adapter_only() {
        let auth = crate::auth::Auth::default();
        let shared = Arc::new(Shared::new(
            crate::Config::default(),
            crate::log::Logger::silent(),
            auth,
            None,
            crate::broker::park::GroupId::none(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let tcp2 = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (done, _) = tokio::sync::mpsc::channel(1);
        let (_, stop) = watch::channel(false);
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let plain = connection::serve(shared.clone(), tcp, peer, stop.clone(), None, None);
        let settings = Arc::new(WsSettings::new(&ListenerConfig::default(), &shared.config).unwrap());
        let accepted =
            Accepted { shared: shared.clone(), peer, stop, ending: Ending { open: None, done }, rules: None };
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
