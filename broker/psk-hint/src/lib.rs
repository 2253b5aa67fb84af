//! TLS-PSK with the openssl crate, for every server and client of the workspace.
//!
//! - The server's identity hint: Mosquitto's `psk_hint` is sent to TLS 1.2 clients in the
//!   `ServerKeyExchange` message, and Mosquitto clients expect it. libssl exports
//!   `SSL_CTX_use_psk_identity_hint`, but neither `openssl-sys` nor the `openssl` crate declares
//!   it, so this crate declares that one function.
//! - The client ([`PskClient`], module `client`): the one TLS-PSK client of the app, the bench
//!   and the broker's bridge. Its handshake completes only when the server used the pre-shared
//!   key; a server that authenticates with a certificate instead is refused before any MQTT byte.
//! - [`keylog`]: `SSLKEYLOGFILE`, the TLS secrets in the NSS key log format for Wireshark, shared
//!   by the app (rustls and OpenSSL) and the bench.

mod client;
pub mod keylog;
mod socket_tls;

pub use client::{CLIENT_CIPHERS, CLIENT_TLS13_SUITES, PskClient, PskError, PskVersions};
pub use socket_tls::{Readiness, SocketTls, socket_fd};

use std::ffi::{CString, c_char, c_int};

use openssl::error::ErrorStack;
use openssl::ssl::SslContextBuilder;

/// A server's TLS 1.2 suites with PSK key exchange, ECDHE and DHE first (forward secrecy), and the
/// plain PSK suites that small devices (an ESP32's mbedTLS) offer; never NULL encryption. Clients
/// offer [`CLIENT_CIPHERS`], which leaves out RSA-PSK (a certificate authenticates its server).
pub const PSK_CIPHERS: &str = "ECDHEPSK:DHEPSK:PSK:!NULL";

#[allow(unsafe_code)]
unsafe extern "C" {
    /// `int SSL_CTX_use_psk_identity_hint(SSL_CTX *ctx, const char *hint);` from libssl
    /// (OpenSSL 1.0.1 and later): copies `hint` into the context; returns 1 on success.
    fn SSL_CTX_use_psk_identity_hint(ctx: *mut openssl_sys::SSL_CTX, hint: *const c_char) -> c_int;
}

/// Why a hint could not be set.
#[derive(Debug)]
pub enum HintError {
    /// The hint contains a NUL byte, which C strings cannot hold.
    Nul,
    /// OpenSSL refused it (longer than `PSK_MAX_IDENTITY_LEN`, 256 bytes in OpenSSL 3).
    OpenSsl(ErrorStack),
}

impl std::fmt::Display for HintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Nul => f.write_str("the PSK hint contains a NUL byte"),
            Self::OpenSsl(e) => write!(f, "OpenSSL refused the PSK hint: {e}"),
        }
    }
}

impl std::error::Error for HintError {}

/// Sets the identity hint that a TLS 1.2 PSK server sends to its clients.
///
/// # Errors
/// [`HintError::Nul`] for a hint with a NUL byte; [`HintError::OpenSsl`] when OpenSSL refuses it.
pub fn set_psk_identity_hint(builder: &mut SslContextBuilder, hint: &str) -> Result<(), HintError> {
    let hint = CString::new(hint).map_err(|_| HintError::Nul)?;
    // SAFETY: `builder.as_ptr()` is a valid SSL_CTX owned by `builder` for this call, and
    // `hint` is a NUL-terminated string that lives across it; OpenSSL copies the string and
    // keeps no pointer to it.
    #[allow(unsafe_code)]
    let ok = unsafe { SSL_CTX_use_psk_identity_hint(builder.as_ptr(), hint.as_ptr()) };
    if ok == 1 { Ok(()) } else { Err(HintError::OpenSsl(ErrorStack::get())) }
}

/// Makes a client offer `identity` with `key` (raw bytes, not hex) in every TLS-PSK handshake,
/// TLS 1.3 external PSK or the TLS 1.2 PSK suites. [`PskClient`] calls it; on its own it checks
/// nothing about the server.
pub fn set_psk_client(builder: &mut SslContextBuilder, identity: &str, key: &[u8]) {
    let (identity, key) = (identity.as_bytes().to_vec(), key.to_vec());
    builder.set_psk_client_callback(move |_ssl, _hint, identity_out, psk_out| {
        // OpenSSL reads the identity as a C string: it must end with a NUL byte. 0 refuses the
        // handshake (an identity or key too long for OpenSSL's buffers).
        if identity.len() >= identity_out.len() || key.len() > psk_out.len() {
            return Ok(0);
        }
        identity_out[..identity.len()].copy_from_slice(&identity);
        identity_out[identity.len()] = 0;
        psk_out[..key.len()].copy_from_slice(&key);
        Ok(key.len())
    });
}

#[cfg(test)]
mod tests {
    use openssl::ssl::{SslContext, SslMethod};

    use super::*;

    #[test]
    fn a_hint_is_accepted_and_an_overlong_one_refused() {
        let mut builder = SslContext::builder(SslMethod::tls_server()).unwrap();
        set_psk_identity_hint(&mut builder, "btsiot").unwrap();
        assert!(matches!(set_psk_identity_hint(&mut builder, "a\0b"), Err(HintError::Nul)));
        assert!(matches!(set_psk_identity_hint(&mut builder, &"x".repeat(300)), Err(HintError::OpenSsl(_))));
    }
}
