//! Debian's Mosquitto as a separate process on a free port, for tests that compare with it.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A free port for a broker process that takes its port from a config file (Mosquitto cannot
/// listen on port 0 and say which port it got). Not from the kernel's ephemeral range
/// (`/proc/sys/net/ipv4/ip_local_port_range`, 32768-60999 by default): every outgoing
/// connection of every test takes a port from there, so a port found free there and handed
/// over can be taken before the broker binds it ("Address already in use", seen in CI). Below
/// it, only another test choosing the same random port could; each candidate is bound once to
/// check it is free.
pub fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let floor = 10_000u16.min(low.saturating_sub(1000));
    let span = u64::from(low.saturating_sub(floor).max(1));
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()).rotate_left(32);
    let mut x = seed | 1;
    for _ in 0..200 {
        // xorshift: a different candidate each try, and in each process.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let port = floor + (x % span) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Debian's Mosquitto on `conf`, until dropped; returns once it logs that it is running.
pub struct Mosquitto(Child);

impl Mosquitto {
    /// Debian's Mosquitto with anonymous access on a free port of 127.0.0.1, its config file in
    /// `dir` (created): the other broker of tests that open two at once.
    #[allow(dead_code)] // not every test binary that includes this file opens two brokers
    pub fn anonymous(dir: &Path) -> (Self, u16) {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let conf = dir.join("mosquitto.conf");
        std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\n")).unwrap();
        (Self::start(&conf), port)
    }

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
