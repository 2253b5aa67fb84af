//! What the TLS bridge tests share: a test PKI (rcgen), a side broker with a plain listener for
//! the test's own clients next to the secured one the bridge uses, the bridge section, and the
//! two verdicts: the bridge relays both ways, or it never reached the remote's MQTT layer.

use std::path::PathBuf;

use mqtt_lab_broker::codec::{Packet, QoS, QosPid};

use crate::support::brokers::{BrokerProcess, Kind, free_port, path};
use crate::support::{RawClient, TempDir, pid, publish};

/// The bridge's client id on the remote. Nothing else in a test uses it, so a remote log
/// without it is a remote that never read the bridge's CONNECT.
pub const BRIDGE_ID: &str = "pi7";
/// The bridge's password on the remote: never to be seen in a log.
pub const PASSWORD: &str = "s3cr3t-bridge-pw";
/// The pre-shared key both sides hold (hex, as in a psk_file and in `bridge_psk`).
pub const PSK_KEY: &str = "0123456789abcdef0123456789abcdef";
pub const PSK_IDENTITY: &str = "bridge1";

/// PEM files: a CA, the server's certificate for 127.0.0.1 and localhost, one for another host
/// name only, a client certificate, all signed by the CA; and a second CA that signed nothing
/// of these.
pub struct Pki {
    pub ca: PathBuf,
    pub other_ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub elsewhere_cert: PathBuf,
    pub elsewhere_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// The host name `elsewhere_cert` names (and the only one).
pub const ELSEWHERE: &str = "broker.elsewhere.example";

impl Pki {
    /// Fresh keys each call. Files are world-readable: Mosquitto started as root drops to the
    /// `mosquitto` user before it reads them.
    pub fn new(dir: &TempDir) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        let issuer = |name: &str| {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
        };
        let ca = issuer("MQTT Lab bridge test CA");
        let other = issuer("Some other CA");
        let leaf = |names: Vec<String>, common: &str| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(names).unwrap();
            params.distinguished_name.push(DnType::CommonName, common);
            let cert = params.signed_by(&key, &ca).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let server = leaf(vec!["127.0.0.1".into(), "localhost".into()], "broker");
        let elsewhere = leaf(vec![ELSEWHERE.into()], ELSEWHERE);
        let client = leaf(Vec::new(), BRIDGE_ID);
        Self {
            ca: dir.file("ca.pem", &ca.pem()),
            other_ca: dir.file("other-ca.pem", &other.pem()),
            server_cert: dir.file("server.pem", &server.0),
            server_key: dir.file("server.key", &server.1),
            elsewhere_cert: dir.file("elsewhere.pem", &elsewhere.0),
            elsewhere_key: dir.file("elsewhere.key", &elsewhere.1),
            client_cert: dir.file("client.pem", &client.0),
            client_key: dir.file("client.key", &client.1),
        }
    }
}

/// A broker with a plain listener (`PORT`) for the test's clients, then `secure` as the second
/// listener's lines; `SECURE` in them stands for that listener's port.
pub struct Side {
    pub broker: BrokerProcess,
    pub secure: u16,
}

impl Side {
    pub fn start(kind: Kind, dir: &TempDir, secure: &str) -> Self {
        // Found free like PORT; only another test picking the same random port in between
        // could take it (see free_port).
        let port = free_port();
        let conf = format!(
            "log_type all\nlistener PORT 127.0.0.1\nallow_anonymous true\n{}\n",
            secure.replace("SECURE", &port.to_string())
        );
        Self { broker: BrokerProcess::start(kind, dir, &conf), secure: port }
    }
}

/// A psk_file holding `key` for [`PSK_IDENTITY`].
pub fn psk_file(dir: &TempDir, key: &str) -> PathBuf {
    dir.file("psk_file", &format!("{PSK_IDENTITY}:{key}\n"))
}

/// A PSK listener's lines (`psk_file` is global in both brokers).
pub fn psk_listener(psk_file: &std::path::Path) -> String {
    format!(
        "listener SECURE 127.0.0.1\npsk_hint bridge-test\nuse_identity_as_username false\npsk_file {}\n",
        path(psk_file)
    )
}

/// A certificate TLS listener's lines; `extra` adds e.g. `require_certificate true`.
pub fn tls_listener(cert: &std::path::Path, key: &std::path::Path, extra: &str) -> String {
    format!("listener SECURE 127.0.0.1\ncertfile {}\nkeyfile {}\n{extra}", path(cert), path(key))
}

/// The bridging broker's config: a plain listener and a bridge to 127.0.0.1:`port` with
/// `security` lines; `out/#` goes out and `in/#` comes in, both at QoS 1.
pub fn bridging_conf(port: u16, security: &str) -> String {
    format!(
        "log_type all
listener PORT 127.0.0.1
allow_anonymous true
connection cloud
address 127.0.0.1:{port}
remote_clientid {BRIDGE_ID}
remote_username bridge
remote_password {PASSWORD}
restart_timeout 1
topic out/# out 1
topic in/# in 1
{security}"
    )
}

/// PSK lines for a bridge that holds `key`.
pub fn psk_bridge(key: &str) -> String {
    format!("bridge_identity {PSK_IDENTITY}\nbridge_psk {key}\n")
}

/// The next PUBLISH, acknowledged; its topic, payload and QoS.
async fn next(client: &mut RawClient) -> (String, String, QoS) {
    let p = client.recv_publish().await;
    if let QosPid::AtLeastOnce(id) = p.qos_pid {
        client.send(Packet::PubAck(id.into())).await;
    }
    (p.topic.as_str().to_owned(), String::from_utf8_lossy(&p.payload).into_owned(), p.qos_pid.qos())
}

/// Waits until the bridge said on `remote` that it is connected (its retained state topic).
pub async fn wait_connected(remote: &BrokerProcess) {
    let mut watcher = RawClient::connect(remote.addr(), "state-watcher").await;
    watcher.subscribe(&[(&format!("$SYS/broker/connection/{BRIDGE_ID}/state"), QoS::AtLeastOnce)]).await;
    while next(&mut watcher).await.1 != "1" {}
}

/// Publishes `out/...` at QoS 1 on `local` and `in/...` at QoS 1 on `remote`, and expects each
/// on the other side. `out` goes first: it crosses the bridge connection after the bridge's
/// SUBSCRIBE, so once it arrived the remote holds the `in/#` subscription.
pub async fn relays_both_ways(local: &BrokerProcess, side: &Side) {
    let remote = &side.broker;
    let what = format!("{:?} bridged to {:?}", local.kind, remote.kind);
    wait_connected(remote).await;
    came_through(side);
    let mut reader = RawClient::connect(remote.addr(), "out-reader").await;
    reader.subscribe(&[("out/#", QoS::AtLeastOnce)]).await;
    let mut sender = RawClient::connect(local.addr(), "out-sender").await;
    sender.send(publish("out/pv", b"7.5 kW", QosPid::AtLeastOnce(pid(1)), false)).await;
    assert!(matches!(sender.recv().await, Packet::PubAck(_)), "{what}: PUBACK for out/pv");
    assert_eq!(next(&mut reader).await, ("out/pv".into(), "7.5 kW".into(), QoS::AtLeastOnce), "{what}: out");

    let mut lamp = RawClient::connect(local.addr(), "in-reader").await;
    lamp.subscribe(&[("in/#", QoS::AtLeastOnce)]).await;
    let mut teacher = RawClient::connect(remote.addr(), "in-sender").await;
    teacher.send(publish("in/lamp", b"on", QosPid::AtLeastOnce(pid(2)), false)).await;
    assert!(matches!(teacher.recv().await, Packet::PubAck(_)), "{what}: PUBACK for in/lamp");
    assert_eq!(next(&mut lamp).await, ("in/lamp".into(), "on".into(), QoS::AtLeastOnce), "{what}: in");
}

/// The bridge's CONNECT came through the secured listener, under `remote_username`: the PSK
/// identity or certificate did not become the user name (`use_identity_as_username false`).
fn came_through(side: &Side) {
    let connected = format!(" as {BRIDGE_ID} (");
    // The state message can reach the watcher before the test has read the log line that the
    // broker wrote before it.
    side.broker.wait_for_log(&connected, 0);
    let logs = side.broker.logs();
    let line = logs.lines().find(|l| l.contains(&connected)).unwrap_or_default();
    let peer = line.split(" connected from ").nth(1).and_then(|rest| rest.split(' ').next());
    let Some(peer) = peer else { panic!("{:?} logged no CONNECT from the bridge:\n{logs}", side.broker.kind) };
    let through = format!("New connection from {peer} on port {}.", side.secure);
    assert!(
        logs.contains(&through),
        "{:?}: the bridge did not come through port {}:\n{logs}",
        side.broker.kind,
        side.secure
    );
    assert!(
        line.ends_with("u'bridge')."),
        "{:?}: the bridge's user should be remote_username:\n{line}",
        side.broker.kind
    );
}

/// Our bridge on `local` failed toward `remote` for the reason `why` (each a piece of our log
/// line), and `remote` never got as far as reading its CONNECT: its log never names the bridge's
/// client id, and the password is in neither log.
pub fn refused(local: &BrokerProcess, remote: &Side, why: &[&str]) {
    let line = format!("Warning: bridge cloud could not connect to 127.0.0.1:{}: ", remote.secure);
    local.wait_for_log(&line, 0);
    let logs = local.logs();
    let failure = logs.lines().find(|l| l.contains(&line)).unwrap_or_default();
    for piece in why {
        assert!(failure.contains(piece), "our log line should say {piece:?}:\n{failure}\n\n{logs}");
    }
    remote_refused(&remote.broker, local);
    assert!(!logs.contains("Bridge cloud connected"), "our bridge connected:\n{logs}");
}

/// `remote` ended a secured connection before MQTT: it logged the failed connection, never the
/// bridge's client id, and neither log holds the password.
pub fn remote_refused(remote: &BrokerProcess, local: &BrokerProcess) {
    // Mosquitto: "Client <unknown> disconnected: Protocol error." the first time, "Client
    // connection from ... failed: ..." after; ours: "Client connection from ... failed: ...".
    remote.wait_for_any(&["Client <unknown> disconnected", "Client connection from"], 0);
    let theirs = remote.logs();
    // No test client connects to a refusing remote: any CONNECT it read was the bridge's.
    for sign in [BRIDGE_ID, "New bridge connected", "New client connected"] {
        assert!(!theirs.contains(sign), "{:?} read the bridge's CONNECT ({sign:?}):\n{theirs}", remote.kind);
    }
    for (kind, logs) in [(remote.kind, &theirs), (local.kind, &local.logs())] {
        assert!(!logs.contains(PASSWORD), "{kind:?} logged the bridge's password:\n{logs}");
    }
}

/// Starts `kind` bridging to `remote` with `security`.
pub fn bridge(kind: Kind, dir: &TempDir, remote: &Side, security: &str) -> BrokerProcess {
    BrokerProcess::start(kind, dir, &bridging_conf(remote.secure, security))
}
