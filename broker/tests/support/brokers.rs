//! Debian's Mosquitto and our `mqtt-lab-broker` binary as processes, each started from the
//! same mosquitto.conf text, for differential tests: same client bytes, compare the answers.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use super::{PATIENCE, TempDir};

/// A free port: bind port 0, note it, release it for the broker process (a process takes its
/// port from its config file).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Which broker a process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mosquitto,
    Ours,
}

/// A broker process, killed when dropped; its log lines are kept.
pub struct BrokerProcess {
    pub kind: Kind,
    pub port: u16,
    pub conf: PathBuf,
    child: Child,
    log: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl BrokerProcess {
    /// Starts `kind` on `conf_text`, in which `PORT` stands for a free port; returns once the
    /// broker logs that it is running.
    pub fn start(kind: Kind, dir: &TempDir, conf_text: &str) -> Self {
        let port = free_port();
        let name = match kind {
            Kind::Mosquitto => "mosquitto.conf",
            Kind::Ours => "ours.conf",
        };
        let conf = dir.file(name, &format!("{}\nlog_dest stderr\n", conf_text.replace("PORT", &port.to_string())));
        let program = match kind {
            Kind::Mosquitto => "mosquitto",
            Kind::Ours => env!("CARGO_BIN_EXE_mqtt-lab-broker"),
        };
        let mut child = Command::new(program)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program} ({e}); install Debian's mosquitto"));
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let sink = log.clone();
        std::thread::Builder::new()
            .name(format!("{kind:?}-log"))
            .spawn(move || {
                for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                    sink.0.lock().unwrap().push(line);
                    sink.1.notify_all();
                }
            })
            .unwrap();
        let process = Self { kind, port, conf, child, log };
        process.wait_for_log("running", 0);
        process
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// How many lines the broker has logged so far.
    pub fn log_len(&self) -> usize {
        self.log.0.lock().unwrap().len()
    }

    pub fn logs(&self) -> String {
        self.log.0.lock().unwrap().join("\n")
    }

    /// Waits until a line from `from` on contains `needle`.
    pub fn wait_for_log(&self, needle: &str, from: usize) {
        let deadline = Instant::now() + PATIENCE;
        let (lines, changed) = &*self.log;
        let mut lines = lines.lock().unwrap();
        while !lines.iter().skip(from).any(|l| l.contains(needle)) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{:?} did not log {needle:?}:\n{}", self.kind, lines.join("\n"));
            lines = changed.wait_timeout(lines, left).unwrap().0;
        }
    }

    /// SIGHUP: reloads the password, ACL and PSK files; returns once the broker says it did.
    /// (Mosquitto logs "Reloading config." and reloads in the same turn of its single loop, so
    /// the next connection it answers sees the new files.)
    pub fn reload(&self) {
        let from = self.log_len();
        let status = Command::new("kill").arg("-HUP").arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
        self.wait_for_log(
            match self.kind {
                Kind::Mosquitto => "Reloading config",
                Kind::Ours => "Reloaded password, ACL and PSK files",
            },
            from,
        );
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Both brokers on the same configuration.
pub fn both(dir: &TempDir, conf_text: &str) -> [BrokerProcess; 2] {
    [BrokerProcess::start(Kind::Mosquitto, dir, conf_text), BrokerProcess::start(Kind::Ours, dir, conf_text)]
}

/// A path as config text.
pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}
