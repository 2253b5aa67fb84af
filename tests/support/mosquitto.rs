//! Debian's Mosquitto as a separate process on a free port, for tests that compare with it.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A free port: bind port 0, note it, release it for the broker process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Debian's Mosquitto on `conf`, until dropped; returns once it logs that it is running.
pub struct Mosquitto(Child);

impl Mosquitto {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    pub fn start(conf: &Path) -> Self {
        let mut child = Command::new("mosquitto")
            .arg("-c")
            .arg(conf)
            .stderr(Stdio::piped())
            .spawn()
            .expect("Debian's mosquitto runs (apt-get install mosquitto)");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("mosquitto-log".into())
            .spawn(move || {
                use std::io::BufRead as _;
                let mut lines = Vec::new();
                for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                    let running = line.contains("running");
                    lines.push(line);
                    if running {
                        let _ = tx.send(Ok(()));
                    }
                }
                let _ = tx.send(Err(lines.join("\n")));
            })
            .unwrap();
        match rx.recv_timeout(super::PATIENCE) {
            Ok(Ok(())) => Self(child),
            other => panic!("mosquitto did not start: {other:?}"),
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
