//! A broker on port 0 and a raw MQTT client that speaks exact packets, for behaviour tests.
#![allow(dead_code, clippy::missing_panics_doc)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mqtt_lab_broker::Broker;
use mqtt_lab_broker::Config;
use mqtt_lab_broker::codec::v5::{Properties, ReasonCode};
use mqtt_lab_broker::codec::{
    ConnAck, Connect, Decoded, LastWill, Packet, PacketId, Protocol, Publish, QoS, QosPid, SubAck, SubAckCode,
    SubOptions, Subscribe, TopicFilter, TopicName, decode,
};
use mqtt_lab_broker::log::{LogDest, LogSink};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

pub mod brokers;
/// The app tests' cross-process lock for one-time set-ups, shared.
#[path = "../../../tests/support/dir_lock.rs"]
pub mod dir_lock;
/// The app tests' Mosquitto starter and free-port rule, shared.
#[path = "../../../tests/support/mosquitto.rs"]
#[allow(dead_code)]
pub mod mosquitto;
/// node and MQTT.js / aedes for the WebSocket tests, shared with the app's tests.
#[path = "../../../tests/support/node.rs"]
#[allow(dead_code)]
pub mod node;
pub mod persistent;
pub mod python;
pub mod rabbit;
pub mod v5client;

/// Bounds a wait that only a failing test reaches.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct TestBroker {
    pub addr: SocketAddr,
    pub logs: Arc<Mutex<Vec<String>>>,
    /// Woken on every log line, so tests can wait for one without polling.
    logged: Arc<Notify>,
    broker: Broker,
}

impl TestBroker {
    pub async fn start() -> Self {
        Self::with(|_| {}).await
    }

    /// Starts a broker on 127.0.0.1:0 with anonymous access, after `edit` changes the config.
    pub async fn with(edit: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config { allow_anonymous: Some(true), ..Config::default() };
        let logs = Arc::new(Mutex::new(Vec::new()));
        let logged = Arc::new(Notify::new());
        let (sink, wake) = (logs.clone(), logged.clone());
        config.log.verbose();
        config.log.set_dest(LogDest::Sink(LogSink(Arc::new(move |_, line: &str| {
            sink.lock().unwrap().push(line.to_owned());
            wake.notify_waiters();
        }))));
        edit(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let settings = config.listeners.first().cloned().unwrap_or_default();
        let broker = Broker::start(config).unwrap();
        broker.listen(listener, &settings).unwrap();
        Self { addr, logs, logged, broker }
    }

    /// A connection over an in-memory pipe: for paused-time tests, where a loopback socket
    /// would let the paused clock jump ahead while bytes are in flight.
    pub fn pipe(&self) -> RawClient {
        let (client, server) = tokio::io::duplex(1 << 16);
        self.serve(server);
        RawClient { stream: Box::new(client), buf: BytesMut::new() }
    }

    /// Serves a connection over `server`, the broker's end of a pipe the test made.
    pub fn serve(&self, server: impl Io + 'static) {
        self.broker.accept_stream(server, "127.0.0.1:1".parse().unwrap());
    }

    /// Connects over a pipe and expects CONNACK 0.
    pub async fn pipe_connect(&self, connect: Connect) -> RawClient {
        let mut c = self.pipe();
        c.handshake(connect).await;
        c
    }

    /// Reads the password, ACL and PSK files again, as SIGHUP does.
    pub fn reload(&self) {
        self.broker.reload();
    }

    pub fn figures(&self) -> mqtt_lab_broker::broker::RouterFigures {
        self.broker.figures()
    }

    /// The running broker, for its inspection API (issue 22).
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn log_contains(&self, needle: &str) -> bool {
        self.logs.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    /// Waits until a log line contains `needle`, e.g. the line for a subscription made by an
    /// external client.
    pub async fn wait_for_log(&self, needle: &str) {
        let wait = async {
            loop {
                let next = self.logged.notified();
                if self.log_contains(needle) {
                    return;
                }
                next.await;
            }
        };
        tokio::time::timeout(PATIENCE, wait)
            .await
            .unwrap_or_else(|_| panic!("no log line with {needle:?}:\n{}", self.logs()));
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Stops the broker and waits for every connection task to end.
    pub async fn stop(self) {
        tokio::time::timeout(PATIENCE, self.broker.shutdown()).await.expect("broker stops");
    }
}

/// A fresh directory for one test's files, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mqtt-lab-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Writes a file in the directory and returns its path.
    pub fn file(&self, name: &str, text: &str) -> std::path::PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a command to completion and panics, naming the Debian package, if it cannot start.
pub fn run_tool(cmd: &mut std::process::Command, package: &str) -> std::process::Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}); install Debian's {package}"))
}

/// A password file at `path` written by Debian's real mosquitto_passwd, one `-b` call a user.
pub fn mosquitto_passwd(path: &std::path::Path, users: &[(&str, &str)]) {
    for (i, (user, password)) in users.iter().enumerate() {
        let mut cmd = std::process::Command::new("mosquitto_passwd");
        if i == 0 {
            cmd.arg("-c");
        }
        let out = run_tool(cmd.arg("-b").arg(path).args([user, password]), "mosquitto");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

pub fn topic(s: &str) -> TopicName {
    TopicName::new(s).unwrap()
}

pub fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

pub fn connect_packet(client_id: &str, clean: bool, keep_alive: u16) -> Connect {
    Connect {
        bridge: false,
        protocol: Protocol::V311,
        clean_session: clean,
        keep_alive,
        properties: Properties::default(),
        client_id: client_id.into(),
        will: None,
        username: None,
        password: None,
    }
}

pub fn will(t: &str, payload: &'static [u8], qos: QoS, retain: bool) -> LastWill {
    LastWill { topic: topic(t), payload: Bytes::from_static(payload), qos, retain, properties: Properties::default() }
}

pub fn publish(t: &str, payload: &[u8], qos_pid: QosPid, retain: bool) -> Packet {
    Packet::Publish(Publish {
        dup: false,
        qos_pid,
        retain,
        topic: topic(t),
        payload: Bytes::copy_from_slice(payload),
        properties: Properties::default(),
    })
}

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A client that sends and expects exact packets, over TCP or an in-memory pipe, as an MQTT
/// 3.1.1 client encodes and decodes them (support/v5client.rs speaks MQTT 5.0).
pub struct RawClient {
    stream: Box<dyn Io>,
    buf: BytesMut,
}

impl RawClient {
    /// A client over an already connected stream (e.g. a TLS client stream).
    pub fn over(stream: impl Io + 'static) -> Self {
        Self { stream: Box::new(stream), buf: BytesMut::new() }
    }

    pub async fn open(addr: SocketAddr) -> Self {
        Self { stream: Box::new(TcpStream::connect(addr).await.unwrap()), buf: BytesMut::new() }
    }

    /// Sends CONNECT and expects CONNACK 0; returns the session present flag.
    pub async fn handshake(&mut self, connect: Connect) -> bool {
        self.send(Packet::Connect(Box::new(connect))).await;
        match self.recv().await {
            Packet::ConnAck(ConnAck { session_present, reason: ReasonCode::Success, .. }) => session_present,
            other => panic!("expected CONNACK 0, got {other:?}"),
        }
    }

    /// Connects and expects CONNACK 0; returns the client and the session present flag.
    pub async fn connect_with(addr: SocketAddr, connect: Connect) -> (Self, bool) {
        let mut c = Self::open(addr).await;
        let present = c.handshake(connect).await;
        (c, present)
    }

    pub async fn connect(addr: SocketAddr, client_id: &str) -> Self {
        Self::connect_with(addr, connect_packet(client_id, true, 60)).await.0
    }

    pub async fn send(&mut self, packet: Packet) {
        self.send_raw(&packet.to_bytes(Protocol::V311).unwrap()).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Sends a packet; false when the connection is gone (e.g. the broker was killed).
    pub async fn try_send(&mut self, packet: Packet) -> bool {
        self.stream.write_all(&packet.to_bytes(Protocol::V311).unwrap()).await.is_ok()
    }

    /// The next packet, or `None` when the broker closes the connection.
    pub async fn try_recv(&mut self) -> Option<Packet> {
        loop {
            match decode(&self.buf, usize::MAX, Protocol::V311).expect("the broker sends well-formed packets") {
                Decoded::Packet(p, n) => {
                    let _ = self.buf.split_to(n);
                    return Some(p);
                }
                Decoded::Incomplete => {}
            }
            let read =
                tokio::time::timeout(PATIENCE, self.stream.read_buf(&mut self.buf)).await.expect("no packet in time");
            match read {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    pub async fn recv(&mut self) -> Packet {
        self.try_recv().await.expect("connection closed while a packet was expected")
    }

    pub async fn recv_publish(&mut self) -> Publish {
        match self.recv().await {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    /// Expects the broker to close the connection with no further packet.
    pub async fn expect_closed(&mut self) {
        if let Some(p) = self.try_recv().await {
            panic!("expected the connection to close, got {p:?}");
        }
    }

    pub async fn subscribe(&mut self, filters: &[(&str, QoS)]) -> Vec<SubAckCode> {
        let filters = filters.iter().map(|(f, q)| (TopicFilter::new(*f).unwrap(), SubOptions::from(*q))).collect();
        self.send(Packet::Subscribe(Subscribe { pid: pid(1), properties: Properties::default(), filters })).await;
        match self.recv().await {
            Packet::SubAck(SubAck { pid: p, codes, .. }) if p == pid(1) => codes,
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    /// A PINGREQ/PINGRESP round trip: everything the broker sent before is now in our buffer.
    pub async fn sync(&mut self) -> Vec<Packet> {
        self.send(Packet::PingReq).await;
        let mut before = Vec::new();
        loop {
            match self.recv().await {
                Packet::PingResp => return before,
                other => before.push(other),
            }
        }
    }

    pub async fn disconnect(mut self) {
        self.send(Packet::disconnect()).await;
        self.expect_closed().await;
    }
}
