//! Certificate TLS to the broker with rustls: the system's trust store (CA-signed brokers), or a
//! CA file (a classroom's self-signed CA), and optionally a client certificate.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::transport::{Session, Target};
use super::{Tls, TlsVersion};

fn pem_certificates(what: &str, path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("cannot read the {what} {path}: choose it again in the profile ({e})"))?;
    if certs.is_empty() {
        return Err(format!("the {what} {path} holds no PEM certificate"));
    }
    Ok(certs)
}

fn trusted_roots(tls: &Tls) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    if let Some(path) = &tls.ca_file {
        for cert in pem_certificates("CA file", path)? {
            roots
                .add(cert)
                .map_err(|e| format!("the CA file {path} holds a certificate that cannot serve as a CA ({e})"))?;
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
    Ok(roots)
}

fn config(tls: &Tls, version: TlsVersion) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match version {
        TlsVersion::Any => rustls::DEFAULT_VERSIONS,
        TlsVersion::V1_2 => &[&rustls::version::TLS12],
        TlsVersion::V1_3 => &[&rustls::version::TLS13],
    };
    let versions = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("the chosen TLS version cannot be used ({e})"))?;
    let builder = if tls.insecure {
        versions.dangerous().with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else {
        versions.with_root_certificates(trusted_roots(tls)?)
    };
    match &tls.client_cert {
        Some((cert, key)) => {
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("cannot read the key file {key}: choose a PEM private key ({e})"))?;
            builder.with_client_auth_cert(pem_certificates("certificate file", cert)?, key).map_err(|e| {
                format!("the client certificate and key do not fit together: choose the key made with it ({e})")
            })
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The "do not verify" switch: accepts any certificate for any name. The handshake signatures
/// are still checked, so the session is encrypted, but to whoever answered.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Runs the TLS handshake over `tcp`, checking the broker's certificate against the target's
/// host and logging the secrets to its key log if it has one; returns the stream and its
/// version and cipher suite.
pub(super) async fn connect(
    tcp: TcpStream,
    target: &Target,
    tls: &Tls,
) -> Result<(TlsStream<TcpStream>, Session), String> {
    let host = target.host.as_str();
    let mut config = config(tls, target.tls_version)?;
    if let Some(log) = super::keylog::open(target.key_log.as_deref())? {
        config.key_log = Arc::new(super::keylog::RustlsKeyLog(log));
    }
    let connector = TlsConnector::from(Arc::new(config));
    let name =
        ServerName::try_from(host.to_owned()).map_err(|_| format!("{host:?} is not a valid host name for TLS"))?;
    let stream = connector.connect(name, tcp).await.map_err(|e| {
        let text = e.to_string();
        if text.contains("UnknownIssuer") {
            format!(
                "the broker's certificate is not signed by a trusted CA: choose the classroom's CA file (Self-signed CA) ({text})"
            )
        } else if text.contains("NotValidForName") {
            format!(
                "the broker's certificate is not for {host:?}: connect with the name the certificate was made for ({text})"
            )
        } else {
            format!(
                "the TLS handshake failed: check that the port is the broker's TLS listener and that the profile's \
                 TLS version and files fit it ({text})"
            )
        }
    })?;
    let (_, session) = stream.get_ref();
    // OpenSSL's spelling ("TLSv1.3"), as the PSK sessions and Mosquitto's logs show it.
    let version = session.protocol_version().map_or_else(|| "?".to_owned(), |v| format!("{v:?}").replace('_', "."));
    let cipher = session.negotiated_cipher_suite().map_or_else(|| "?".to_owned(), |s| format!("{:?}", s.suite()));
    let key_log = target.key_log.clone();
    Ok((stream, Session { kind: "TLS", version, cipher, unverified: tls.insecure, key_log }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_error_says_what_to_do_before_the_library_text() {
        let tls = Tls { ca_file: Some("/nonexistent/ca.crt".into()), client_cert: None, insecure: false };
        let Err(e) = config(&tls, TlsVersion::Any) else { panic!("a missing CA file must fail") };
        assert!(e.starts_with("cannot read the CA file /nonexistent/ca.crt: choose it again in the profile ("), "{e}");
        assert!(e.ends_with(')'), "the library's text comes last: {e}");
    }
}
