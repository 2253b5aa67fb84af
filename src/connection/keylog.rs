//! `SSLKEYLOGFILE` for the app's connections: the rustls side of the shared key log writer
//! (`mqtt_lab_psk_hint::keylog`, which the TLS-PSK client and the bench use too), so that a
//! capture of the app's TLS traffic can be decrypted in Wireshark. Never on unless the variable
//! is set; the connection's [`super::transport::Target`] carries the path, so tests choose one
//! without touching the process's environment.

use std::sync::Arc;

use mqtt_lab_psk_hint::keylog::{self, KeyLog};

/// The key log a connection writes to: `SSLKEYLOGFILE`, read once per process.
#[must_use]
pub fn path_from_env() -> Option<std::path::PathBuf> {
    keylog::path_from_env()
}

/// rustls's `KeyLog` writing NSS lines through the shared writer.
#[derive(Debug)]
pub(super) struct RustlsKeyLog(pub Arc<KeyLog>);

impl rustls::KeyLog for RustlsKeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        self.0.write_line(&keylog::nss_line(label, client_random, secret));
    }
}

/// Opens the key log `path` names, if any.
pub(super) fn open(path: Option<&std::path::Path>) -> Result<Option<Arc<KeyLog>>, String> {
    path.map(KeyLog::open).transpose()
}
