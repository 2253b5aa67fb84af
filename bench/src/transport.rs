//! How benchmark clients reach the broker: security (plain TCP, TLS with `--cafile` or
//! `--insecure`, TLS-PSK with `--psk-identity` and `--psk`, the options of `mosquitto_pub`)
//! times framing (MQTT straight on the connection, or inside WebSocket frames with `--ws`).
//! TLS goes through OpenSSL, the only TLS library here that speaks TLS-PSK (see the broker's
//! transport); TLS-PSK through the app's own client (`mqtt_lab_psk_hint::PskClient`), which
//! refuses a server that does not use the key. WebSocket framing is [`crate::websocket`], on
//! top of whichever security: ws, wss, or WebSocket over TLS-PSK.

use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use mqtt_lab_psk_hint::{PskClient, PskVersions, keylog};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use crate::websocket::WebSocket;

/// What the command line asked for.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Security {
    #[default]
    Plain,
    /// Certificate TLS: the broker's certificate checked against `cafile` (or the system's
    /// roots), or not checked at all with `insecure`.
    Tls { cafile: Option<PathBuf>, insecure: bool },
    /// TLS-PSK: `key` is the raw key (the command line gives it in hex, as psk_file does).
    Psk { identity: String, key: Vec<u8> },
}

impl Security {
    /// The name results carry without WebSocket framing: "tcp", "tls" or "tls-psk" (with it:
    /// [`transport_name`]).
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Plain => "tcp",
            Self::Tls { .. } => "tls",
            Self::Psk { .. } => "tls-psk",
        }
    }
}

/// How MQTT bytes travel on the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Framing {
    /// MQTT bytes straight on the connection.
    #[default]
    Raw,
    /// Inside WebSocket frames, after an upgrade on `path` (`/mqtt` by default).
    WebSocket { path: String },
}

/// The name results carry for a security and a framing: "tcp", "tls", "tls-psk", "ws", "wss"
/// or "ws-psk".
pub const fn transport_name(security: &Security, framing: &Framing) -> &'static str {
    match (framing, security) {
        (Framing::Raw, s) => s.name(),
        (Framing::WebSocket { .. }, Security::Plain) => "ws",
        (Framing::WebSocket { .. }, Security::Tls { .. }) => "wss",
        (Framing::WebSocket { .. }, Security::Psk { .. }) => "ws-psk",
    }
}

/// Never shows the key: options are printed in error messages and logs.
impl fmt::Debug for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain => f.write_str("Plain"),
            Self::Tls { cafile, insecure } => {
                f.debug_struct("Tls").field("cafile", cafile).field("insecure", insecure).finish()
            }
            Self::Psk { identity, key } => f
                .debug_struct("Psk")
                .field("identity", identity)
                .field("key", &format_args!("<{} bytes>", key.len()))
                .finish(),
        }
    }
}

/// Parses a PSK given in hex as `mosquitto_pub --psk` and Mosquitto's psk_file take it.
pub fn parse_hex_key(hex: &str) -> Result<Vec<u8>, String> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the key must be an even number of hex digits (e.g. 0123456789abcdef)".into());
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| e.to_string())).collect()
}

/// Opens connections as `Security` says; built once per run, shared by every client.
#[derive(Clone)]
pub struct Connector {
    kind: Kind,
    /// The broker's host name: SNI, the name its certificate must carry, and the WebSocket
    /// upgrade's `Host`.
    host: String,
    framing: Framing,
}

#[derive(Clone)]
enum Kind {
    Plain,
    /// Certificate TLS; `verify_host`: the certificate must name `host`.
    Tls {
        connector: SslConnector,
        verify_host: bool,
    },
    /// TLS-PSK through the workspace's one PSK client (which refuses a server that does not use
    /// the key, before any MQTT byte).
    Psk(PskClient),
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (tls, verify_host, psk) = match &self.kind {
            Kind::Plain => (false, false, false),
            Kind::Tls { verify_host, .. } => (true, *verify_host, false),
            Kind::Psk(_) => (true, false, true),
        };
        f.debug_struct("Connector")
            .field("tls", &tls)
            .field("host", &self.host)
            .field("verify_host", &verify_host)
            .field("psk", &psk)
            .field("framing", &self.framing)
            .finish()
    }
}

impl Connector {
    /// A plain TCP connector (what tests and the default command line use).
    pub fn plain() -> Self {
        Self { kind: Kind::Plain, host: String::new(), framing: Framing::Raw }
    }

    /// The same connector with MQTT in `framing` (WebSocket frames, or not).
    #[must_use]
    pub fn framed(mut self, framing: Framing) -> Self {
        self.framing = framing;
        self
    }

    /// With `SSLKEYLOGFILE` set, every TLS session's secrets are appended to that file.
    pub fn new(security: &Security, host: &str) -> Result<Self, String> {
        let key_log = if matches!(security, Security::Plain) { None } else { keylog::from_env()? };
        let kind = match security {
            Security::Plain => Kind::Plain,
            Security::Tls { cafile, insecure } => {
                let setup = |e: openssl::error::ErrorStack| format!("TLS setup failed: {e}");
                let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(setup)?;
                b.set_min_proto_version(Some(SslVersion::TLS1_2)).map_err(setup)?;
                if let Some(ca) = cafile {
                    b.set_ca_file(ca)
                        .map_err(|e| format!("--cafile {}: not a readable PEM file ({e})", ca.display()))?;
                }
                if *insecure {
                    b.set_verify(SslVerifyMode::NONE);
                }
                if let Some(log) = key_log {
                    keylog::install(&mut b, log);
                }
                Kind::Tls { connector: b.build(), verify_host: !insecure }
            }
            Security::Psk { identity, key } => {
                Kind::Psk(PskClient::with_key_log(identity, key, PskVersions::Any, key_log).map_err(|e| e.to_string())?)
            }
        };
        Ok(Self { kind, host: host.to_owned(), framing: Framing::Raw })
    }

    /// Connects: the TLS handshake when there is one, then the WebSocket upgrade when framed.
    pub async fn connect(&self, tcp: TcpStream) -> Result<Stream, String> {
        let peer = tcp.peer_addr().map_err(|e| format!("the connection has no peer address: {e}"))?;
        let mut link = self.secure(tcp).await?;
        let ws = match &self.framing {
            Framing::Raw => None,
            Framing::WebSocket { path } => {
                let host = match self.host.as_str() {
                    "" => peer.ip().to_string(),
                    h => h.to_owned(),
                };
                let host = if host.contains(':') {
                    format!("[{host}]:{}", peer.port())
                } else {
                    format!("{host}:{}", peer.port())
                };
                let leftover = crate::websocket::handshake::upgrade(&mut link, &host, path).await?;
                Some(Box::new(WebSocket::new(leftover)))
            }
        };
        Ok(Stream { link, ws })
    }

    /// The TLS handshake, when there is one.
    async fn secure(&self, tcp: TcpStream) -> Result<Link, String> {
        match &self.kind {
            Kind::Plain => Ok(Link::Tcp(tcp)),
            Kind::Psk(client) => {
                let stream = client.connect(tcp, &self.host).await.map_err(|e| e.to_string())?;
                Ok(Link::Tls(Box::new(stream)))
            }
            Kind::Tls { connector, verify_host } => {
                let ssl = connector
                    .configure()
                    .and_then(|c| c.verify_hostname(*verify_host).into_ssl(&self.host))
                    .map_err(|e| format!("TLS setup failed: {e}"))?;
                let mut stream = SslStream::new(ssl, tcp).map_err(|e| format!("TLS setup failed: {e}"))?;
                Pin::new(&mut stream).connect().await.map_err(|e| format!("the TLS handshake failed: {e}"))?;
                Ok(Link::Tls(Box::new(stream)))
            }
        }
    }
}

/// A client's connection: its security (the link) and its framing.
pub struct Stream {
    link: Link,
    /// WebSocket framing state (boxed: a TCP connection pays one pointer for it).
    ws: Option<Box<WebSocket>>,
}

/// The connection under the framing: TCP, or TLS (certificate or PSK) over TCP.
enum Link {
    Tcp(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

pub type ReadHalf<'a> = Box<dyn AsyncRead + Unpin + Send + 'a>;
pub type WriteHalf<'a> = Box<dyn AsyncWrite + Unpin + Send + 'a>;

impl Stream {
    /// Reading and writing halves for the loops that wait on both at once. TCP splits without a
    /// lock, as before TLS existed; a TLS stream shares one session, so its halves take turns.
    /// WebSocket framing splits with the link: each half keeps its own side's state.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        let (r, w) = self.link.split();
        match &mut self.ws {
            None => (r, w),
            Some(ws) => {
                let (r, w) = ws.split(r, w);
                (Box::new(r), Box::new(w))
            }
        }
    }
}

impl Link {
    fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        match self {
            Self::Tcp(s) => {
                let (r, w) = s.split();
                (Box::new(r), Box::new(w))
            }
            Self::Tls(s) => {
                let (r, w) = tokio::io::split(&mut **s);
                (Box::new(r), Box::new(w))
            }
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let Self { link, ws } = self.get_mut();
        match ws {
            Some(ws) => ws.poll_read(link, cx, buf),
            None => Pin::new(link).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let Self { link, ws } = self.get_mut();
        match ws {
            Some(ws) => ws.poll_write(link, cx, buf),
            None => Pin::new(link).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let Self { link, ws } = self.get_mut();
        match ws {
            Some(ws) => ws.poll_flush(link, cx),
            None => Pin::new(link).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let Self { link, ws } = self.get_mut();
        match ws {
            Some(ws) => ws.poll_shutdown(link, cx),
            None => Pin::new(link).poll_shutdown(cx),
        }
    }
}

impl AsyncRead for Link {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(&mut **s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Link {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(&mut **s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(&mut **s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(&mut **s).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_keys_parse_like_psk_file_and_bad_ones_are_named() {
        assert_eq!(parse_hex_key("0a1B").unwrap(), vec![0x0a, 0x1b]);
        for bad in ["", "abc", "zz", "0x12"] {
            assert!(parse_hex_key(bad).unwrap_err().contains("hex digits"), "{bad}");
        }
    }

    #[test]
    fn results_name_security_times_framing() {
        let ws = Framing::WebSocket { path: "/mqtt".into() };
        let psk = Security::Psk { identity: "a".into(), key: vec![1] };
        let tls = Security::Tls { cafile: None, insecure: true };
        let names: Vec<_> = [&Security::Plain, &tls, &psk]
            .into_iter()
            .flat_map(|s| [transport_name(s, &Framing::Raw), transport_name(s, &ws)])
            .collect();
        assert_eq!(names, ["tcp", "ws", "tls", "wss", "tls-psk", "ws-psk"]);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let s = Security::Psk { identity: "btsiot1".into(), key: parse_hex_key("0123456789abcdef").unwrap() };
        let text = format!("{s:?}");
        assert!(text.contains("btsiot1") && text.contains("<8 bytes>"), "{text}");
        assert!(!text.contains("01234567") && !text.contains("[1, 35"), "{text}");
    }
}
