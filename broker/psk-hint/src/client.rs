//! The client side of TLS-PSK, for every client of the workspace (the app's relay and self-test,
//! the simulators, `mqtt-lab-bench`, the broker's bridge): a handshake completes only when the
//! server used the pre-shared key.
//!
//! TLS 1.3 lets a server ignore the offered PSK and authenticate with a certificate instead, and
//! a TLS 1.2 client that offers RSA-PSK suites accepts a certificate too. A PSK client has no CA
//! to check such a certificate against, so any server would do: it would then be sent the MQTT
//! CONNECT, user name and password included. Three locks keep that from happening:
//!
//! 1. every certificate a server presents fails the handshake (a verify callback that always
//!    says no, and notes that a certificate came, to word the error);
//! 2. in TLS 1.2 only suites authenticated by the PSK are offered ([`CLIENT_CIPHERS`]), and in
//!    TLS 1.3 only suites whose hash the PSK can be used with ([`CLIENT_TLS13_SUITES`]), so that
//!    a server that has a certificate too is not led to decline the PSK;
//! 3. after the handshake, before the stream is handed out: no peer certificate, and in TLS 1.3
//!    the PSK was accepted (OpenSSL reports an accepted PSK as a resumed session), in TLS 1.2 the
//!    cipher says `Au=PSK`. Anything else fails closed.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use openssl::error::ErrorStack;
use openssl::ssl::{SslConnector, SslMethod, SslRef, SslVerifyMode, SslVersion};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_openssl::SslStream;

/// The TLS 1.2 suites a client offers: [`crate::PSK_CIPHERS`] without RSA-PSK, whose server
/// authenticates with a certificate as well (`openssl ciphers -v` lists `Au=PSK` for each).
pub const CLIENT_CIPHERS: &str = "ECDHEPSK:DHEPSK:PSK:!NULL:!kRSAPSK";

/// The TLS 1.3 suites a client offers. OpenSSL binds a PSK given by a callback to SHA-256, and a
/// server that picks a SHA-384 suite must decline it: one with a certificate then authenticates
/// with that (`openssl s_server -cert ... -psk ...` does), and the handshake is refused. `ChaCha20`
/// first: what our broker and Mosquitto pick anyway.
pub const CLIENT_TLS13_SUITES: &str = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

/// Which TLS versions a PSK client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PskVersions {
    /// TLS 1.2 or 1.3, as the server prefers (1.3 when both can).
    #[default]
    Any,
    /// TLS 1.2 only, as an ESP32 with mbedTLS connects.
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

/// Why a PSK connection was not made. The words say what to do; OpenSSL's own text, when there
/// is one, follows in parentheses. No variant holds the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PskError {
    /// OpenSSL refused the settings (an identity too long, a broken OpenSSL installation).
    Setup(String),
    /// The server refused our key: a TLS 1.3 binder or a TLS 1.2 record that does not verify.
    WrongKey(String),
    /// The server authenticated some other way (a certificate), or not at all.
    NotPsk(Option<String>),
    /// Any other handshake failure (the connection closed, a protocol error).
    Handshake(String),
}

impl fmt::Display for PskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setup(e) => {
                write!(f, "TLS-PSK could not be set up: check the PSK identity and key in the profile ({e})")
            }
            Self::WrongKey(e) => write!(
                f,
                "the broker refused the pre-shared key: check the PSK identity and key against the broker's \
                 psk_file ({e})"
            ),
            Self::NotPsk(detail) => {
                f.write_str(
                    "the server did not use the pre-shared key: it is not the broker you configured, \
                     or its psk_file has no entry for this identity",
                )?;
                match detail {
                    Some(e) => write!(f, " ({e})"),
                    None => Ok(()),
                }
            }
            Self::Handshake(e) => write!(
                f,
                "the TLS-PSK handshake did not complete: the connection closed or the server does not speak \
                 TLS-PSK on this port ({e})"
            ),
        }
    }
}

impl std::error::Error for PskError {}

impl From<ErrorStack> for PskError {
    fn from(e: ErrorStack) -> Self {
        Self::Setup(e.to_string())
    }
}

/// A TLS-PSK client: built once from an identity, a key and the versions allowed, then used for
/// every connection. Cloning shares the OpenSSL context.
#[derive(Clone)]
pub struct PskClient {
    connector: SslConnector,
    identity: String,
    versions: PskVersions,
}

/// Never shows the key.
impl fmt::Debug for PskClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PskClient")
            .field("identity", &self.identity)
            .field("key", &format_args!("<redacted>"))
            .field("versions", &self.versions)
            .finish_non_exhaustive()
    }
}

impl PskClient {
    /// `key` is the raw key (not hex).
    ///
    /// # Errors
    /// [`PskError::Setup`] when OpenSSL refuses the settings.
    pub fn new(identity: &str, key: &[u8], versions: PskVersions) -> Result<Self, PskError> {
        Self::with_key_log(identity, key, versions, None)
    }

    /// As [`Self::new`]; with `key_log`, every session's secrets are appended to it (`SSLKEYLOGFILE`).
    ///
    /// # Errors
    /// [`PskError::Setup`] when OpenSSL refuses the settings.
    pub fn with_key_log(
        identity: &str,
        key: &[u8],
        versions: PskVersions,
        key_log: Option<Arc<crate::keylog::KeyLog>>,
    ) -> Result<Self, PskError> {
        let mut builder = SslConnector::builder(SslMethod::tls_client())?;
        let (min, max) = match versions {
            PskVersions::Any => (SslVersion::TLS1_2, None),
            PskVersions::Tls12 => (SslVersion::TLS1_2, Some(SslVersion::TLS1_2)),
            PskVersions::Tls13 => (SslVersion::TLS1_3, None),
        };
        builder.set_min_proto_version(Some(min))?;
        builder.set_max_proto_version(max)?;
        builder.set_cipher_list(CLIENT_CIPHERS)?;
        builder.set_ciphersuites(CLIENT_TLS13_SUITES)?;
        // No certificate is ever good enough: `connect` sets the same per connection, with a
        // note that one came.
        builder.set_verify_callback(SslVerifyMode::PEER, |_, _| false);
        crate::set_psk_client(&mut builder, identity, key);
        if let Some(log) = key_log {
            crate::keylog::install(&mut builder, log);
        }
        Ok(Self { connector: builder.build(), identity: identity.to_owned(), versions })
    }

    /// The identity offered to servers.
    #[must_use]
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Runs the handshake over `stream`; `host` is sent as SNI when it is a name. The stream is
    /// returned only when the server proved it holds the key.
    ///
    /// # Errors
    /// [`PskError::NotPsk`] when the server authenticated otherwise (a certificate) or could not
    /// use the PSK, [`PskError::WrongKey`] when it refused the key, [`PskError::Handshake`] for
    /// any other failure; no application byte has been sent in any of these cases.
    pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: S,
        host: &str,
    ) -> Result<SslStream<S>, PskError> {
        let mut ssl = self.connector.configure()?.verify_hostname(false).into_ssl(host)?;
        let certificate = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&certificate);
        ssl.set_verify_callback(SslVerifyMode::PEER, move |_, _| {
            seen.store(true, Ordering::Relaxed);
            false
        });
        let mut stream = SslStream::new(ssl, stream)?;
        if let Err(e) = Pin::new(&mut stream).connect().await {
            return Err(classify(&e.to_string(), certificate.load(Ordering::Relaxed)));
        }
        check_psk_used(stream.ssl())?;
        Ok(stream)
    }
}

/// Words for a failed handshake: `certificate` when the server presented one. A handshake failure
/// alert is what a TLS 1.2 server without PSK suites sends (no shared cipher), and what a TLS 1.3
/// PSK server without a certificate sends for an identity it does not know; a wrong key is an
/// illegal parameter (the TLS 1.3 binder) or a bad record MAC (TLS 1.2), an unknown identity in
/// TLS 1.2 an unknown PSK identity alert (OpenSSL 3.0 servers: ours, Mosquitto, `s_server`).
fn classify(text: &str, certificate: bool) -> PskError {
    let text = text.to_owned();
    if certificate || text.contains("alert handshake failure") {
        PskError::NotPsk(Some(text))
    } else if ["alert", "decrypt", "bad record mac", "binder"].iter().any(|s| text.contains(s)) {
        PskError::WrongKey(text)
    } else {
        PskError::Handshake(text)
    }
}

/// After a completed handshake: did the PSK authenticate the server? Fails closed.
fn check_psk_used(ssl: &SslRef) -> Result<(), PskError> {
    if ssl.peer_certificate().is_some() {
        return Err(PskError::NotPsk(Some("the server presented a certificate".into())));
    }
    let used = match ssl.version2() {
        // An external PSK that the server accepted is a resumed session to OpenSSL.
        Some(SslVersion::TLS1_3) => ssl.session_reused(),
        Some(SslVersion::TLS1_2) => ssl.current_cipher().is_some_and(|c| c.description().contains(" Au=PSK ")),
        _ => false,
    };
    if used {
        Ok(())
    } else {
        let cipher = ssl.current_cipher().map_or("no cipher", |c| c.name());
        Err(PskError::NotPsk(Some(format!("{} with {cipher} and no pre-shared key", ssl.version_str()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 10] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23];

    #[test]
    fn errors_say_what_to_do_in_words_first() {
        let wrong = PskError::WrongKey("tlsv1 alert decrypt error".into()).to_string();
        assert_eq!(
            wrong,
            "the broker refused the pre-shared key: check the PSK identity and key against the broker's psk_file \
             (tlsv1 alert decrypt error)"
        );
        // Every variant: our words first, OpenSSL's text last, in parentheses.
        for e in [PskError::Setup("lib".into()), PskError::Handshake("lib".into())] {
            let text = e.to_string();
            assert!(text.ends_with(" (lib)") && !text.starts_with('('), "{text}");
        }
        let impostor = PskError::NotPsk(Some("certificate verify failed".into())).to_string();
        assert_eq!(
            impostor,
            "the server did not use the pre-shared key: it is not the broker you configured, or its psk_file \
             has no entry for this identity (certificate verify failed)"
        );
        assert!(!PskError::NotPsk(None).to_string().contains('('));
    }

    #[test]
    fn a_certificate_outweighs_every_other_reading_of_the_failure() {
        let text = "error:0A000086:SSL routines::certificate verify failed";
        assert!(matches!(classify(text, true), PskError::NotPsk(Some(t)) if t == text));
        assert!(matches!(classify("tlsv1 alert decrypt error", true), PskError::NotPsk(_)));
        assert!(matches!(classify("tlsv1 alert decrypt error", false), PskError::WrongKey(_)));
        assert!(matches!(classify("sslv3 alert illegal parameter", false), PskError::WrongKey(_)));
        assert!(matches!(classify("sslv3 alert bad record mac", false), PskError::WrongKey(_)));
        assert!(matches!(classify("tlsv1 alert unknown psk identity", false), PskError::WrongKey(_)));
        assert!(matches!(classify("sslv3 alert handshake failure", false), PskError::NotPsk(_)));
        assert!(matches!(classify("unexpected EOF", false), PskError::Handshake(_)));
    }

    #[test]
    fn the_key_never_shows() {
        for versions in [PskVersions::Any, PskVersions::Tls12, PskVersions::Tls13] {
            let client = PskClient::new("btsiot1", &KEY, versions).unwrap();
            let text = format!("{client:?}");
            assert!(text.contains("btsiot1") && text.contains("<redacted>"), "{text}");
            for needle in ["0123456789", "1, 35, 69", "[1, 35", "0x01"] {
                assert!(!text.contains(needle), "{text}");
            }
        }
        for e in [
            PskError::WrongKey("x".into()),
            PskError::NotPsk(None),
            PskError::Handshake("x".into()),
            PskError::Setup("x".into()),
        ] {
            for text in [e.to_string(), format!("{e:?}")] {
                assert!(!text.contains("0123456789") && !text.contains("[1, 35"), "{text}");
            }
        }
    }

    #[test]
    fn the_client_offers_only_suites_the_psk_authenticates() {
        // OpenSSL's own reading of the list (the openssl CLI: Debian's `openssl` package).
        let out = std::process::Command::new("openssl")
            .args(["ciphers", "-v", "-ciphersuites", CLIENT_TLS13_SUITES, CLIENT_CIPHERS])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let list = String::from_utf8(out.stdout).unwrap();
        let (tls13, tls12): (Vec<&str>, Vec<&str>) = list.lines().partition(|l| l.contains("TLSv1.3"));
        // TLS 1.3: SHA-256 suites only, the hash OpenSSL binds a callback's PSK to.
        assert_eq!(tls13.len(), 2, "{list}");
        assert!(tls13.iter().all(|l| l.split_whitespace().next().is_some_and(|n| n.ends_with("_SHA256"))), "{list}");
        assert!(tls12.len() > 20, "{list}");
        for line in &tls12 {
            assert!(line.contains(" Au=PSK "), "{line}");
        }
        // The suites Mosquitto and our broker pick, and the plain PSK ones of small devices.
        for name in ["DHE-PSK-AES256-GCM-SHA384", "ECDHE-PSK-CHACHA20-POLY1305", "PSK-AES128-GCM-SHA256"] {
            assert!(tls12.iter().any(|l| l.starts_with(&format!("{name} "))), "{name}: {list}");
        }
    }

    /// A self-signed certificate, made here: the impostor's.
    fn certificate() -> (openssl::x509::X509, openssl::pkey::PKey<openssl::pkey::Private>) {
        use openssl::{asn1::Asn1Time, bn::BigNum, ec, hash::MessageDigest, nid::Nid, pkey::PKey, x509};
        let key = PKey::from_ec_key(
            ec::EcKey::generate(&ec::EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
        )
        .unwrap();
        let mut name = x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "impostor").unwrap();
        let name = name.build();
        let mut cert = x509::X509Builder::new().unwrap();
        cert.set_version(2).unwrap();
        cert.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap()).unwrap();
        cert.set_subject_name(&name).unwrap();
        cert.set_issuer_name(&name).unwrap();
        cert.set_pubkey(&key).unwrap();
        cert.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        cert.set_not_after(&Asn1Time::days_from_now(1).unwrap()).unwrap();
        cert.sign(&key, MessageDigest::sha256()).unwrap();
        (cert.build(), key)
    }

    enum Server {
        /// A PSK server that knows our identity's key.
        Psk,
        /// A server with a certificate and no PSK at all.
        Certificate,
        /// TLS 1.2 anonymous Diffie-Hellman: neither a certificate nor a PSK.
        Anonymous,
    }

    fn server_context(server: &Server) -> openssl::ssl::SslContext {
        let mut b = openssl::ssl::SslContext::builder(SslMethod::tls_server()).unwrap();
        match server {
            Server::Psk => {
                b.set_cipher_list(crate::PSK_CIPHERS).unwrap();
                b.set_psk_server_callback(|_, identity, out| {
                    if identity != Some(b"btsiot1".as_slice()) {
                        return Ok(0);
                    }
                    out[..KEY.len()].copy_from_slice(&KEY);
                    Ok(KEY.len())
                });
            }
            Server::Certificate => {
                let (cert, key) = certificate();
                b.set_certificate(&cert).unwrap();
                b.set_private_key(&key).unwrap();
            }
            Server::Anonymous => {
                b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
                b.set_cipher_list("aNULL:!eNULL:@SECLEVEL=0").unwrap();
            }
        }
        b.build()
    }

    /// Runs a handshake between `client` and an in-memory `server`; returns the client's side.
    async fn handshake(
        server: &Server,
        client: openssl::ssl::Ssl,
    ) -> Result<SslStream<tokio::io::DuplexStream>, openssl::ssl::Error> {
        let (near, far) = tokio::io::duplex(64 * 1024);
        let ctx = server_context(server);
        let serve = async move {
            let mut s = SslStream::new(openssl::ssl::Ssl::new(&ctx).unwrap(), far).unwrap();
            let _ = Pin::new(&mut s).accept().await;
            s
        };
        let mut stream = SslStream::new(client, near).unwrap();
        let (done, _server) = tokio::join!(Pin::new(&mut stream).connect(), serve);
        done.map(|()| stream)
    }

    /// A client with every lock of `PskClient` off: no cipher limits, no verification.
    fn careless_client(ciphers: &str, max: Option<SslVersion>) -> openssl::ssl::Ssl {
        let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
        b.set_cipher_list(ciphers).unwrap();
        b.set_max_proto_version(max).unwrap();
        b.set_verify(SslVerifyMode::NONE);
        crate::set_psk_client(&mut b, "btsiot1", &KEY);
        b.build().configure().unwrap().verify_hostname(false).into_ssl("127.0.0.1").unwrap()
    }

    #[tokio::test]
    async fn the_final_check_passes_only_handshakes_the_psk_authenticated() {
        // Without the verification and cipher locks, a certificate (TLS 1.3 and 1.2) or nothing
        // at all (anonymous TLS 1.2) gets through the handshake: the final check still refuses.
        let careless = [
            (Server::Certificate, careless_client("DEFAULT", None)),
            (Server::Certificate, careless_client("DEFAULT", Some(SslVersion::TLS1_2))),
            (Server::Anonymous, careless_client("aNULL:!eNULL:@SECLEVEL=0", Some(SslVersion::TLS1_2))),
        ];
        for (server, client) in careless {
            let stream = handshake(&server, client).await.unwrap();
            let e = check_psk_used(stream.ssl()).unwrap_err();
            assert!(matches!(e, PskError::NotPsk(_)), "{e}");
        }
        // A PSK handshake passes it, in both versions.
        for max in [None, Some(SslVersion::TLS1_2)] {
            let stream = handshake(&Server::Psk, careless_client(CLIENT_CIPHERS, max)).await.unwrap();
            check_psk_used(stream.ssl()).unwrap();
        }
    }

    #[tokio::test]
    async fn the_client_refuses_a_certificate_in_words_and_connects_with_the_psk() {
        for versions in [PskVersions::Any, PskVersions::Tls12, PskVersions::Tls13] {
            let client = PskClient::new("btsiot1", &KEY, versions).unwrap();
            let (near, far) = tokio::io::duplex(64 * 1024);
            let ctx = server_context(&Server::Certificate);
            let serve = async move {
                let mut s = SslStream::new(openssl::ssl::Ssl::new(&ctx).unwrap(), far).unwrap();
                let _ = Pin::new(&mut s).accept().await;
            };
            let (result, ()) = tokio::join!(client.connect(near, "127.0.0.1"), serve);
            let e = result.unwrap_err();
            assert!(matches!(e, PskError::NotPsk(_)), "{versions:?}: {e}");

            let (near, far) = tokio::io::duplex(64 * 1024);
            let ctx = server_context(&Server::Psk);
            let serve = async move {
                let mut s = SslStream::new(openssl::ssl::Ssl::new(&ctx).unwrap(), far).unwrap();
                Pin::new(&mut s).accept().await.unwrap();
                s
            };
            let (result, _server) = tokio::join!(client.connect(near, "127.0.0.1"), serve);
            let stream = result.unwrap();
            let expected = if versions == PskVersions::Tls12 { "TLSv1.2" } else { "TLSv1.3" };
            assert_eq!(stream.ssl().version_str(), expected);
        }
    }
}
