//! A two-node RabbitMQ cluster with the MQTT plugin, started by the test on loopback: the remote
//! end of the bridge tests (the Pi bridged to a cluster, failing over between its addresses).
//!
//! Debian's `rabbitmq-server` (3.10 on bookworm) runs as the current user from the scripts in
//! /usr/lib/rabbitmq/bin (the /usr/sbin wrappers would `su rabbitmq` and use /var/lib/rabbitmq).
//! Everything a node writes is under the test's directory, with names and ports of its own, so
//! clusters of parallel tests and of other test binaries do not meet:
//! - its own epmd on a free port (`ERL_EPMD_PORT`), run by the harness: the nodes register there,
//!   not in the machine's epmd on 4369, and it is gone with the cluster;
//! - node names `mqttlab-a-<pid>-<n>@localhost`, Erlang distribution on a free port bound to
//!   127.0.0.1, AMQP off, the MQTT listener on a free port of 127.0.0.1;
//! - `HOME` in the directory, holding the cookie the nodes and rabbitmqctl share, and empty
//!   rabbitmq-env.conf / no advanced.config, so /etc/rabbitmq plays no part.
//!
//! A boots first; B starts once A serves MQTT and joins it as it boots (`classic_config` peer
//! discovery naming A), which replaces `rabbitmqctl stop_app; join_cluster; start_app`. Both
//! at once would be 3 s faster but races the MQTT plugins: each then starts its client-ID
//! tracker (a Raft cluster) expecting the other, and neither had a leader for 100 s. Measured on
//! this 2-core machine: 14 to 18 s for the pair when idle, up to 25 s with another cluster
//! booting beside it (A alone: about 11 s, 3 to 6 s of it the MQTT plugin waiting for peers
//! before its first Raft election). Ready means a CONNECT/CONNACK round trip on the node's MQTT
//! port (refused until the tracker has a leader); then `rabbitmqctl eval` confirms that both
//! nodes run in one cluster.
//!
//! Each node is started with `RABBITMQ_ALLOW_INPUT`, so the script execs the VM (our child is
//! beam.smp itself, killed at once by `stop_node`) and the Erlang shell reads a pipe we hold:
//! should the test process die without running Drop, the pipe closes and the node halts. epmd
//! runs under a shell that kills it when its stdin pipe closes, for the same reason.
//!
//! What RabbitMQ 3.10.8's MQTT plugin does, found with raw packets (tests/rabbit_cluster.rs
//! keeps checking the first three):
//! - CONNECT with protocol level 0x84 (3.1.1 with the bridge bit, Mosquitto's `try_private`) or
//!   0x83: no CONNACK, the socket is closed ("framing error: protocol_header_corrupt" in its
//!   log). A bridge to RabbitMQ must send plain level 4 (`try_private false`).
//! - MQTT 5 (level 5): not supported, the socket is closed without CONNACK. 3.1 (MQIsdp, 3)
//!   and 3.1.1 (4) are accepted.
//! - A QoS 1 subscription is a durable classic queue `mqtt-subscription-<client id>qos1` on the
//!   node the client is connected to (auto-delete for a clean session), neither mirrored nor
//!   quorum (`mqtt.durable_queue_type = quorum` exists, but a quorum of 2 nodes stops with one).
//!   When that node dies, a persistent session's queue is "down" on the survivor until the node
//!   is back, and its client ID cannot subscribe there, with a clean session or not: within
//!   milliseconds of the death the CONNECT itself is closed without CONNACK (the survivor still
//!   sees the queue and tries to recover it), later CONNACK says no session and the SUBSCRIBE
//!   is closed (`queue.declare`: "home node ... of durable queue ... is down or inaccessible").
//!   With a clean session's QoS 1 queue on the dead node, the same client ID subscribed again
//!   on the survivor at once in 8 of 15 runs (a new queue there, which delivers); in 7 the old
//!   queue stayed "down" and the SUBSCRIBE was closed for as long as we watched (3 to 10 s). QoS 0 subscriptions (transient queues)
//!   and new client IDs always subscribed on the survivor at once.
//!   So a bridge that subscribes on RabbitMQ cannot count on resubscribing at QoS 1 under the
//!   same client ID after a failover (QoS 0 there, or a client ID per address, would); one
//!   that only publishes has no queue and reconnects at once. A "no QoS 1 message lost" test
//!   reads with a subscriber of its own on the surviving node (connected before the failover):
//!   what can be lost is on our side, in what the bridge resends until the remote PUBACKs.
//! - Routing crosses the cluster: MQTT topics map to the `amq.topic` exchange (`/` -> `.`), so
//!   a QoS 1 publish to one node reaches subscribers of the other, and subscribers already on
//!   the survivor keep receiving after the other node dies.
//! - Client IDs are tracked in a Raft cluster of the MQTT nodes; with one of two nodes dead it
//!   has no majority, yet the survivor accepted connections, publishes and subscriptions for as
//!   long as we watched (30 s; it retries the ID registration every 5 s, closing nothing).

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mqtt_lab_broker::codec::{Packet, Protocol};

use super::TempDir;
use super::mosquitto::free_port;

/// Debian's scripts, run directly: the /usr/sbin ones switch to the `rabbitmq` user.
const BIN: &str = "/usr/lib/rabbitmq/bin";
/// How long a pair of fresh nodes may take to boot and cluster (14 to 19 s seen alone, 25 s
/// beside another cluster booting).
const STARTUP: Duration = Duration::from_mins(2);
/// The wait between two readiness probes of a booting node.
const POLL: Duration = Duration::from_millis(100);

/// Two RabbitMQ nodes in one cluster with MQTT on loopback; both stopped when dropped.
pub struct RabbitCluster {
    nodes: [Node; 2],
    /// Where HOME, the shared files and each node's directory are.
    root: PathBuf,
    epmd_port: u16,
    /// The shell that runs epmd and kills it when its stdin closes.
    epmd: Child,
}

struct Node {
    /// `mqttlab-a-<pid>-<n>@localhost`: unique per test and process, as epmd and Erlang need.
    name: String,
    /// 127.0.0.1 and a port chosen free just before the node starts.
    mqtt: SocketAddr,
    /// The VM itself; `None` once stopped.
    vm: Option<Child>,
    /// Its log file and its console, quoted when it fails to start.
    log: PathBuf,
    console: PathBuf,
}

impl RabbitCluster {
    /// Starts node A, and node B joining it, in `dir`; returns once both serve MQTT in one
    /// cluster. Panics, naming the Debian package, when rabbitmq-server is not installed.
    /// Blocks the thread 15 to 25 s: in a tokio test, start the cluster before the broker
    /// under test (whose tasks a current-thread runtime would not run meanwhile).
    pub fn start(dir: &TempDir) -> Self {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let server = Path::new(BIN).join("rabbitmq-server");
        assert!(
            server.exists(),
            "{} is missing: the RabbitMQ cluster tests need Debian's rabbitmq-server \
             (apt-get install rabbitmq-server; .ci/run installs it)",
            server.display()
        );
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let root = dir.0.join(format!("rabbit-{n}"));
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        write_cookie(&home.join(".erlang.cookie"));
        std::fs::write(root.join("rabbitmq-env.conf"), "").unwrap();
        std::fs::write(root.join("enabled_plugins"), "[rabbitmq_mqtt].\n").unwrap();

        let epmd_port = free_port();
        let epmd = start_epmd(&root, epmd_port);
        let names = ["a", "b"].map(|x| format!("mqttlab-{x}-{}-{n}@localhost", std::process::id()));
        let mut cluster = Self {
            nodes: [0, 1].map(|i| {
                let base = root.join(["a", "b"][i]);
                Node {
                    name: names[i].clone(),
                    mqtt: SocketAddr::from(([127, 0, 0, 1], 0)),
                    vm: None,
                    log: base.join("log").join(format!("{}.log", names[i])),
                    console: base.join("console.txt"),
                }
            }),
            root,
            epmd_port,
            epmd,
        };
        let started = Instant::now();
        for i in 0..2 {
            // Chosen as the node starts, so no other test can take them while A boots; those
            // already bound (epmd's, A's) are not free.
            let mqtt = free_port();
            let dist = std::iter::repeat_with(free_port).find(|&p| p != mqtt).unwrap();
            cluster.nodes[i].mqtt.set_port(mqtt);
            let vm = cluster.spawn_node(i, dist, &names[0]);
            cluster.nodes[i].vm = Some(vm);
            cluster.await_mqtt(i, started + STARTUP);
        }
        let running = cluster.ctl(0, &["eval", "rabbit_nodes:all_running()."]);
        assert!(
            names.iter().all(|name| running.contains(name.as_str())),
            "B did not join A: running nodes {running}\n{}",
            cluster.node_logs(1)
        );
        eprintln!("RabbitMQ cluster {names:?} up in {:.1} s", started.elapsed().as_secs_f64());
        cluster
    }

    /// Node `i`'s MQTT listener (0: A, the seed; 1: B).
    pub fn mqtt_addr(&self, i: usize) -> SocketAddr {
        self.nodes[i].mqtt
    }

    /// Node `i`'s Erlang name, for rabbitmqctl and its logs.
    pub fn node_name(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    /// Kills node `i` at once (SIGKILL, as a crash or a lost link would): its connections are
    /// reset and its port refuses from then on; the other node carries on alone.
    pub fn stop_node(&mut self, i: usize) {
        if let Some(mut vm) = self.nodes[i].vm.take() {
            let _ = vm.kill();
            let _ = vm.wait();
        }
    }

    /// Runs `rabbitmqctl -n <node i> args` and returns its output; panics if it fails.
    pub fn ctl(&self, i: usize, args: &[&str]) -> String {
        let mut cmd = Command::new(Path::new(BIN).join("rabbitmqctl"));
        self.shared_env(&mut cmd).arg("-q").arg("-n").arg(&self.nodes[i].name).args(args);
        let out = cmd.output().unwrap_or_else(|e| panic!("cannot run rabbitmqctl ({e}); install rabbitmq-server"));
        assert!(
            out.status.success(),
            "rabbitmqctl {args:?} on {} failed: {}{}",
            self.nodes[i].name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The end of node `i`'s log and console, for failure messages.
    pub fn node_logs(&self, i: usize) -> String {
        let node = &self.nodes[i];
        format!("--- {} log:\n{}\n--- console:\n{}", node.name, tail(&node.log), tail(&node.console))
    }

    /// What every rabbitmq script and VM of this cluster shares.
    fn shared_env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("HOME", self.root.join("home"))
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("RABBITMQ_CONF_ENV_FILE", self.root.join("rabbitmq-env.conf"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", self.root.join("enabled_plugins"))
    }

    /// Starts node `i` with its Erlang distribution on `dist_port`; B (1) joins `seed` as it boots.
    fn spawn_node(&self, i: usize, dist_port: u16, seed: &str) -> Child {
        let node = &self.nodes[i];
        let base = self.root.join(["a", "b"][i]);
        std::fs::create_dir_all(&base).unwrap();
        let mut conf = format!(
            "listeners.tcp = none\n\
             mqtt.listeners.tcp.default = {}\n\
             mqtt.allow_anonymous = true\n",
            node.mqtt
        );
        if i == 1 {
            // A serves MQTT before B starts; the retries (up to 60 s) cover a slow first contact.
            let _ = write!(
                conf,
                "cluster_formation.peer_discovery_backend = classic_config\n\
                 cluster_formation.classic_config.nodes.1 = {seed}\n\
                 cluster_formation.discovery_retry_limit = 240\n\
                 cluster_formation.discovery_retry_interval = 250\n"
            );
        }
        std::fs::write(base.join("rabbitmq.conf"), conf).unwrap();
        let console = std::fs::File::create(&node.console).unwrap();
        let mut cmd = Command::new(Path::new(BIN).join("rabbitmq-server"));
        self.shared_env(&mut cmd)
            .env("RABBITMQ_NODENAME", &node.name)
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}")
            .env("RABBITMQ_CONFIG_FILE", base.join("rabbitmq.conf"))
            .env("RABBITMQ_ADVANCED_CONFIG_FILE", base.join("advanced.config"))
            .env("RABBITMQ_MNESIA_BASE", base.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", base.join("log"))
            .env("RABBITMQ_ALLOW_INPUT", "true")
            .stdin(Stdio::piped())
            .stdout(console.try_clone().unwrap())
            .stderr(console);
        cmd.spawn().unwrap_or_else(|e| panic!("cannot run rabbitmq-server ({e}); install Debian's rabbitmq-server"))
    }

    /// Waits until node `i` answers an MQTT CONNECT with CONNACK 0; panics if it exits first.
    fn await_mqtt(&mut self, i: usize, deadline: Instant) {
        loop {
            if mqtt_ready(self.nodes[i].mqtt) {
                return;
            }
            let exited = self.nodes[i].vm.as_mut().and_then(|vm| vm.try_wait().ok().flatten());
            if let Some(status) = exited {
                panic!("RabbitMQ node {} exited ({status}) while starting\n{}", self.nodes[i].name, self.node_logs(i));
            }
            assert!(
                Instant::now() < deadline,
                "RabbitMQ node {} did not serve MQTT on {} within {STARTUP:?}\n{}",
                self.nodes[i].name,
                self.nodes[i].mqtt,
                self.node_logs(i)
            );
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for RabbitCluster {
    fn drop(&mut self) {
        for i in 0..2 {
            self.stop_node(i);
        }
        // Closing its stdin makes the shell kill epmd and wait for it.
        drop(self.epmd.stdin.take());
        let _ = self.epmd.wait();
    }
}

/// A random cookie, readable by its owner only (Erlang refuses it otherwise).
fn write_cookie(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::fs::write(path, format!("MQTTLAB{nanos:X}{:X}", std::process::id())).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o400)).unwrap();
}

/// epmd on `port` of 127.0.0.1, under a shell that kills it when its stdin pipe closes (at
/// Drop, or when the test process dies); returns once it accepts connections.
fn start_epmd(root: &Path, port: u16) -> Child {
    let log = std::fs::File::create(root.join("epmd.txt")).unwrap();
    let mut shell = Command::new("sh")
        .args(["-c", r#"epmd -port "$1" -address 127.0.0.1 & read -r _; kill "$!"; wait"#, "sh", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + super::PATIENCE;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = shell.try_wait().ok().flatten().is_some();
        assert!(
            !exited && Instant::now() < deadline,
            "epmd did not start on port {port} (Debian's erlang-base has it): {}",
            tail(&root.join("epmd.txt"))
        );
        std::thread::sleep(POLL);
    }
    shell
}

/// Whether an MQTT 3.1.1 CONNECT to `addr` gets CONNACK 0.
fn mqtt_ready(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let connect = Packet::Connect(Box::new(super::connect_packet("harness-probe", true, 0)));
    let mut connack = [0u8; 4];
    let answered = stream.set_read_timeout(Some(Duration::from_secs(5))).is_ok()
        && stream.write_all(&connect.to_bytes(Protocol::V311).unwrap()).is_ok()
        && stream.read_exact(&mut connack).is_ok();
    let _ = stream.write_all(&Packet::disconnect().to_bytes(Protocol::V311).unwrap());
    answered && connack == [0x20, 2, 0, 0]
}

/// The last lines of a file, or why there are none.
fn tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(80)..].join("\n")
        }
        Err(e) => format!("({}: {e})", path.display()),
    }
}
