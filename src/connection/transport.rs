//! Reaching a broker step by step: resolve its name, open TCP, secure the stream (TLS or TLS-PSK),
//! and for MQTT over WebSocket, upgrade it (`websocket`: ws:// and wss://). Every step has a deadline and reports its failure in words a student can act on. The relay and
//! the connection self-test both go through here, so they fail the same way.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::{ConnectSettings, Security, TlsVersion};

/// A byte stream to the broker, plain or secured.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Where to go and how long each step may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// The deadline of each step: name lookup, TCP connect, handshake.
    pub connect_timeout: Duration,
    pub security: Security,
    pub tls_version: TlsVersion,
    /// MQTT over WebSocket: the upgrade's request path; `None`: MQTT straight over the stream.
    pub websocket: Option<String>,
    /// Where TLS secrets are appended for Wireshark (`SSLKEYLOGFILE`); `None`: nowhere. A field,
    /// not the variable read at the handshake, so tests can choose a file per connection.
    pub key_log: Option<PathBuf>,
}

impl Target {
    pub fn of(settings: &ConnectSettings) -> Self {
        Self {
            host: settings.host.clone(),
            port: settings.port,
            connect_timeout: settings.connect_timeout,
            security: settings.security.clone(),
            tls_version: settings.tls_version,
            websocket: settings.websocket.clone(),
            key_log: super::keylog::path_from_env(),
        }
    }

    fn at(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The secured session: "TLSv1.3, TLS_AES_256_GCM_SHA384" and how the peer was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// "TLS" or "TLS-PSK".
    pub kind: &'static str,
    pub version: String,
    pub cipher: String,
    /// Certificate TLS with verification switched off: anyone could be on the other end.
    pub unverified: bool,
    /// The file this session's secrets were appended to (`SSLKEYLOGFILE`), shown so that key
    /// logging is never on unnoticed.
    pub key_log: Option<PathBuf>,
}

impl std::fmt::Display for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}, {}", self.kind, self.version, self.cipher)?;
        if self.unverified {
            f.write_str(" (certificate NOT verified)")?;
        }
        if let Some(path) = &self.key_log {
            write!(f, "; {}", key_log_notice(path))?;
        }
        Ok(())
    }
}

/// What the UI and `mqtt-lab check` say while TLS secrets are logged.
#[must_use]
pub fn key_log_notice(path: &std::path::Path) -> String {
    format!("TLS keys logged to {} (SSLKEYLOGFILE)", path.display())
}

/// Looks the host name up (DNS, hosts file, or an IP address as is).
pub async fn resolve(target: &Target) -> Result<Vec<SocketAddr>, String> {
    let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
    match tokio::time::timeout(target.connect_timeout, lookup).await {
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                Err(format!("the host name {:?} has no address (DNS)", target.host))
            } else {
                Ok(addrs)
            }
        }
        Ok(Err(e)) => Err(format!(
            "the host name {:?} could not be resolved (DNS): check its spelling and the network ({e})",
            target.host
        )),
        Err(_) => Err(format!(
            "looking up {:?} took longer than {} s: the name server does not answer",
            target.host,
            target.connect_timeout.as_secs()
        )),
    }
}

/// Opens TCP to the first address that answers.
pub async fn dial(target: &Target, addrs: &[SocketAddr]) -> Result<TcpStream, String> {
    let mut last = None;
    for addr in addrs {
        match tokio::time::timeout(target.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) => last = Some(e),
            Err(_) => last = Some(std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timeout")),
        }
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("no address to connect to"));
    Err(describe_dial_error(target, &e))
}

fn describe_dial_error(target: &Target, e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let at = target.at();
    match e.kind() {
        ErrorKind::ConnectionRefused => format!("{at} refused the connection: no broker listens on that port"),
        ErrorKind::TimedOut => format!(
            "{at} did not answer within {} s: the host is unreachable, off, or a firewall drops the packets",
            target.connect_timeout.as_secs()
        ),
        _ => format!("cannot reach {at}: check the host, the port and the network ({e})"),
    }
}

/// Runs the TLS or TLS-PSK handshake the target asks for; a plain target passes through.
pub async fn secure(target: &Target, tcp: TcpStream) -> Result<(Box<dyn Stream>, Option<Session>), String> {
    let handshake = async {
        match &target.security {
            Security::Plain => Ok((Box::new(tcp) as Box<dyn Stream>, None)),
            Security::Psk { identity, key } => super::psk::connect(tcp, target, identity, key)
                .await
                .map(|(s, session)| (Box::new(s) as Box<dyn Stream>, Some(session))),
            Security::Tls(tls) => super::tls::connect(tcp, target, tls)
                .await
                .map(|(s, session)| (Box::new(s) as Box<dyn Stream>, Some(session))),
        }
    };
    match tokio::time::timeout(target.connect_timeout, handshake).await {
        Ok(result) => result.map_err(|reason| format!("{}: {reason}", target.at())),
        Err(_) => Err(format!(
            "{}: the TLS handshake got no answer within {} s: the port may not be a TLS listener (1883 is usually plain MQTT, 8883 TLS)",
            target.at(),
            target.connect_timeout.as_secs()
        )),
    }
}

/// For a WebSocket target, the HTTP upgrade on the secured stream (with its own deadline): the
/// framed stream and what the broker answered; any other target passes through.
pub async fn upgrade(
    target: &Target,
    stream: Box<dyn Stream>,
) -> Result<(Box<dyn Stream>, Option<super::websocket::Upgraded>), String> {
    match &target.websocket {
        None => Ok((stream, None)),
        Some(path) => super::websocket::upgrade(stream, target, path).await.map(|(s, u)| (s, Some(u))),
    }
}

/// Every step: the stream to speak MQTT on (MQTT bytes, framed or not) and the secured session.
pub async fn connect(target: &Target) -> Result<(Box<dyn Stream>, Option<Session>), String> {
    let addrs = resolve(target).await?;
    let tcp = dial(target, &addrs).await?;
    let (stream, session) = secure(target, tcp).await?;
    let (stream, _) = upgrade(target, stream).await?;
    Ok((stream, session))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            host: "pi.local".into(),
            port: 1883,
            connect_timeout: Duration::from_secs(3),
            security: Security::Plain,
            tls_version: TlsVersion::Any,
            websocket: None,
            key_log: None,
        }
    }

    #[test]
    fn a_session_says_where_its_keys_go_only_when_they_are_logged() {
        let mut session = Session {
            kind: "TLS-PSK",
            version: "TLSv1.3".into(),
            cipher: "TLS_CHACHA20_POLY1305_SHA256".into(),
            unverified: false,
            key_log: None,
        };
        assert_eq!(session.to_string(), "TLS-PSK TLSv1.3, TLS_CHACHA20_POLY1305_SHA256");
        session.key_log = Some("/tmp/keys.log".into());
        assert_eq!(
            session.to_string(),
            "TLS-PSK TLSv1.3, TLS_CHACHA20_POLY1305_SHA256; TLS keys logged to /tmp/keys.log (SSLKEYLOGFILE)"
        );
    }

    #[test]
    fn dial_errors_are_words_first_and_the_system_text_last() {
        use std::io::{Error, ErrorKind};
        let refused = describe_dial_error(&target(), &Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(refused, "pi.local:1883 refused the connection: no broker listens on that port");
        let other = describe_dial_error(&target(), &Error::other("network is unreachable"));
        assert_eq!(
            other,
            "cannot reach pi.local:1883: check the host, the port and the network (network is unreachable)"
        );
    }
}
