//! Debian's Mosquitto and our `mqtt-lab-broker` binary as processes, each started from the
//! same mosquitto.conf text, for differential tests: same client bytes, compare the answers.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use super::{PATIENCE, TempDir};

pub use super::mosquitto::free_port;

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
    /// broker logs that it is running. Mosquitto cannot report a port 0 listener's port, so the
    /// port is found free and then handed over: should another test take it in between, the
    /// broker says "Address already in use" and is started again on another.
    pub fn start(kind: Kind, dir: &TempDir, conf_text: &str) -> Self {
        for _ in 0..9 {
            let process = Self::try_start(kind, dir, conf_text);
            if process.wait_for_any(&["running", "Address already in use"], 0) == 0 {
                return process;
            }
        }
        panic!("{kind:?}: every free port was taken before the broker could listen on it");
    }

    fn try_start(kind: Kind, dir: &TempDir, conf_text: &str) -> Self {
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
        Self { kind, port, conf, child, log }
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
        self.wait_for_any(&[needle], from);
    }

    /// Waits until a line from `from` on contains one of `needles`; answers which.
    pub fn wait_for_any(&self, needles: &[&str], from: usize) -> usize {
        let deadline = Instant::now() + PATIENCE;
        let (lines, changed) = &*self.log;
        let mut lines = lines.lock().unwrap();
        loop {
            let found = lines.iter().skip(from).find_map(|l| needles.iter().position(|n| l.contains(n)));
            if let Some(which) = found {
                return which;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{:?} did not log any of {needles:?}:\n{}", self.kind, lines.join("\n"));
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

impl BrokerProcess {
    /// SIGTERM, as `systemctl stop` does (Mosquitto saves its persistence file then), and waits
    /// for the process to end.
    pub fn terminate(mut self) {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
        let _ = self.child.wait();
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
