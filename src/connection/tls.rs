//! Certificate TLS to the broker with rustls: the system's trust store (CA-signed brokers), or a
//! CA file (a classroom's self-signed CA), and optionally a client certificate.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::Tls;

fn pem_certificates(what: &str, path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("cannot read the {what} {path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("the {what} {path} holds no PEM certificate"));
    }
    Ok(certs)
}

fn config(tls: &Tls) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    if let Some(path) = &tls.ca_file {
        for cert in pem_certificates("CA file", path)? {
            roots.add(cert).map_err(|e| format!("the CA file {path}: {e}"))?;
        }
    } else {
        for cert in rustls_native_certs::load_native_certs().certs {
            // A system certificate rustls cannot use is skipped, as browsers do.
            let _ = roots.add(cert);
        }
        if roots.is_empty() {
            return Err("no trusted root certificates were found on this system".into());
        }
    }
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    match &tls.client_cert {
        Some((cert, key)) => {
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("cannot read the key file {key}: {e}"))?;
            builder
                .with_client_auth_cert(pem_certificates("certificate file", cert)?, key)
                .map_err(|e| format!("the client certificate and key do not fit together: {e}"))
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// Runs the TLS handshake over `tcp`, checking the broker's certificate against `host`;
/// returns the stream and "version, cipher suite".
pub(super) async fn connect(tcp: TcpStream, host: &str, tls: &Tls) -> Result<(TlsStream<TcpStream>, String), String> {
    let connector = TlsConnector::from(Arc::new(config(tls)?));
    let name =
        ServerName::try_from(host.to_owned()).map_err(|_| format!("{host:?} is not a valid host name for TLS"))?;
    let stream = connector.connect(name, tcp).await.map_err(|e| {
        let text = e.to_string();
        if text.contains("UnknownIssuer") {
            format!("the broker's certificate is not signed by a trusted CA ({text}): choose the classroom's CA file (Self-signed CA)")
        } else if text.contains("NotValidForName") {
            format!("the broker's certificate is not for {host:?} ({text}): connect with the name the certificate was made for")
        } else {
            format!("the TLS handshake failed: {text}")
        }
    })?;
    let (_, session) = stream.get_ref();
    let version = session.protocol_version().map_or_else(|| "?".to_owned(), |v| format!("{v:?}"));
    let suite = session.negotiated_cipher_suite().map_or_else(|| "?".to_owned(), |s| format!("{:?}", s.suite()));
    Ok((stream, format!("{version}, {suite}")))
}
