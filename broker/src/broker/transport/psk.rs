//! TLS-PSK with OpenSSL: TLS 1.3 external PSK (what `mosquitto_pub --psk` negotiates) and the
//! TLS 1.2 PSK suites (what an ESP32's mbedTLS offers).

use std::sync::{Arc, OnceLock, Weak};

use mqtt_lab_psk_hint::SocketTls;
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslContext, SslFiletype, SslMethod, SslMode, SslVersion};
use tokio::net::TcpStream;

use crate::broker::Shared;
use crate::broker::connection::Socket;
use crate::config::{ListenerConfig, TlsVersion};
use crate::log::LogType;

/// Where the server callback leaves the identity whose key it gave: OpenSSL's own
/// `SSL_get_psk_identity` knows it only in TLS 1.2, and `use_identity_as_username` needs it in
/// TLS 1.3 too (what `mosquitto_pub --psk` negotiates).
fn identity_index() -> Result<Index<Ssl, String>, openssl::error::ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, String>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index::<String>()?;
    Ok(*INDEX.get_or_init(|| index))
}

/// The listener's OpenSSL context; `index`: its place in the config, whose `psk_file` applies
/// with `per_listener_settings true`.
pub(super) fn context(l: &ListenerConfig, index: Option<usize>, shared: &Arc<Shared>) -> Result<SslContext, String> {
    let ssl = |what: &str, e: openssl::error::ErrorStack| format!("{what}: {e}");
    let identity_index = identity_index().map_err(|e| ssl("OpenSSL", e))?;
    let mut b = SslContext::builder(SslMethod::tls_server()).map_err(|e| ssl("OpenSSL", e))?;
    let min = match l.tls_version {
        Some(TlsVersion::Tls13) => SslVersion::TLS1_3,
        _ => SslVersion::TLS1_2,
    };
    b.set_min_proto_version(Some(min)).map_err(|e| ssl("tls_version", e))?;
    // An idle connection gives its record buffers (about 17 KB each way) back to OpenSSL's
    // allocator, as Mosquitto does: 33.0 -> 16.6 KB per idle TLS-PSK client (Mosquitto 15.6 KB;
    // `SECURITY=psk scripts/bench-brokers.sh`, docs/PERFORMANCE.md).
    // A write retried after it would have blocked may come from a buffer that has moved since
    // (the DISCONNECT appended while closing).
    b.set_mode(SslMode::RELEASE_BUFFERS | SslMode::ACCEPT_MOVING_WRITE_BUFFER);
    let ciphers = l.ciphers.as_deref().unwrap_or(mqtt_lab_psk_hint::PSK_CIPHERS);
    b.set_cipher_list(ciphers).map_err(|e| ssl(&format!("ciphers {ciphers:?}"), e))?;
    if let Some(suites) = &l.ciphers_tls13 {
        // OpenSSL passes over names it does not know, and fails only when none is left.
        b.set_ciphersuites(suites).map_err(|e| ssl(&format!("ciphers_tls1.3 {suites:?} names no TLS 1.3 suite"), e))?;
    }
    if let Some(cert) = &l.certfile {
        b.set_certificate_chain_file(cert).map_err(|e| ssl(&format!("certfile {}", cert.display()), e))?;
    }
    if let Some(key) = &l.keyfile {
        b.set_private_key_file(key, SslFiletype::PEM).map_err(|e| ssl(&format!("keyfile {}", key.display()), e))?;
    }
    if let Some(dhparamfile) = &l.dhparamfile {
        // The DHE-PSK suites use them.
        let dh = super::tls::check_dhparams(dhparamfile)?;
        b.set_tmp_dh(&dh).map_err(|e| ssl(&format!("dhparamfile {}", dhparamfile.display()), e))?;
    }
    let hint = l.psk_hint.as_deref().unwrap_or_default();
    mqtt_lab_psk_hint::set_psk_identity_hint(&mut b, hint).map_err(|e| format!("psk_hint: {e}"))?;
    // Weak: the context must not keep the broker alive; the key is looked up at each handshake
    // in the settings in force, so a reloaded psk_file applies to the next client.
    let shared: Weak<Shared> = Arc::downgrade(shared);
    let as_username = l.use_identity_as_username;
    b.set_psk_server_callback(move |ssl, identity, out| {
        let Some(shared) = shared.upgrade() else { return Ok(0) };
        let identity = String::from_utf8_lossy(identity.unwrap_or_default());
        let auth = shared.auth();
        match auth.psk(auth.scope(index), &identity) {
            Some(key) if key.len() <= out.len() => {
                out[..key.len()].copy_from_slice(key);
                // Kept in the session only where it becomes the user name: it stays as long as
                // the client does.
                if as_username {
                    ssl.set_ex_data(identity_index, identity.into_owned());
                }
                Ok(key.len())
            }
            _ => {
                // 0 refuses the handshake: an unknown identity, or no psk_file at all.
                shared.log.log(LogType::Notice, format_args!("TLS-PSK identity {identity:?} is not in the psk_file."));
                Ok(0)
            }
        }
    });
    Ok(b.build())
}

/// Accepts a TLS-PSK client; returns the stream and the identity it used.
pub(super) async fn accept(ctx: &SslContext, tcp: TcpStream) -> Result<(SocketTls<Socket>, Option<String>), String> {
    let ssl = Ssl::new(ctx).map_err(|e| e.to_string())?;
    // Over a socket that can leave the reactor while the connection is parked, through
    // OpenSSL's own socket BIO (psk-hint's socket_tls.rs says why).
    let mut stream = SocketTls::new(ssl, Socket::Live(tcp)).map_err(|e| e.to_string())?;
    stream.accept().await.map_err(|e| {
        // A wrong key shows up as a TLS 1.3 binder or a TLS 1.2 record that does not verify.
        let text = e.to_string();
        if ["binder does not verify", "decrypt", "bad record mac"].iter().any(|s| text.contains(s)) {
            format!("{text} (a wrong pre-shared key for the identity?)")
        } else {
            text
        }
    })?;
    // The identity whose key the handshake used (TLS 1.2 and 1.3 alike).
    let identity = identity_index().ok().and_then(|index| stream.ssl().ex_data(index).cloned());
    Ok((stream, identity))
}
