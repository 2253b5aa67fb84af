//! The judges: paho-mqtt 2.x as an MQTT 5 client (driver.py, run by the tests' venv python) and
//! Debian's mosquitto_pub / mosquitto_sub. Each is a process whose output lines the test waits
//! for with a deadline, so a slow machine only makes a test slower, never wrong.

use std::io::{BufRead as _, Write as _};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::support::PATIENCE;
use crate::support::brokers::BrokerProcess;
use crate::support::python::python;

/// The paho client driver: commands on stdin, one event a line on stdout (see its doc string).
const DRIVER: &str = include_str!("driver.py");

type Lines = Arc<(Mutex<Vec<String>>, Condvar)>;

/// A client process and every line it printed (stderr lines prefixed `stderr: `).
pub struct Proc {
    what: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines,
    /// Lines before this one were taken by `expect`.
    taken: usize,
}

impl Proc {
    pub fn spawn(mut cmd: Command, what: &str) -> Self {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {what} ({e}): {cmd:?}"));
        let lines: Lines = Arc::default();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        collect(stdout, "", &lines);
        collect(stderr, "stderr: ", &lines);
        Self { what: what.to_owned(), stdin: child.stdin.take(), child, lines, taken: 0 }
    }

    /// Sends one command line to the process.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}").and_then(|()| stdin.flush()).unwrap_or_else(|e| panic!("{}: {e}", self.report()));
    }

    /// Closes stdin (mosquitto_pub -l then sends what it read and exits).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the next line, after those taken, that starts with `prefix`; takes it and
    /// those before it.
    pub fn expect(&mut self, prefix: &str) -> String {
        let found = self.wait(|lines| lines.iter().skip(self.taken).position(|l| l.starts_with(prefix)), prefix);
        self.taken += found + 1;
        self.lines.0.lock().unwrap()[self.taken - 1].clone()
    }

    /// Waits until `n` lines in all start with `prefix`; returns all of them.
    pub fn expect_n(&self, prefix: &str, n: usize) -> Vec<String> {
        self.wait(|lines| (lines.iter().filter(|l| l.starts_with(prefix)).count() >= n).then_some(()), prefix);
        self.all(prefix)
    }

    /// Every line so far that starts with `prefix`, taken or not.
    pub fn all(&self, prefix: &str) -> Vec<String> {
        self.lines.0.lock().unwrap().iter().filter(|l| l.starts_with(prefix)).cloned().collect()
    }

    fn wait<T>(&self, mut found: impl FnMut(&[String]) -> Option<T>, what: &str) -> T {
        let deadline = Instant::now() + PATIENCE;
        let (lines, changed) = &*self.lines;
        let mut lines = lines.lock().unwrap();
        loop {
            if let Some(t) = found(&lines) {
                return t;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{} printed no line {what:?} in time:\n{}", self.what, lines.join("\n"));
            lines = changed.wait_timeout(lines, left).unwrap().0;
        }
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "{} did not exit in time", self.report());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL: the socket closes with no DISCONNECT, as when a device loses power.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn report(&self) -> String {
        format!("{}:\n{}", self.what, self.lines.0.lock().unwrap().join("\n"))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn collect(stream: impl std::io::Read + Send + 'static, prefix: &'static str, lines: &Lines) {
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
            sink.0.lock().unwrap().push(format!("{prefix}{line}"));
            sink.1.notify_all();
        }
    });
}

/// A paho MQTT 5 client process named `client_id`, not yet connected.
pub fn paho(b: &BrokerProcess, client_id: &str) -> Proc {
    let mut cmd = Command::new(python());
    cmd.arg("-c").arg(DRIVER).arg(b.port.to_string()).arg(client_id);
    Proc::spawn(cmd, &format!("paho {client_id}"))
}

impl Proc {
    /// `connect ARGS`; returns the CONNACK line.
    pub fn connect(&mut self, args: &str) -> String {
        self.send(&format!("connect {args}"));
        self.expect("connack ")
    }

    /// `connect ARGS` that must succeed; returns the CONNACK line.
    pub fn connected(b: &BrokerProcess, client_id: &str, args: &str) -> Self {
        let mut c = paho(b, client_id);
        let connack = c.connect(args);
        assert!(connack.starts_with("connack rc=0 "), "{}", c.report());
        c
    }

    /// `sub FILTER OPTIONS`; returns the SUBACK line.
    pub fn sub(&mut self, args: &str) -> String {
        self.send(&format!("sub {args}"));
        self.expect("suback ")
    }

    /// A round trip through the broker: every message it sent this client before is printed.
    pub fn sync(&mut self) {
        self.send("sync");
        self.expect("synced");
    }

    /// Every message line so far (`msg TOPIC PAYLOAD qos=N retain=N props`).
    pub fn msgs(&self) -> Vec<String> {
        self.all("msg ")
    }
}

/// Debian's `tool` (mosquitto_pub or mosquitto_sub) at the broker, with `args`; its stdout line
/// buffered (coreutils' stdbuf), as into a pipe it would print nothing until it exits.
pub fn mosquitto(tool: &str, b: &BrokerProcess, args: &[&str]) -> Command {
    let mut cmd = Command::new("stdbuf");
    cmd.args(["-oL", tool, "-h", "127.0.0.1", "-p", &b.port.to_string()]).args(args);
    cmd
}

/// Runs mosquitto_pub to completion; it must succeed.
pub fn mosquitto_pub(b: &BrokerProcess, args: &[&str]) {
    let mut p = Proc::spawn(mosquitto("mosquitto_pub", b, args), "mosquitto_pub");
    p.close_stdin();
    let status = p.wait_exit();
    assert!(status.success(), "{} exited {status}", p.report());
}

/// mosquitto_sub with `args` (give it `-F 'msg ...'`), running once its SUBACK came back.
pub fn mosquitto_sub(b: &BrokerProcess, args: &[&str]) -> Proc {
    let mut p = Proc::spawn(mosquitto("mosquitto_sub", b, &[&["-d"], args].concat()), "mosquitto_sub");
    p.expect("Subscribed (mid:");
    p
}

/// The value of `key=` in an event line, e.g. `exp` in a message line.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(' ').find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}
