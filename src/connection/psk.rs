//! TLS-PSK to the broker with OpenSSL, as the broker's PSK listener and Mosquitto's `psk_hint`
//! listeners expect: TLS 1.3 external PSK, or the TLS 1.2 PSK suites.

use std::pin::Pin;

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use super::TlsVersion;
use super::transport::Session;

/// Runs the TLS-PSK handshake over `tcp`; returns the stream and its version and cipher.
pub(super) async fn connect(
    tcp: TcpStream,
    host: &str,
    identity: &str,
    key: &[u8],
    version: TlsVersion,
) -> Result<(SslStream<TcpStream>, Session), String> {
    let setup = |e: openssl::error::ErrorStack| format!("TLS-PSK setup failed: {e}");
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(setup)?;
    let (min, max) = match version {
        TlsVersion::Any => (SslVersion::TLS1_2, None),
        TlsVersion::V1_2 => (SslVersion::TLS1_2, Some(SslVersion::TLS1_2)),
        TlsVersion::V1_3 => (SslVersion::TLS1_3, None),
    };
    builder.set_min_proto_version(Some(min)).map_err(setup)?;
    builder.set_max_proto_version(max).map_err(setup)?;
    builder.set_cipher_list(mqtt_lab_psk_hint::PSK_CIPHERS).map_err(setup)?;
    // PSK authenticates both sides; there is no certificate to verify.
    builder.set_verify(SslVerifyMode::NONE);
    mqtt_lab_psk_hint::set_psk_client(&mut builder, identity, key);
    let ssl = builder.build().configure().map_err(setup)?.verify_hostname(false).into_ssl(host).map_err(setup)?;
    let mut stream = SslStream::new(ssl, tcp).map_err(setup)?;
    Pin::new(&mut stream).connect().await.map_err(|e| {
        let text = e.to_string();
        if ["alert", "decrypt", "bad record mac", "binder"].iter().any(|s| text.contains(s)) {
            format!(
                "the TLS-PSK handshake failed ({text}): check the PSK identity and key against the broker's psk_file"
            )
        } else {
            format!("the TLS-PSK handshake failed: {text}")
        }
    })?;
    let session = Session {
        kind: "TLS-PSK",
        version: stream.ssl().version_str().to_owned(),
        cipher: stream.ssl().current_cipher().map_or("?", |c| c.name()).to_owned(),
        unverified: false,
    };
    Ok((stream, session))
}
