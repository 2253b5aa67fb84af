//! Certificate TLS with rustls: `certfile`/`keyfile`, `cafile` and `capath` for client
//! certificates, `crlfile`, `require_certificate`, `tls_version`, `ciphers_tls1.3`.
//! `dhparamfile` is read and checked (rustls has no DHE suites: key exchange is ECDHE).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
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
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(names) = &l.ciphers_tls13 {
        provider.cipher_suites = tls13_suites(provider.cipher_suites, names)?;
    }
    let provider = Arc::new(provider);
    let versions: &[&rustls::SupportedProtocolVersion] = match l.tls_version {
        Some(TlsVersion::Tls13) => &[&rustls::version::TLS13],
        _ => &[&rustls::version::TLS12, &rustls::version::TLS13],
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("tls_version / ciphers_tls1.3: {e}"))?;
    let builder = match client_roots(l)? {
        Some(roots) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if l.require_certificate { verifier } else { verifier.allow_unauthenticated() };
            let verifier = match &l.crlfile {
                // As OpenSSL's X509_V_FLAG_CRL_CHECK, which Mosquitto sets: the client's own
                // certificate is checked, a CRL of its issuer must be there, and not expired.
                Some(crlfile) => verifier
                    .with_crls(revocation_lists(crlfile)?)
                    .only_check_end_entity_revocation()
                    .enforce_revocation_expiration(),
                None => verifier,
            };
            builder.with_client_cert_verifier(verifier.build().map_err(|e| format!("cafile/capath/crlfile: {e}"))?)
        }
        None if l.require_certificate => {
            return Err("require_certificate true needs a cafile or capath to check certificates against".into());
        }
        None if l.crlfile.is_some() => {
            return Err("crlfile needs a cafile or capath: revocation concerns client certificates".into());
        }
        None => builder.with_no_client_auth(),
    };
    if let Some(dhparamfile) = &l.dhparamfile {
        check_dhparams(dhparamfile)?;
    }
    let key = PrivateKeyDer::from_pem_file(keyfile).map_err(|e| format!("keyfile {}: {e}", keyfile.display()))?;
    let config = builder
        .with_single_cert(certificates("certfile", certfile)?, key)
        .map_err(|e| format!("certfile and keyfile do not fit together: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// TLS 1.3 suites by their IANA names, as OpenSSL's `SSL_CTX_set_ciphersuites` reads them
/// (`ciphers_tls1.3`): rustls's ring provider has these three.
const TLS13_NAMES: &[(&str, rustls::CipherSuite)] = &[
    ("TLS_AES_128_GCM_SHA256", rustls::CipherSuite::TLS13_AES_128_GCM_SHA256),
    ("TLS_AES_256_GCM_SHA384", rustls::CipherSuite::TLS13_AES_256_GCM_SHA384),
    ("TLS_CHACHA20_POLY1305_SHA256", rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256),
];

/// `suites` with only the TLS 1.3 ones named in `names` (colon-separated, in the provider's
/// order of preference); the TLS 1.2 suites stay, as `ciphers_tls1.3` does not concern them.
/// As OpenSSL's `SSL_CTX_set_ciphersuites` (Mosquitto), names it does not know are passed over
/// while one known name remains; with none, the error names them and the suites there are.
fn tls13_suites(
    suites: Vec<rustls::SupportedCipherSuite>,
    names: &str,
) -> Result<Vec<rustls::SupportedCipherSuite>, String> {
    let (known, unknown): (Vec<&str>, Vec<&str>) = names
        .split(':')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .partition(|n| TLS13_NAMES.iter().any(|(known, _)| known == n));
    if known.is_empty() {
        let offered: Vec<&str> = TLS13_NAMES.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "ciphers_tls1.3 {names:?} names no TLS 1.3 suite this broker offers ({} unknown here); use {}",
            unknown.join(", "),
            offered.join(", ")
        ));
    }
    let wanted: Vec<rustls::CipherSuite> =
        TLS13_NAMES.iter().filter(|(n, _)| known.contains(n)).map(|(_, suite)| *suite).collect();
    Ok(suites.into_iter().filter(|s| s.version() != &rustls::version::TLS13 || wanted.contains(&s.suite())).collect())
}

/// The CA certificates client certificates must chain to: `cafile`'s and every PEM certificate
/// in `capath` (Mosquitto's OpenSSL looks them up there by hash name; here each file is read).
fn client_roots(l: &ListenerConfig) -> Result<Option<RootCertStore>, String> {
    if l.cafile.is_none() && l.capath.is_none() {
        return Ok(None);
    }
    let mut roots = RootCertStore::empty();
    if let Some(cafile) = &l.cafile {
        for cert in certificates("cafile", cafile)? {
            roots.add(cert).map_err(|e| format!("cafile {}: {e}", cafile.display()))?;
        }
    }
    if let Some(capath) = &l.capath {
        let entries = std::fs::read_dir(capath).map_err(|e| format!("capath {}: {e}", capath.display()))?;
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect();
        files.sort();
        for file in files {
            // Files that hold no certificate (a README, a CRL) are skipped, as OpenSSL skips them.
            let Ok(certs) = CertificateDer::pem_file_iter(&file).and_then(Iterator::collect::<Result<Vec<_>, _>>)
            else {
                continue;
            };
            for cert in certs {
                roots.add(cert).map_err(|e| format!("capath {}: {e}", file.display()))?;
            }
        }
        if roots.is_empty() {
            return Err(format!("capath {}: no PEM CA certificate in it", capath.display()));
        }
    }
    Ok(Some(roots))
}

fn revocation_lists(path: &std::path::Path) -> Result<Vec<CertificateRevocationListDer<'static>>, String> {
    let crls = CertificateRevocationListDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("crlfile {}: {e}", path.display()))?;
    if crls.is_empty() {
        return Err(format!("crlfile {}: no PEM X509 CRL in it", path.display()));
    }
    Ok(crls)
}

/// `dhparamfile` must hold PEM DH parameters, as Mosquitto requires; rustls has no use for them.
pub(super) fn check_dhparams(path: &std::path::Path) -> Result<openssl::dh::Dh<openssl::pkey::Params>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("dhparamfile {}: {e}", path.display()))?;
    openssl::dh::Dh::params_from_pem(&pem)
        .map_err(|e| format!("dhparamfile {}: not PEM DH parameters ({e})", path.display()))
}

/// Which name of its certificate a client is known by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CertName {
    /// The common name (`use_identity_as_username`; and the log's name otherwise).
    CommonName,
    /// The whole subject in RFC 2253 form (`use_subject_as_username`).
    Subject,
}

/// Accepts a TLS client; returns the stream and the name of its certificate, if it sent one.
pub(super) async fn accept(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    which: CertName,
) -> Result<(TlsStream<TcpStream>, Option<String>), String> {
    let stream = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
    let cert = stream.get_ref().1.peer_certificates().and_then(|certs| certs.first());
    let name = cert.and_then(|der| match which {
        CertName::CommonName => common_name(der),
        CertName::Subject => super::subject::subject_rfc2253(der.as_ref()),
    });
    Ok((stream, name))
}

fn common_name(der: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let cn = cert.subject().iter_common_name().next()?.as_str().ok()?.to_owned();
    Some(cn)
}
