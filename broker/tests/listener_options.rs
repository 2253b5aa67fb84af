//! Listener options against Debian's Mosquitto 2.0.11 (issue 24): `use_username_as_clientid`,
//! `max_connections` per listener, `socket_domain` and `bind_interface`. Each runs the same
//! config text and the same client bytes through both brokers and compares the answers.
//! (The certificate options are in listener_tls.rs.)

mod support;

use std::net::SocketAddr;

use mqtt_lab_broker::codec::v5::{Property, ReasonCode};
use mqtt_lab_broker::codec::{Connect, Packet, Protocol};
use mqtt_lab_broker::{Broker, Config};
use support::TempDir;
use support::brokers::{BrokerProcess, Kind, free_port};
use support::v5client::{Client, connect_of};

fn connect(protocol: Protocol, id: &str, user: Option<&str>) -> Connect {
    Connect { username: user.map(str::to_owned), ..connect_of(protocol, id, Vec::new()) }
}

/// What a connection attempt got: the CONNACK (reason and assigned id), or a closed socket.
async fn attempt(addr: SocketAddr, connect: Connect) -> (String, Option<Client>) {
    let Ok(mut c) = tokio::net::TcpStream::connect(addr).await.map(|s| Client::over(s, connect.protocol)) else {
        return ("refused".into(), None);
    };
    c.send(&Packet::Connect(Box::new(connect))).await;
    match c.try_recv().await {
        Some(Packet::ConnAck(ack)) => {
            let assigned = ack.properties.iter().find_map(|p| match p {
                Property::AssignedClientIdentifier(id) => Some(id.clone()),
                _ => None,
            });
            let text = format!("{:?}{}", ack.reason, assigned.map(|id| format!(" as {id}")).unwrap_or_default());
            (text, (ack.reason == ReasonCode::Success).then_some(c))
        }
        Some(other) => panic!("expected CONNACK, got {other:?}"),
        None => ("closed".into(), None),
    }
}

/// `use_username_as_clientid true`: a client without a user name is refused (5 on 3.1.1, 0x87
/// on MQTT 5); with one, its client id is the user name, so a second connection of the same
/// user takes the first one's place, whatever ids they sent.
#[tokio::test]
async fn use_username_as_clientid_as_in_mosquitto() {
    let dir = TempDir::new("listener-username-id");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nuse_username_as_clientid true\n";
    let mut answers = Vec::new();
    for kind in [Kind::Mosquitto, Kind::Ours] {
        let broker = BrokerProcess::start(kind, &dir, conf);
        let addr = broker.addr();
        let mut seen = Vec::new();
        seen.push(attempt(addr, connect(Protocol::V311, "cl", None)).await.0);
        seen.push(attempt(addr, connect(Protocol::V5, "cl", None)).await.0);
        let (code, first) = attempt(addr, connect(Protocol::V311, "x1", Some("alice"))).await;
        seen.push(code);
        let (code, _second) = attempt(addr, connect(Protocol::V311, "x2", Some("alice"))).await;
        seen.push(code);
        let taken_over = first.expect("alice connects").try_recv().await.is_none();
        seen.push(format!("first alice closed: {taken_over}"));
        seen.push(attempt(addr, connect(Protocol::V5, "", Some("bob"))).await.0);
        broker.wait_for_log(" as alice (p2, c1, k60, u'alice')", 0);
        // Each broker's words for the refusal.
        match kind {
            Kind::Mosquitto => broker.wait_for_log("Client cl disconnected, not authorised.", 0),
            Kind::Ours => broker.wait_for_log("refused with CONNACK 5: use_username_as_clientid is on", 0),
        }
        answers.push(seen);
    }
    let expected =
        ["NotAuthorized", "NotAuthorized", "Success", "Success", "first alice closed: true", "Success as bob"];
    assert_eq!(answers[0], expected, "Mosquitto 2.0.11");
    assert_eq!(answers[1], answers[0], "ours against Mosquitto");
}

/// `max_connections` counts each listener's own connections: the first takes one client, the
/// second two; a connection over the limit is closed before CONNACK.
#[tokio::test]
async fn max_connections_is_per_listener_as_in_mosquitto() {
    let dir = TempDir::new("listener-max-connections");
    let mut answers = Vec::new();
    for kind in [Kind::Mosquitto, Kind::Ours] {
        let second = free_port();
        let conf = format!(
            "listener PORT 127.0.0.1\nmax_connections 1\nallow_anonymous true\n\
             listener {second} 127.0.0.1\nmax_connections 2\nallow_anonymous true\n"
        );
        let broker = BrokerProcess::start(kind, &dir, &conf);
        let second = SocketAddr::from(([127, 0, 0, 1], second));
        let mut seen = Vec::new();
        let mut kept = Vec::new();
        for (i, addr) in [broker.addr(), broker.addr(), second, second, second].into_iter().enumerate() {
            let (code, client) = attempt(addr, connect(Protocol::V311, &format!("c{i}"), None)).await;
            seen.push(code);
            kept.extend(client);
        }
        broker.wait_for_log("Client connection from 127.0.0.1 denied: max_connections exceeded.", 0);
        answers.push(seen);
    }
    assert_eq!(answers[0], ["Success", "closed", "Success", "Success", "closed"], "Mosquitto 2.0.11");
    assert_eq!(answers[1], answers[0], "ours against Mosquitto");
}

/// Our broker in this process on `conf` (`PORT` a free port), its listeners bound by
/// [`Broker::bind`] as the binary binds them.
fn ours_in_process(conf: &str) -> (Broker, u16) {
    let port = free_port();
    let text = format!("{}\nlog_dest stderr\n", conf.replace("PORT", &port.to_string()));
    let config = Config::parse(&text, std::path::Path::new("ours.conf")).expect("the config parses");
    let listeners: Vec<_> = config.listeners.iter().map(|l| (Broker::bind(l), l.clone())).collect();
    let broker = Broker::start(config).expect("the broker starts");
    for (bound, settings) in listeners {
        broker.listen(bound.expect("the listener binds"), &settings).expect("the listener starts");
    }
    (broker, port)
}

/// Whether an MQTT client gets CONNACK 0 at `host`:`port`.
async fn reachable(host: &str, port: u16) -> bool {
    let Ok(addr) = format!("{host}:{port}").parse::<SocketAddr>() else { return false };
    attempt(addr, connect(Protocol::V311, "probe", None)).await.0 == "Success"
}

/// `socket_domain ipv4` / `ipv6` on a listener without an address: only that family answers;
/// without it both do.
#[tokio::test]
async fn socket_domain_binds_one_family_as_in_mosquitto() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: nothing to compare");
        return;
    }
    let dir = TempDir::new("listener-socket-domain");
    for (domain, expected) in
        [("socket_domain ipv4\n", [true, false]), ("socket_domain ipv6\n", [false, true]), ("", [true, true])]
    {
        let conf = format!("listener PORT\n{domain}allow_anonymous true\n");
        let mosquitto = BrokerProcess::start(Kind::Mosquitto, &dir, &conf);
        let theirs = [reachable("127.0.0.1", mosquitto.port).await, reachable("[::1]", mosquitto.port).await];
        assert_eq!(theirs, expected, "Mosquitto with {domain:?}");
        let (ours, port) = ours_in_process(&conf);
        let got = [reachable("127.0.0.1", port).await, reachable("[::1]", port).await];
        assert_eq!(got, theirs, "ours with {domain:?}");
        ours.shutdown().await;
    }
}

/// `bind_interface lo` serves loopback clients; an interface that does not exist stops both
/// brokers at startup. (Mosquitto binds the interface's addresses; ours sets SO_BINDTODEVICE,
/// which also needs no privileges since Linux 5.7: both take loopback clients only.)
#[cfg(target_os = "linux")]
#[tokio::test]
async fn bind_interface_as_in_mosquitto() {
    let dir = TempDir::new("listener-bind-interface");
    let conf = "listener PORT\nbind_interface lo\nallow_anonymous true\n";
    let mosquitto = BrokerProcess::start(Kind::Mosquitto, &dir, conf);
    assert!(reachable("127.0.0.1", mosquitto.port).await, "Mosquitto on lo");
    let (ours, port) = ours_in_process(conf);
    assert!(reachable("127.0.0.1", port).await, "ours on lo");
    ours.shutdown().await;

    let bad = dir.file("bad.conf", "listener 0\nbind_interface nosuchif0\n");
    let out = std::process::Command::new("mosquitto").arg("-c").arg(&bad).output().expect("Debian's mosquitto");
    assert!(!out.status.success(), "Mosquitto starts on a missing interface");
    let config = Config::load(&bad).expect("the config parses");
    let e = Broker::bind(&config.listeners[0]).expect_err("ours binds a missing interface");
    assert!(e.to_string().contains("nosuchif0"), "{e}");
}

/// `mount_point` before any `listener` line (on the default listener) stops both brokers at
/// its line.
#[test]
fn mount_point_needs_a_listener_line_as_in_mosquitto() {
    let dir = TempDir::new("listener-mount-default");
    let conf = dir.file("mount.conf", &format!("port {}\nmount_point lab/\n", free_port()));
    for (program, at) in [("mosquitto", "mount.conf:2"), (env!("CARGO_BIN_EXE_mqtt-lab-broker"), "mount.conf line 2")] {
        let out = support::run_tool(std::process::Command::new(program).arg("-c").arg(&conf), "mosquitto");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{program} started");
        assert!(err.contains(at) && err.contains("mount_point"), "{program}: {err}");
    }
}
