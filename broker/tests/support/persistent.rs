//! Brokers with persistence on, for the restart tests: in-process (a clean stop) and the
//! binary as a process (kill -9).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use super::{TempDir, TestBroker};

/// An in-process broker keeping its database in `dir`.
pub async fn persistent_broker(dir: &TempDir) -> TestBroker {
    let location = dir.0.clone();
    TestBroker::with(move |c| {
        c.persistence = true;
        c.persistence_location = Some(location);
    })
    .await
}

/// A broker process, killed (SIGKILL) when dropped: also when an assertion fails first, so a
/// failing test leaves no broker behind holding its output pipe open.
pub struct Binary(Child);

impl Binary {
    /// SIGKILL: only what the store committed survives.
    pub fn kill_9(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The broker binary with persistence in `dir`, on a free loopback port it reports in its log.
pub fn start_binary(dir: &TempDir) -> (Binary, SocketAddr) {
    let conf = dir.file(
        "broker.conf",
        &format!(
            "listener 0 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}\n",
            dir.0.display()
        ),
    );
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_mqtt-lab-broker")).arg("-c").arg(conf).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines().map_while(Result::ok);
    let port: u16 = lines
        .find_map(|l| {
            l.split("Opening listen socket on ")
                .nth(1)
                .map(|a| a.trim_end_matches('.').rsplit(':').next().unwrap().to_owned())
        })
        .expect("the broker logs its listener")
        .parse()
        .unwrap();
    // Keep draining the log so the broker never blocks on a full pipe.
    std::thread::Builder::new().name("broker-log".into()).spawn(move || lines.for_each(drop)).unwrap();
    (Binary(child), SocketAddr::from(([127, 0, 0, 1], port)))
}
