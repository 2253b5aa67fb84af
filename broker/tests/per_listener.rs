//! `per_listener_settings true` against Debian's Mosquitto 2.0.11 (issue 24): both brokers start
//! from the same config text, the same clients connect to each listener, and each answer
//! (CONNACK codes, SUBACKs, what arrives where, assigned client ids) must be the same. Each
//! listener has its own passwords, ACL, anonymous access and client id prefix; retained
//! messages are shared; SIGHUP reloads each listener's files.

mod support;

use std::net::SocketAddr;

use mqtt_lab_broker::codec::v5::{Properties, Property, ReasonCode};
use mqtt_lab_broker::codec::{Connect, Packet, Protocol, QoS, QosPid, SubAckCode, Subscribe, TopicFilter};
use support::brokers::{BrokerProcess, Kind, free_port, path};
use support::v5client::{Client, connect_of, opts, publish_of};
use support::{TempDir, mosquitto_passwd, pid};

/// Listener `PORT`: alice with a password, an ACL; the second listener: anonymous clients,
/// no ACL, its own `auto_id_prefix`.
fn config(dir: &TempDir, second: u16) -> String {
    let pw = dir.0.join("passwd");
    let acl = dir.file("acl", "user alice\ntopic readwrite lab/alice/#\ntopic read lab/+/x\n");
    format!(
        "per_listener_settings true\n\
         listener PORT 127.0.0.1\npassword_file {}\nacl_file {}\n\
         listener {second} 127.0.0.1\nallow_anonymous true\nauto_id_prefix second-\n",
        path(&pw),
        path(&acl)
    )
}

fn login(protocol: Protocol, id: &str, user: Option<&str>, password: &str) -> Connect {
    Connect {
        username: user.map(str::to_owned),
        password: user.map(|_| bytes::Bytes::copy_from_slice(password.as_bytes())),
        ..connect_of(protocol, id, Vec::new())
    }
}

/// The CONNACK reason of a connection attempt, and the client when it was accepted.
async fn attempt(addr: SocketAddr, connect: Connect) -> (ReasonCode, Option<Client>) {
    let (client, ack) = Client::connect(addr, connect).await;
    (ack.reason, (ack.reason == ReasonCode::Success).then_some(client))
}

async fn subscribe(c: &mut Client, filters: &[&str]) -> Vec<SubAckCode> {
    let filters = filters.iter().map(|f| (TopicFilter::new(*f).unwrap(), opts(QoS::AtMostOnce))).collect();
    c.send(&Packet::Subscribe(Subscribe { pid: pid(1), properties: Properties::default(), filters })).await;
    match c.recv().await {
        Packet::SubAck(ack) => ack.codes,
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

/// The topics that reached `c` before a PINGRESP.
async fn topics(c: &mut Client) -> Vec<String> {
    let packets = c.sync().await;
    packets
        .into_iter()
        .filter_map(|p| if let Packet::Publish(p) = p { Some(p.topic.to_string()) } else { None })
        .collect()
}

/// The scenario on one broker: every answer in order, as text to compare.
async fn scenario(broker: &BrokerProcess, second: SocketAddr) -> Vec<String> {
    let first = broker.addr();
    let mut seen = Vec::new();
    let mut note = |what: &str, answer: String| seen.push(format!("{what}: {answer}"));
    let alice = |id| login(Protocol::V311, id, Some("alice"), "secret");

    // Who may connect where.
    note("anonymous on the first", format!("{:?}", attempt(first, login(Protocol::V311, "a1", None, "")).await.0));
    let wrong = login(Protocol::V311, "a2", Some("alice"), "wrong");
    note("wrong password on the first", format!("{:?}", attempt(first, wrong).await.0));
    note("a user on the second (no password file)", format!("{:?}", attempt(second, alice("a3")).await.0));
    let (code, reader) = attempt(first, alice("reader")).await;
    note("alice on the first", format!("{code:?}"));
    let mut reader = reader.expect("alice logs in on the first listener");
    let (code, watcher) = attempt(second, login(Protocol::V311, "watcher", None, "")).await;
    note("anonymous on the second", format!("{code:?}"));
    let mut watcher = watcher.expect("anonymous clients log in on the second listener");

    // The first listener's ACL holds its clients; the second has none.
    note("alice subscribes", format!("{:?}", subscribe(&mut reader, &["lab/+/x", "lab/alice/#"]).await));
    note("watcher subscribes", format!("{:?}", subscribe(&mut watcher, &["#"]).await));
    for t in ["lab/alice/x", "lab/bob/x", "lab/bob/y", "other/z"] {
        watcher.send(&publish_of(t, b"w", QosPid::AtMostOnce, false, Vec::new())).await;
    }
    // Each sync proves its client's PUBLISHes were routed before what comes next.
    let mut watched = topics(&mut watcher).await;
    for t in ["lab/alice/y", "lab/bob/y"] {
        reader.send(&publish_of(t, b"r", QosPid::AtMostOnce, false, Vec::new())).await;
    }
    note("alice received", format!("{:?}", topics(&mut reader).await));
    watched.extend(topics(&mut watcher).await);
    note("watcher received", format!("{watched:?}"));

    // Retained messages are the broker's, not a listener's.
    reader.send(&publish_of("lab/alice/kept", b"k", QosPid::AtMostOnce, true, Vec::new())).await;
    reader.sync().await;
    let mut late = attempt(second, login(Protocol::V311, "late", None, "")).await.1.expect("anonymous");
    subscribe(&mut late, &["lab/alice/kept"]).await;
    note("retained on the second", format!("{:?}", topics(&mut late).await));

    // Each listener's auto_id_prefix names MQTT 5 clients that sent no id.
    for (which, addr, user) in [("first", first, Some("alice")), ("second", second, None)] {
        let (_, ack) = Client::connect(addr, login(Protocol::V5, "", user, "secret")).await;
        let assigned = ack.properties.iter().find_map(|p| match p {
            Property::AssignedClientIdentifier(id) => id.split_inclusive('-').next().map(str::to_owned),
            _ => None,
        });
        note(&format!("id assigned on the {which}"), format!("{:?} {assigned:?}", ack.reason));
    }
    seen
}

/// Starts `kind` on `conf` (in which `SECOND` stands for a second free port); answers the
/// broker and the second listener's address.
fn start(kind: Kind, dir: &TempDir, conf: impl Fn(u16) -> String) -> (BrokerProcess, SocketAddr) {
    let second = free_port();
    let broker = BrokerProcess::start(kind, dir, &conf(second));
    (broker, SocketAddr::from(([127, 0, 0, 1], second)))
}

#[tokio::test]
async fn each_listener_has_its_own_auth_and_acl_as_in_mosquitto() {
    let dir = TempDir::new("per-listener-auth");
    mosquitto_passwd(&dir.0.join("passwd"), &[("alice", "secret")]);
    let mut answers = Vec::new();
    for kind in [Kind::Mosquitto, Kind::Ours] {
        let (broker, second) = start(kind, &dir, |second| config(&dir, second));
        answers.push(scenario(&broker, second).await);
    }
    let expected = [
        "anonymous on the first: NotAuthorized",
        "wrong password on the first: NotAuthorized",
        "a user on the second (no password file): Success",
        "alice on the first: Success",
        "anonymous on the second: Success",
        "alice subscribes: [Granted(AtMostOnce), Granted(AtMostOnce)]",
        "watcher subscribes: [Granted(AtMostOnce)]",
        // Her ACL lets alice read lab/+/x and lab/alice/#, and write lab/alice/# only.
        "alice received: [\"lab/alice/x\", \"lab/bob/x\", \"lab/alice/y\"]",
        "watcher received: [\"lab/alice/x\", \"lab/bob/x\", \"lab/bob/y\", \"other/z\", \"lab/alice/y\"]",
        "retained on the second: [\"lab/alice/kept\"]",
        "id assigned on the first: Success Some(\"auto-\")",
        "id assigned on the second: Success Some(\"second-\")",
    ];
    assert_eq!(answers[0], expected, "Mosquitto 2.0.11");
    assert_eq!(answers[1], answers[0], "ours against Mosquitto");
}

/// SIGHUP reloads the first listener's password file: the old password stops working, the new
/// one works, on both brokers.
#[tokio::test]
async fn a_reload_rebuilds_each_listener_s_passwords() {
    let dir = TempDir::new("per-listener-reload");
    for kind in [Kind::Mosquitto, Kind::Ours] {
        mosquitto_passwd(&dir.0.join("passwd"), &[("alice", "secret")]);
        let (broker, second) = start(kind, &dir, |second| config(&dir, second));
        let alice = |pw| login(Protocol::V311, "a", Some("alice"), pw);
        assert_eq!(attempt(broker.addr(), alice("secret")).await.0, ReasonCode::Success, "{kind:?}");
        mosquitto_passwd(&dir.0.join("passwd"), &[("alice", "changed")]);
        broker.reload();
        assert_eq!(attempt(broker.addr(), alice("secret")).await.0, ReasonCode::NotAuthorized, "{kind:?}");
        assert_eq!(attempt(broker.addr(), alice("changed")).await.0, ReasonCode::Success, "{kind:?}");
        let anonymous = login(Protocol::V311, "b", None, "");
        assert_eq!(attempt(second, anonymous).await.0, ReasonCode::Success, "{kind:?}: the second listener still");
    }
}

/// Before the first `listener` line the options are the default listener's (the one `port`
/// sets). A default listener that sets no `allow_anonymous` lets anonymous clients in on
/// Mosquitto 2.0.11 (its "not set" value passes the anonymous check): ours refuses them on
/// purpose, as it does on every configured listener and as Mosquitto's own documentation
/// says (allow_anonymous defaults to false once a listener is configured).
#[tokio::test]
async fn options_before_the_first_listener_belong_to_the_default_listener() {
    let dir = TempDir::new("per-listener-default");
    let cases = [
        // (config, anonymous on the default listener, anonymous on PORT) per broker
        (
            "per_listener_settings true\nport SECOND\nallow_anonymous true\nlistener PORT 127.0.0.1\n",
            ["Success"; 2],
            ["NotAuthorized"; 2],
        ),
        (
            "per_listener_settings true\nallow_anonymous true\nport SECOND\nlistener PORT 127.0.0.1\n",
            ["Success"; 2],
            ["NotAuthorized"; 2],
        ),
        (
            "per_listener_settings true\nport SECOND\nlistener PORT 127.0.0.1\nallow_anonymous true\n",
            ["Success", "NotAuthorized"],
            ["Success"; 2],
        ),
    ];
    for (conf, on_default, on_port) in cases {
        for (i, kind) in [Kind::Mosquitto, Kind::Ours].into_iter().enumerate() {
            let (broker, default) = start(kind, &dir, |second| conf.replace("SECOND", &second.to_string()));
            let anonymous = || login(Protocol::V311, "anon", None, "");
            let got = [attempt(default, anonymous()).await.0, attempt(broker.addr(), anonymous()).await.0];
            let got = got.map(|code| format!("{code:?}"));
            assert_eq!(got, [on_default[i], on_port[i]], "{kind:?} on:\n{conf}");
        }
    }
}

/// `allow_anonymous true` before the first listener, with no default listener: it applies to
/// no listener, on both brokers.
#[tokio::test]
async fn an_option_before_the_first_listener_without_a_default_listener_applies_nowhere() {
    let dir = TempDir::new("per-listener-nowhere");
    let conf = "per_listener_settings true\nallow_anonymous true\nlistener PORT 127.0.0.1\n";
    for kind in [Kind::Mosquitto, Kind::Ours] {
        let broker = BrokerProcess::start(kind, &dir, conf);
        let code = attempt(broker.addr(), login(Protocol::V311, "anon", None, "")).await.0;
        assert_eq!(code, ReasonCode::NotAuthorized, "{kind:?}");
    }
}

/// `per_listener_settings true` after a security option stops both brokers at its line;
/// after a `listener` line alone, or `false` anywhere, it does not.
#[test]
fn per_listener_settings_must_come_before_the_security_options() {
    let dir = TempDir::new("per-listener-order");
    let bad = [
        ("allow_anonymous true\nper_listener_settings true\nlistener 0 127.0.0.1\n", 2),
        ("listener 0 127.0.0.1\nacl_file /nonexistent\nper_listener_settings true\n", 3),
    ];
    for (text, line) in bad {
        let conf = dir.file("order.conf", text);
        for (program, at) in [("mosquitto", ":"), (env!("CARGO_BIN_EXE_mqtt-lab-broker"), " line ")] {
            let out = std::process::Command::new(program)
                .arg("-c")
                .arg(&conf)
                .output()
                .unwrap_or_else(|e| panic!("cannot run {program} ({e}); install Debian's mosquitto"));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{program} started on:\n{text}");
            assert!(err.contains(&format!("order.conf{at}{line}")), "{program}: {err}");
        }
    }
    for good in [
        "listener PORT 127.0.0.1\nper_listener_settings true\n",
        "allow_anonymous true\nper_listener_settings false\nlistener PORT 127.0.0.1\n",
    ] {
        for kind in [Kind::Mosquitto, Kind::Ours] {
            // Returns once the broker says it runs; panics if it stops first.
            let broker = BrokerProcess::start(kind, &dir, good);
            assert!(!broker.logs().contains("per_listener_settings"), "{kind:?} on:\n{good}");
        }
    }
}

/// SIGHUP reloads the first listener's ACL, and it reaches a client connected before: alice,
/// subscribed to `lab/#`, receives `lab/other/z` once the new ACL lets her read it, and still
/// not `lab/secret/z`. The
/// second listener's clients stay unrestricted.
#[tokio::test]
async fn a_reload_gives_connected_clients_their_listener_s_new_acl() {
    let dir = TempDir::new("per-listener-acl-reload");
    mosquitto_passwd(&dir.0.join("passwd"), &[("alice", "secret")]);
    let mut answers = Vec::new();
    for kind in [Kind::Mosquitto, Kind::Ours] {
        let (broker, second) = start(kind, &dir, |second| config(&dir, second));
        let mut alice =
            attempt(broker.addr(), login(Protocol::V311, "alice", Some("alice"), "secret")).await.1.unwrap();
        let mut watcher = attempt(second, login(Protocol::V311, "watcher", None, "")).await.1.unwrap();
        let mut seen = vec![format!("{:?}", subscribe(&mut alice, &["lab/#"]).await)];
        subscribe(&mut watcher, &["lab/#"]).await;
        for round in ["before", "after"] {
            if round == "after" {
                dir.file("acl", "user alice\ntopic readwrite lab/other/#\n");
                broker.reload();
            }
            for t in ["lab/other/z", "lab/secret/z"] {
                watcher.send(&publish_of(t, b"w", QosPid::AtMostOnce, false, Vec::new())).await;
            }
            let watched = topics(&mut watcher).await;
            seen.push(format!("{round}: alice {:?}, watcher {watched:?}", topics(&mut alice).await));
        }
        answers.push(seen);
    }
    let expected = [
        "[Granted(AtMostOnce)]",
        "before: alice [], watcher [\"lab/other/z\", \"lab/secret/z\"]",
        // Her new ACL, not none: lab/secret/z still does not reach her.
        "after: alice [\"lab/other/z\"], watcher [\"lab/other/z\", \"lab/secret/z\"]",
    ];
    assert_eq!(answers[0], expected, "Mosquitto 2.0.11");
    assert_eq!(answers[1], answers[0], "ours against Mosquitto");
}

/// Each TLS-PSK listener looks identities up in its own `psk_file`: an identity of the first
/// listener's file does not get through on the second, on both brokers.
#[test]
fn each_psk_listener_has_its_own_psk_file_as_in_mosquitto() {
    let dir = TempDir::new("per-listener-psk");
    let first = dir.file("first.psk", "room1:00112233445566778899aabbccddeeff\n");
    let second = dir.file("second.psk", "room2:ffeeddccbbaa99887766554433221100\n");
    let conf = |port: u16| {
        format!(
            "per_listener_settings true\n\
             listener PORT 127.0.0.1\npsk_hint first\npsk_file {}\nallow_anonymous true\n\
             listener {port} 127.0.0.1\npsk_hint second\npsk_file {}\nallow_anonymous true\n",
            path(&first),
            path(&second)
        )
    };
    let mut answers = Vec::new();
    for kind in [Kind::Mosquitto, Kind::Ours] {
        let (broker, second) = start(kind, &dir, conf);
        let mut seen = Vec::new();
        for (port, identity, key) in [
            (broker.port, "room1", "00112233445566778899aabbccddeeff"),
            (second.port(), "room1", "00112233445566778899aabbccddeeff"),
            (second.port(), "room2", "ffeeddccbbaa99887766554433221100"),
            (broker.port, "room2", "ffeeddccbbaa99887766554433221100"),
        ] {
            let mut cmd = std::process::Command::new("mosquitto_pub");
            cmd.args(["-V", "mqttv311", "-h", "127.0.0.1", "-p", &port.to_string(), "-t", "t", "-m", "x"]);
            cmd.args(["--psk-identity", identity, "--psk", key]);
            let out = support::run_tool(&mut cmd, "mosquitto-clients");
            seen.push(format!(
                "{identity} on {}: {}",
                if port == broker.port { "first" } else { "second" },
                out.status.success()
            ));
        }
        answers.push(seen);
    }
    let expected = ["room1 on first: true", "room1 on second: false", "room2 on second: true", "room2 on first: false"];
    assert_eq!(answers[0], expected, "Mosquitto 2.0.11");
    assert_eq!(answers[1], answers[0], "ours against Mosquitto");
}
