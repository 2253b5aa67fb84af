//! Certificate TLS with rustls: `certfile`/`keyfile`, `cafile` for client certificates,
//! `require_certificate`, `tls_version`.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::{ListenerConfig, TlsVersion};

fn certificates(what: &str, path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{what} {}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

pub(super) fn acceptor(l: &ListenerConfig) -> Result<TlsAcceptor, String> {
    let (Some(certfile), Some(keyfile)) = (&l.certfile, &l.keyfile) else {
        return Err("a TLS listener needs both certfile and keyfile".into());
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match l.tls_version {
        Some(TlsVersion::Tls13) => &[&rustls::version::TLS13],
        _ => &[&rustls::version::TLS12, &rustls::version::TLS13],
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("tls_version: {e}"))?;
    let builder = match &l.cafile {
        Some(cafile) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates("cafile", cafile)? {
                roots.add(cert).map_err(|e| format!("cafile {}: {e}", cafile.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if l.require_certificate { verifier } else { verifier.allow_unauthenticated() };
            builder.with_client_cert_verifier(verifier.build().map_err(|e| format!("cafile: {e}"))?)
        }
        None if l.require_certificate => {
            return Err("require_certificate true needs a cafile to check certificates against".into());
        }
        None => builder.with_no_client_auth(),
    };
    let key = PrivateKeyDer::from_pem_file(keyfile).map_err(|e| format!("keyfile {}: {e}", keyfile.display()))?;
    let config = builder
        .with_single_cert(certificates("certfile", certfile)?, key)
        .map_err(|e| format!("certfile and keyfile do not fit together: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts a TLS client; returns the stream and the common name of its certificate, if any.
pub(super) async fn accept(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
) -> Result<(TlsStream<TcpStream>, Option<String>), String> {
    let stream = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
    let name = stream.get_ref().1.peer_certificates().and_then(|certs| certs.first()).and_then(|der| common_name(der));
    Ok((stream, name))
}

fn common_name(der: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let cn = cert.subject().iter_common_name().next()?.as_str().ok()?.to_owned();
    Some(cn)
}
