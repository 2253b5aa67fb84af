//! `openssl s_server` (Debian's `openssl` package) as a dishonest or honest TLS peer on a port of
//! its own choosing: it prints what it receives, so a test can tell whether a client sent its MQTT
//! CONNECT. The including file defines `PATIENCE`, the bound of every wait here.
#![allow(dead_code)]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A running `openssl s_server`, killed when dropped.
pub struct SServer {
    child: Child,
    /// Held open: at the end of its input s_server ends the connection and stops.
    _stdin: ChildStdin,
    port: u16,
    /// Everything it printed, standard output and error together.
    output: Arc<Mutex<Vec<u8>>>,
}

/// A self-signed certificate for localhost and its key, as PEM files in `dir`: (cert, key).
pub fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.join("impostor.pem"), dir.join("impostor.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

impl SServer {
    /// A server with a certificate and no pre-shared key: it can only authenticate with that.
    pub fn certificate_only(cert: &Path, key: &Path) -> Self {
        Self::start(["-cert", path(cert), "-key", path(key)])
    }

    /// A server with a pre-shared key (hex) for `identity` and no certificate, TLS 1.2 and 1.3.
    pub fn psk_only(identity: &str, key_hex: &str) -> Self {
        Self::start(["-nocert", "-psk", key_hex, "-psk_identity", identity])
    }

    /// A server with a certificate and a pre-shared key: it may authenticate either way.
    pub fn certificate_and_psk(cert: &Path, key: &Path, identity: &str, key_hex: &str) -> Self {
        Self::start(["-cert", path(cert), "-key", path(key), "-psk", key_hex, "-psk_identity", identity])
    }

    /// Starts `openssl s_server` with `args` on 127.0.0.1 and a free port; returns once it
    /// accepts connections.
    pub fn start<'a>(args: impl IntoIterator<Item = &'a str>) -> Self {
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the openssl CLI runs (apt-get install openssl)");
        let stdin = child.stdin.take().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        for (name, mut pipe) in [
            ("s_server-out", Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>),
            ("s_server-err", Box::new(child.stderr.take().unwrap())),
        ] {
            let output = Arc::clone(&output);
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    let mut buf = [0; 4096];
                    while let Ok(n @ 1..) = pipe.read(&mut buf) {
                        output.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                })
                .unwrap();
        }
        let mut server = Self { child, _stdin: stdin, port: 0, output };
        // "ACCEPT 127.0.0.1:PORT": the port it was given.
        let line = server.wait_for("its ACCEPT line", |out| {
            let at = out.find("ACCEPT 127.0.0.1:")? + "ACCEPT 127.0.0.1:".len();
            let digits: String = out[at..].chars().take_while(char::is_ascii_digit).collect();
            (out[at + digits.len()..].starts_with('\n')).then_some(digits)
        });
        server.port = line.parse().unwrap();
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What it has printed so far (received application data included), as text.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until `found` finds something in the output; panics after `PATIENCE`.
    pub fn wait_for<T>(&mut self, what: &str, found: impl Fn(&str) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(t) = found(&self.output()) {
                return t;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("s_server ended ({status}) before {what}:\n{}", self.output());
            }
            assert!(start.elapsed() < super::PATIENCE, "s_server: no {what} in time:\n{}", self.output());
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Waits until `n` connections have ended (s_server prints ERROR or DONE at the end of each,
    /// after anything it received), and returns the output.
    pub fn after_connections(&mut self, n: usize) -> String {
        self.wait_for(&format!("the end of {n} connection(s)"), |out| {
            (out.matches("ERROR").count() + out.matches("DONE").count() >= n).then(|| out.to_owned())
        })
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
