//! The way to the remote broker: TCP from `bridge_bind_address`, then certificate TLS (rustls:
//! `bridge_cafile`/`bridge_capath`, a client certificate, `bridge_insecure`, `bridge_tls_version`,
//! `bridge_alpn`) or TLS-PSK (`bridge_identity`/`bridge_psk` through the same `PskClient` as the
//! app and the bench, which completes only when the server proved it holds the key).

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mqtt_lab_psk_hint::{PskClient, PskVersions};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};

use crate::config::bridge::BridgeConfig;

/// A byte stream to the remote broker, whatever carries it.
pub trait RemoteIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> RemoteIo for T {}

/// How long a TCP connect plus TLS handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Built once per bridge from its config; opens a connection per attempt.
pub struct Connector {
    security: Security,
    bind: Option<String>,
}

enum Security {
    Plain,
    Tls(tokio_rustls::TlsConnector),
    Psk(PskClient),
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.security {
            Security::Plain => "plain",
            Security::Tls(_) => "tls",
            Security::Psk(_) => "psk",
        };
        f.debug_struct("Connector").field("security", &kind).field("bind", &self.bind).finish()
    }
}

impl Connector {
    /// Reads the bridge's certificates and key. A file that cannot be read is an error here, at
    /// startup, not at every attempt.
    pub fn new(b: &BridgeConfig) -> Result<Self, String> {
        let security = if let (Some(identity), Some(hex)) = (&b.tls.identity, &b.tls.psk) {
            // The decoder's message may quote the text; a secret never reaches the log.
            let key = crate::auth::decode_hex_key(hex.expose())
                .map_err(|_| "bridge_psk must be an even number of hex digits (0-9, a-f)".to_owned())?;
            let versions = match b.tls.version.as_deref() {
                Some("tlsv1.3") => PskVersions::Tls13,
                _ => PskVersions::Any,
            };
            Security::Psk(PskClient::new(identity, &key, versions).map_err(|e| format!("bridge_psk: {e}"))?)
        } else if b.tls.uses_certificates() {
            Security::Tls(tokio_rustls::TlsConnector::from(Arc::new(tls_config(b)?)))
        } else {
            Security::Plain
        };
        Ok(Self { security, bind: b.bind_address.clone() })
    }

    /// Connects to one address and runs the TLS handshake, if any.
    pub async fn connect(&self, host: &str, port: u16) -> Result<Box<dyn RemoteIo>, String> {
        tokio::time::timeout(CONNECT_TIMEOUT, self.open(host, port))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {CONNECT_TIMEOUT:?}")))
    }

    async fn open(&self, host: &str, port: u16) -> Result<Box<dyn RemoteIo>, String> {
        let tcp = self.tcp(host, port).await?;
        let _ = tcp.set_nodelay(true);
        match &self.security {
            Security::Plain => Ok(Box::new(tcp)),
            Security::Tls(connector) => {
                let name = ServerName::try_from(host.to_owned()).map_err(|e| format!("{host}: {e}"))?;
                let stream = connector.connect(name, tcp).await.map_err(|e| format!("TLS handshake: {e}"))?;
                Ok(Box::new(stream))
            }
            Security::Psk(client) => {
                let stream = client.connect(tcp, host).await.map_err(|e| format!("TLS-PSK handshake: {e}"))?;
                Ok(Box::new(stream))
            }
        }
    }

    async fn tcp(&self, host: &str, port: u16) -> Result<TcpStream, String> {
        let addrs: Vec<SocketAddr> =
            tokio::net::lookup_host((host, port)).await.map_err(|e| format!("{host}: {e}"))?.collect();
        let mut last = format!("{host}: no address");
        let single = addrs.len() == 1;
        for addr in addrs {
            let socket = if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() };
            let socket = socket.map_err(|e| e.to_string())?;
            if let Some(bind) = &self.bind {
                let local: std::net::IpAddr =
                    bind.parse().map_err(|_| format!("bridge_bind_address {bind:?} is not an IP address"))?;
                socket.bind(SocketAddr::new(local, 0)).map_err(|e| format!("bridge_bind_address {bind}: {e}"))?;
            }
            match socket.connect(addr).await {
                Ok(stream) => return Ok(stream),
                // One address: the caller names it already.
                Err(e) if single => last = e.to_string(),
                Err(e) => last = format!("{addr}: {e}"),
            }
        }
        Err(last)
    }
}

fn tls_config(b: &BridgeConfig) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match b.tls.version.as_deref() {
        None | Some("tlsv1.2") => &[&rustls::version::TLS12, &rustls::version::TLS13],
        Some("tlsv1.3") => &[&rustls::version::TLS13],
        Some(other) => return Err(format!("bridge_tls_version {other:?}: use tlsv1.2 or tlsv1.3")),
    };
    let mut roots = RootCertStore::empty();
    if let Some(cafile) = &b.tls.cafile {
        add_certificates(&mut roots, cafile)?;
    }
    if let Some(dir) = &b.tls.capath {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("bridge_capath {}: {e}", dir.display()))?;
        for entry in entries.filter_map(Result::ok) {
            // Like OpenSSL's hashed directories: files that are not certificates are skipped.
            let _ = add_certificates(&mut roots, &entry.path());
        }
    }
    if roots.is_empty() {
        return Err("bridge_cafile / bridge_capath hold no CA certificate".into());
    }
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("bridge_cafile: {e}"))?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| format!("bridge_tls_version: {e}"))?;
    let builder = if b.tls.insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyName(verifier)))
    } else {
        builder.with_webpki_verifier(verifier)
    };
    let mut config = match (&b.tls.certfile, &b.tls.keyfile) {
        (Some(cert), Some(key)) => {
            let chain = certificates(cert)?;
            let key =
                PrivateKeyDer::from_pem_file(key).map_err(|e| format!("bridge_keyfile {}: {e}", key.display()))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| format!("bridge_certfile and bridge_keyfile: {e}"))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err("bridge_certfile and bridge_keyfile go together".into()),
    };
    if let Some(alpn) = &b.tls.alpn {
        config.alpn_protocols = vec![alpn.as_bytes().to_vec()];
    }
    Ok(config)
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn add_certificates(roots: &mut RootCertStore, path: &Path) -> Result<(), String> {
    for cert in certificates(path)? {
        roots.add(cert).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// `bridge_insecure true`: the chain is still checked against the CA, only the host name is not
/// (Mosquitto's meaning; for test set-ups whose certificates name another host).
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
