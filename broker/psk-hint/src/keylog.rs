//! TLS key logging in the NSS key log format, for Wireshark: when `SSLKEYLOGFILE` names a file,
//! every client of the workspace (the app, `mqtt-lab check`, `mqtt-lab-bench`) appends the
//! secrets of its TLS sessions to it, as browsers and curl do, so that a capture of that traffic
//! can be decrypted (`tshark -o tls.keylog_file:FILE`). Never on unless the variable is set.
//!
//! One writer per file and process ([`KeyLog::open`] hands out the same one for the same path),
//! each line written whole under a lock, so that connections on several threads never interleave
//! their lines. The file is opened for appending, created 0600 on Unix: it holds what decrypts
//! every session in it. The secrets go to that file and nowhere else.
//!
//! The app's rustls connections write through the same [`KeyLog`] (`rustls::KeyLog` hands out
//! the parts of a line; [`nss_line`] joins them); OpenSSL contexts get a callback
//! ([`install`]), which hands out whole lines.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use openssl::ssl::SslContextBuilder;

/// The environment variable browsers, curl and Wireshark's documentation use.
pub const ENV: &str = "SSLKEYLOGFILE";

/// The key log file `SSLKEYLOGFILE` names, read once per process; `None` when it is unset or
/// empty. Tests pass a path of their own to the connection code instead of setting the
/// variable, which is process-wide.
#[must_use]
pub fn path_from_env() -> Option<PathBuf> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| path_from(std::env::var_os(ENV))).clone()
}

/// `SSLKEYLOGFILE`'s value as a path: an unset or empty variable means no key logging.
#[must_use]
pub fn path_from(value: Option<std::ffi::OsString>) -> Option<PathBuf> {
    value.filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// An open key log file, shared by every connection of the process that logs to it.
#[derive(Debug)]
pub struct KeyLog {
    path: PathBuf,
    /// The lock makes each line one write, never interleaved with another connection's.
    file: Mutex<File>,
}

impl KeyLog {
    /// The process's writer for `path`: opened (appending, created 0600 on Unix) on first use,
    /// the same one afterwards.
    ///
    /// # Errors
    /// The file cannot be opened or created; the text names the file and the variable.
    pub fn open(path: &Path) -> Result<Arc<Self>, String> {
        static OPEN: OnceLock<Mutex<HashMap<PathBuf, Arc<KeyLog>>>> = OnceLock::new();
        let mut open = OPEN.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(log) = open.get(path) {
            return Ok(Arc::clone(log));
        }
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(|e| {
            format!(
                "cannot open the TLS key log file {} that {ENV} names: choose a writable path or unset {ENV} ({e})",
                path.display()
            )
        })?;
        let log = Arc::new(Self { path: path.to_owned(), file: Mutex::new(file) });
        open.insert(path.to_owned(), Arc::clone(&log));
        Ok(log)
    }

    /// The file the secrets go to.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line` and a newline in one write. A failed write is dropped: the connection
    /// goes on, and the secret is written nowhere else.
    pub fn write_line(&self, line: &str) {
        let mut whole = String::with_capacity(line.len() + 1);
        whole.push_str(line);
        whole.push('\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = file.write_all(whole.as_bytes());
    }
}

/// One NSS key log line: `LABEL <client random in hex> <secret in hex>`.
#[must_use]
pub fn nss_line(label: &str, client_random: &[u8], secret: &[u8]) -> String {
    let mut line = String::with_capacity(label.len() + 2 + 2 * (client_random.len() + secret.len()));
    line.push_str(label);
    for part in [client_random, secret] {
        line.push(' ');
        for byte in part {
            let _ = write!(line, "{byte:02x}");
        }
    }
    line
}

/// Makes every session of the OpenSSL context `builder` builds write its secrets to `log`.
pub fn install(builder: &mut SslContextBuilder, log: Arc<KeyLog>) {
    builder.set_keylog_callback(move |_, line| log.write_line(line));
}

/// The key log `SSLKEYLOGFILE` asks for, opened; `None` when the variable is unset.
///
/// # Errors
/// The file it names cannot be opened.
pub fn from_env() -> Result<Option<Arc<KeyLog>>, String> {
    path_from_env().map(|p| KeyLog::open(&p)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("keylog-unit-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("keys.log")
    }

    #[test]
    fn an_unset_or_empty_variable_means_no_key_log() {
        assert_eq!(path_from(None), None);
        assert_eq!(path_from(Some("".into())), None);
        assert_eq!(path_from(Some("/tmp/k.log".into())), Some(PathBuf::from("/tmp/k.log")));
    }

    #[test]
    fn lines_are_nss_format_appended_whole_by_one_shared_writer() {
        let path = temp("lines");
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, "CLIENT_RANDOM 00 11\n").unwrap();
        let a = KeyLog::open(&path).unwrap();
        let b = KeyLog::open(&path).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "one writer per file and process");
        let threads: Vec<_> = (0..8u8)
            .map(|i| {
                let log = Arc::clone(&a);
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        log.write_line(&nss_line("CLIENT_TRAFFIC_SECRET_0", &[i; 32], &[0xab; 48]));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "CLIENT_RANDOM 00 11", "appended, not truncated");
        assert_eq!(lines.len(), 1 + 8 * 50);
        for line in &lines[1..] {
            let parts: Vec<&str> = line.split(' ').collect();
            assert_eq!(parts.len(), 3, "{line}");
            assert_eq!((parts[0], parts[1].len(), parts[2]), ("CLIENT_TRAFFIC_SECRET_0", 64, "ab".repeat(48).as_str()));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_new_key_log_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp("mode");
        let _ = std::fs::remove_file(&path);
        KeyLog::open(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn an_unopenable_file_is_named_with_the_variable() {
        let e = KeyLog::open(Path::new("/nonexistent-dir/keys.log")).unwrap_err();
        assert!(e.starts_with("cannot open the TLS key log file /nonexistent-dir/keys.log that SSLKEYLOGFILE"), "{e}");
    }
}
