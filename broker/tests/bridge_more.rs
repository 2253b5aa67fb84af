//! The bridge options issue 24 still had no test for: `bridge_capath`, `bridge_tls_version`,
//! `bridge_bind_address`, `bridge_alpn` and `bridge_max_packet_size`. Each runs the same
//! `connection` section in Mosquitto 2.0.11's bridge and in ours, toward a Debian Mosquitto
//! remote (or `openssl s_server` where the remote must show what the handshake offered), and
//! asserts what each one does. Where the two differ, each broker's own answer is asserted and
//! the test says why (these are Mosquitto's behaviours, measured, not guessed).

#[path = "support/bridge_tls.rs"]
/// Only the certificate half is used here (no PSK).
#[allow(dead_code)]
mod setup;
mod support;

use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

use mqtt_lab_broker::codec::{QoS, QosPid};
use setup::{BRIDGE_ID, Pki, Side, bridge, refused, relays_both_ways, remote_refused, tls_listener};
use support::brokers::{BrokerProcess, Kind, free_port, path as conf_path};
use support::{PATIENCE, RawClient, TempDir, pid, publish, run_tool};

/// The two bridging brokers, Mosquitto's first: its answer is the one ours is held to.
const BOTH: [Kind; 2] = [Kind::Mosquitto, Kind::Ours];

/// A directory for the bridging broker's config: apart from the remote's, since two Mosquittos
/// would write the same `mosquitto.conf`.
fn local_dir(test: &str, kind: Kind) -> TempDir {
    TempDir::new(&format!("bridge-more-{test}-{kind:?}"))
}

/// The bridging broker of `kind` could not get past the TLS handshake with `remote`: ours names
/// the reason (`ours`, pieces of its warning), Mosquitto logs OpenSSL's (`theirs`), and the
/// remote never read the bridge's CONNECT.
fn refused_by(local: &BrokerProcess, remote: &Side, ours: &[&str], theirs: &str) {
    match local.kind {
        Kind::Ours => refused(local, remote, ours),
        Kind::Mosquitto => {
            local.wait_for_log(theirs, 0);
            remote_refused(&remote.broker, local);
        }
    }
}

/// A CA directory as a user makes one: each CA as `caN.crt`, then (`rehash`) the
/// `openssl rehash` links named by subject hash (`f88ed8fa.0`), which are what OpenSSL looks
/// certificates up by in a capath.
fn ca_dir(dir: &TempDir, name: &str, cas: &[&Path], rehash: bool) -> PathBuf {
    let path = dir.0.join(name);
    std::fs::create_dir(&path).unwrap();
    for (i, ca) in cas.iter().enumerate() {
        std::fs::copy(ca, path.join(format!("ca{i}.crt"))).unwrap();
    }
    if rehash {
        let out = run_tool(Command::new("openssl").arg("rehash").arg(&path), "openssl");
        assert!(out.status.success(), "openssl rehash: {}", String::from_utf8_lossy(&out.stderr));
    }
    path
}

/// `bridge_capath DIR`. Mosquitto (OpenSSL) finds a CA in the directory only through its hash
/// link; ours reads every PEM file in it, so an un-hashed directory is where they differ. An
/// empty directory: Mosquitto starts and is refused at each handshake; ours starts too, with
/// the bridge not started and the reason logged (it could never connect).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_capath_finds_the_ca_in_a_directory() {
    let dir = TempDir::new("bridge-capath");
    let pki = Pki::new(&dir);
    let listener = tls_listener(&pki.server_cert, &pki.server_key, "");
    let hashed = ca_dir(&dir, "hashed", &[&pki.ca], true);
    let unhashed = ca_dir(&dir, "unhashed", &[&pki.ca], false);
    let other = ca_dir(&dir, "other", &[&pki.other_ca], true);
    let empty = ca_dir(&dir, "empty", &[], true);
    let capath = |p: &Path| format!("bridge_capath {}\n", conf_path(p));
    for kind in BOTH {
        let remote = Side::start(Kind::Mosquitto, &dir, &listener);
        let local = bridge(kind, &local_dir("capath", kind), &remote, &capath(&hashed));
        relays_both_ways(&local, &remote).await;
        drop((local, remote));

        let remote = Side::start(Kind::Mosquitto, &dir, &listener);
        let local = bridge(kind, &local_dir("capath-other", kind), &remote, &capath(&other));
        refused_by(&local, &remote, &["TLS handshake", "UnknownIssuer"], "certificate verify failed");
        drop((local, remote));

        let remote = Side::start(Kind::Mosquitto, &dir, &listener);
        let local = bridge(kind, &local_dir("capath-unhashed", kind), &remote, &capath(&unhashed));
        match kind {
            Kind::Mosquitto => refused_by(&local, &remote, &[], "certificate verify failed"),
            Kind::Ours => relays_both_ways(&local, &remote).await,
        }
        drop((local, remote));

        let remote = Side::start(Kind::Mosquitto, &dir, &listener);
        let local = bridge(kind, &local_dir("capath-empty", kind), &remote, &capath(&empty));
        match kind {
            Kind::Mosquitto => refused_by(&local, &remote, &[], "certificate verify failed"),
            Kind::Ours => {
                local.wait_for_log("Error: bridge cloud: bridge_cafile / bridge_capath hold no CA certificate", 0);
                // The broker itself serves on.
                RawClient::connect(local.addr(), "still-served").await.disconnect().await;
            }
        }
    }
}

/// `bridge_tls_version` is the lowest version the bridge offers, in both bridges (Mosquitto's
/// sets OpenSSL's `SSL_OP_NO_*` below it; Mosquitto's listener `tls_version` is a minimum
/// too): `tlsv1.3` gets through a listener of `tls_version tlsv1.2` and `tlsv1.2` through one
/// of `tlsv1.3`; only a server that stops at TLS 1.2 (`s_server -tls1_2`) refuses `tlsv1.3`,
/// while `tlsv1.2` completes the handshake with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_tls_version_is_the_lowest_version_offered() {
    let dir = TempDir::new("bridge-tls-version");
    let pki = Pki::new(&dir);
    let ca = format!("bridge_cafile {}\n", conf_path(&pki.ca));
    for kind in BOTH {
        for (listener, bridge_version) in [("tlsv1.2", "tlsv1.3"), ("tlsv1.3", "tlsv1.2")] {
            let lines = tls_listener(&pki.server_cert, &pki.server_key, &format!("tls_version {listener}\n"));
            let remote = Side::start(Kind::Mosquitto, &dir, &lines);
            let security = format!("{ca}bridge_tls_version {bridge_version}\n");
            let local = bridge(kind, &local_dir("tls-version", kind), &remote, &security);
            relays_both_ways(&local, &remote).await;
        }

        let server = SServer::start(&pki, &["-tls1_2"]);
        let local = server.bridge(kind, &format!("{ca}bridge_tls_version tlsv1.3\n"));
        server.wait_for_log("unsupported protocol");
        match kind {
            Kind::Mosquitto => local.wait_for_log("alert protocol version", 0),
            Kind::Ours => server.our_bridge_failed(&local, &["TLS handshake", "ProtocolVersion"]),
        }
        drop((local, server));

        let server = SServer::start(&pki, &["-tls1_2"]);
        let local = server.bridge(kind, &format!("{ca}bridge_tls_version tlsv1.2\n"));
        // The handshake is done (s_server names the suite agreed), in TLS 1.2 (a TLS 1.3 suite
        // is named TLS_...).
        server.wait_for_log("CIPHER is ");
        assert!(server.logs().contains("CIPHER is ECDHE-"), "{kind:?}: not TLS 1.2:\n{}", server.logs());
        drop(local);
    }
}

/// `bridge_bind_address 127.0.0.2`: the remote sees our bridge come from 127.0.0.2. Debian's
/// Mosquitto 2.0.11 ignores the option: its bridge connects in two steps (threaded name
/// lookup, then `net__try_connect_step2`), and the second never binds, so the remote sees
/// 127.0.0.1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_bind_address_is_the_address_the_remote_sees() {
    let dir = TempDir::new("bridge-bind");
    for kind in BOTH {
        let remote = Side::start(Kind::Mosquitto, &dir, "listener SECURE 127.0.0.1\n");
        let local = bridge(kind, &local_dir("bind", kind), &remote, "bridge_bind_address 127.0.0.2\n");
        relays_both_ways(&local, &remote).await;
        let logs = remote.broker.logs();
        let line = logs.lines().find(|l| l.contains(&format!(" as {BRIDGE_ID} ("))).unwrap_or_default();
        let from = match kind {
            Kind::Mosquitto => " connected from 127.0.0.1:",
            Kind::Ours => " connected from 127.0.0.2:",
        };
        assert!(line.contains(from), "{kind:?}: the remote should log the bridge as{from}\n{line}");
    }
}

/// `bridge_alpn mqtt`: the bridge offers "mqtt" in the handshake (`s_server -alpn mqtt`
/// prints the list the client advertised), and still connects to Mosquitto's listener, which
/// has no ALPN (OpenSSL then ignores the client's list).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_alpn_is_offered_and_optional_for_the_server() {
    let dir = TempDir::new("bridge-alpn");
    let pki = Pki::new(&dir);
    let security = format!("bridge_cafile {}\nbridge_alpn mqtt\n", conf_path(&pki.ca));
    for kind in BOTH {
        let remote = Side::start(Kind::Mosquitto, &dir, &tls_listener(&pki.server_cert, &pki.server_key, ""));
        let local = bridge(kind, &local_dir("alpn", kind), &remote, &security);
        relays_both_ways(&local, &remote).await;
        drop((local, remote));

        let server = SServer::start(&pki, &["-alpn", "mqtt"]);
        let local = server.bridge(kind, &security);
        server.wait_for_log("ALPN protocols selected: mqtt");
        assert!(
            server.logs().contains("ALPN protocols advertised by the client: mqtt\n"),
            "{kind:?} should offer exactly mqtt:\n{}",
            server.logs()
        );
        drop(local);
    }
}

/// `bridge_max_packet_size 200` on an MQTT 5 bridge, as Mosquitto 2.0.11 means it (its
/// manual: "restrict the size of messages sent to a remote bridge"): the CONNECT has no
/// Maximum Packet Size, a 1000-byte message comes in, and a 1000-byte message going out is
/// dropped (the 50-byte one after it goes), with a line in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_max_packet_size_limits_one_direction() {
    let dir = TempDir::new("bridge-max-packet");
    let security = "bridge_protocol_version mqttv50\nbridge_max_packet_size 200\ntopic big/# in 0\n";
    let big = vec![b'x'; 1000];
    for kind in BOTH {
        let remote = Side::start(Kind::Mosquitto, &dir, "listener SECURE 127.0.0.1\n");
        let local = bridge(kind, &local_dir("max-packet", kind), &remote, security);
        relays_both_ways(&local, &remote).await;
        // The big/# SUBSCRIBE comes after in/#'s, which relays_both_ways waited for.
        remote.broker.wait_for_log(&format!("{BRIDGE_ID} 0 big/#"), 0);

        let mut reader = RawClient::connect(local.addr(), "big-reader").await;
        reader.subscribe(&[("big/#", QoS::AtMostOnce)]).await;
        let mut sender = RawClient::connect(remote.broker.addr(), "big-sender").await;
        sender.send(publish("big/large", &big, QosPid::AtMostOnce, false)).await;
        sender.send(publish("big/small", &[b'y'; 50], QosPid::AtMostOnce, false)).await;
        // In order on each connection: the first to arrive says whether the large one came.
        let first = reader.recv_publish().await;
        assert_eq!((first.topic.as_str(), first.payload.len()), ("big/large", 1000), "{kind:?}: in");

        let mut reader = RawClient::connect(remote.broker.addr(), "up-reader").await;
        reader.subscribe(&[("out/#", QoS::AtMostOnce)]).await;
        let mut sender = RawClient::connect(local.addr(), "up-sender").await;
        sender.send(publish("out/large", &big, QosPid::AtLeastOnce(pid(3)), false)).await;
        sender.send(publish("out/small", &[b'y'; 50], QosPid::AtLeastOnce(pid(4)), false)).await;
        let first = reader.recv_publish().await;
        assert_eq!((first.topic.as_str(), first.payload.len()), ("out/small", 50), "{kind:?}: out");
        local.wait_for_log(
            match kind {
                Kind::Mosquitto => "Dropping too large outgoing PUBLISH for local.pi7",
                Kind::Ours => "dropped 1 message(s) for the remote over bridge_max_packet_size 200",
            },
            0,
        );
    }
}

/// `openssl s_server` as a TLS remote that speaks no MQTT: it prints what a client's handshake
/// offered (the ALPN list, the cipher agreed) or why it failed, then the bytes it read.
struct SServer {
    port: u16,
    child: Child,
    log: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl SServer {
    /// Starts it on a free port with the PKI's server certificate and `args`; returns once it
    /// accepts.
    fn start(pki: &Pki, args: &[&str]) -> Self {
        for _ in 0..9 {
            let server = Self::try_start(pki, args);
            if server.wait_for_any(&["ACCEPT", "Address already in use"]) == 0 {
                return server;
            }
        }
        panic!("s_server: every free port was taken before it could listen on it");
    }

    fn try_start(pki: &Pki, args: &[&str]) -> Self {
        let port = free_port();
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-cert"])
            .args([&pki.server_cert, Path::new("-key"), &pki.server_key])
            .args(args)
            // Held open: s_server stops when its input ends.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run openssl s_server ({e}); install Debian's openssl"));
        let log = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().unwrap());
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().unwrap());
        for stream in [out, err] {
            let sink = log.clone();
            std::thread::spawn(move || {
                // Lines as bytes: the client's MQTT packets are printed raw.
                let mut reader = BufReader::new(stream);
                let mut line = Vec::new();
                while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                    sink.0
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(String::from_utf8_lossy(&line).into_owned());
                    sink.1.notify_all();
                    line.clear();
                }
            });
        }
        Self { port, child, log }
    }

    /// Starts `kind` bridging to this server with `security` (only a CONNECT goes out, which
    /// s_server prints without a line end: the tests wait for the handshake's lines instead).
    fn bridge(&self, kind: Kind, security: &str) -> BrokerProcess {
        let conf = setup::bridging_conf(self.port, security);
        BrokerProcess::start(kind, &local_dir("s-server", kind), &conf)
    }

    fn logs(&self) -> String {
        self.log.0.lock().unwrap().concat()
    }

    fn wait_for_log(&self, needle: &str) {
        self.wait_for_any(&[needle]);
    }

    fn wait_for_any(&self, needles: &[&str]) -> usize {
        let deadline = Instant::now() + PATIENCE;
        let (lines, changed) = &*self.log;
        let mut lines = lines.lock().unwrap();
        loop {
            if let Some(which) = lines.iter().find_map(|l| needles.iter().position(|n| l.contains(n))) {
                return which;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "s_server did not print any of {needles:?}:\n{}", lines.concat());
            lines = changed.wait_timeout(lines, left).unwrap().0;
        }
    }

    /// Our bridge's warning about this server names each of `why`.
    fn our_bridge_failed(&self, local: &BrokerProcess, why: &[&str]) {
        let line = format!("Warning: bridge cloud could not connect to 127.0.0.1:{}: ", self.port);
        local.wait_for_log(&line, 0);
        let logs = local.logs();
        let failure = logs.lines().find(|l| l.contains(&line)).unwrap_or_default();
        for piece in why {
            assert!(failure.contains(piece), "our log line should say {piece:?}:\n{failure}");
        }
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
