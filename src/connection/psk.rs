//! TLS-PSK to the broker, as the broker's PSK listener and Mosquitto's `psk_hint` listeners
//! expect: TLS 1.3 external PSK, or the TLS 1.2 PSK suites. The handshake is the shared crate's
//! (`mqtt_lab_psk_hint::PskClient`, also the bench's): it completes only when the server used
//! the key, so a server that answers with a certificate instead never sees the CONNECT.

use mqtt_lab_psk_hint::{PskClient, PskVersions};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use super::TlsVersion;
use super::transport::{Session, Target};

/// Runs the TLS-PSK handshake over `tcp` to `target`'s host, logging its secrets to the target's
/// key log if it has one; returns the stream and its version and cipher.
pub(super) async fn connect(
    tcp: TcpStream,
    target: &Target,
    identity: &str,
    key: &[u8],
) -> Result<(SslStream<TcpStream>, Session), String> {
    let versions = match target.tls_version {
        TlsVersion::Any => PskVersions::Any,
        TlsVersion::V1_2 => PskVersions::Tls12,
        TlsVersion::V1_3 => PskVersions::Tls13,
    };
    let key_log = super::keylog::open(target.key_log.as_deref())?;
    let client = PskClient::with_key_log(identity, key, versions, key_log).map_err(|e| e.to_string())?;
    let stream = client.connect(tcp, &target.host).await.map_err(|e| e.to_string())?;
    let session = Session {
        kind: "TLS-PSK",
        version: stream.ssl().version_str().to_owned(),
        cipher: stream.ssl().current_cipher().map_or("?", |c| c.name()).to_owned(),
        unverified: false,
        key_log: target.key_log.clone(),
    };
    Ok((stream, session))
}
