//! Differential tests: Debian's Mosquitto 2.0.11 and our broker binary start from the same
//! mosquitto.conf text, get the same client bytes, and must give the same answers where
//! security is at stake. Where we differ on purpose (README's "differs from Mosquitto"), the
//! test asserts both answers, so a change on either side shows.

mod support;

use std::process::Command;

use bytes::Bytes;
use mqtt_lab_broker::codec::v5::Properties;
use mqtt_lab_broker::codec::{LastWill, Packet, QoS, QosPid};
use support::brokers::{BrokerProcess, Kind, both, path};
use support::{RawClient, TempDir, connect_packet, mosquitto_passwd, pid, publish, run_tool, topic};

/// The course's password file, written by Debian's mosquitto_passwd.
fn passwd(dir: &TempDir, users: &[(&str, &str)]) -> std::path::PathBuf {
    let file = dir.0.join("passwd");
    mosquitto_passwd(&file, users);
    file
}

async fn connack(broker: &BrokerProcess, connect: mqtt_lab_broker::codec::Connect) -> u8 {
    let mut c = RawClient::open(broker.addr()).await;
    c.send(Packet::Connect(Box::new(connect))).await;
    match c.recv().await {
        Packet::ConnAck(connack) => connack.code() as u8,
        other => panic!("{:?}: expected CONNACK, got {other:?}", broker.kind),
    }
}

fn login(id: &str, user: &str, password: Option<&[u8]>) -> mqtt_lab_broker::codec::Connect {
    let mut c = connect_packet(id, true, 60);
    c.username = Some(user.into());
    c.password = password.map(Bytes::copy_from_slice);
    c
}

/// An account whose hash is that of the empty password never logs in, with or without the
/// password field; blank lines, whitespace-only lines and `#` comments anywhere in the file
/// neither break the other accounts nor create one (a commented-out user stays out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_empty_password_and_comment_lines_in_the_password_file() {
    let dir = TempDir::new("diff-passwd");
    let file = passwd(&dir, &[("empty", ""), ("btsiot1", "btsiotpass1"), ("btsiot2", "btsiotpass2")]);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    let (empty, one, two) = (lines.next().unwrap(), lines.next().unwrap(), lines.next().unwrap());
    std::fs::write(
        &file,
        format!("\n# the course's users\n{empty}\n\n   \n\t\n#{two}\n{one}\n  # indented: comment\n# end\n"),
    )
    .unwrap();
    let conf = format!("listener PORT 127.0.0.1\nallow_anonymous false\npassword_file {}\n", path(&file));
    let cases: [(&str, Option<&[u8]>); 6] = [
        ("empty", None),
        ("empty", Some(b"")),
        ("empty", Some(b"x")),
        ("btsiot1", Some(b"btsiotpass1")),
        ("btsiot2", Some(b"btsiotpass2")),
        ("# indented", Some(b" comment")),
    ];
    let mut answers = Vec::new();
    for broker in both(&dir, &conf) {
        let mut codes = Vec::new();
        for (user, password) in cases {
            codes.push(connack(&broker, login("c1", user, password)).await);
        }
        answers.push(codes);
    }
    assert_eq!(answers[0], [5, 5, 5, 0, 5, 5], "Mosquitto");
    assert_eq!(answers[1], answers[0], "ours, case by case as Mosquitto");
}

/// A will whose payload is over `message_size_limit` is refused at CONNECT with 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_will_over_message_size_limit_is_refused_at_connect() {
    let dir = TempDir::new("diff-will-size");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nmessage_size_limit 10\n";
    for broker in both(&dir, conf) {
        let mut answers = Vec::new();
        for payload in [&b"0123456789"[..], b"0123456789A"] {
            let mut c = connect_packet("will-size", true, 60);
            c.will = Some(LastWill {
                topic: topic("lamp/status"),
                payload: Bytes::copy_from_slice(payload),
                qos: QoS::AtMostOnce,
                retain: false,
                properties: Properties::default(),
            });
            answers.push(connack(&broker, c).await);
        }
        assert_eq!(answers, [0, 5], "{:?}: 10 bytes accepted, 11 refused", broker.kind);
    }
}

/// Messages queued for an offline persistent session whose read access a reload (SIGHUP)
/// takes away are not delivered when it comes back; those still readable are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acl_reload_reaches_messages_already_queued_for_an_offline_session() {
    let dir = TempDir::new("diff-acl-reload");
    let file = passwd(&dir, &[("btsiot1", "btsiotpass1"), ("btsiot2", "btsiotpass2")]);
    let before = "user btsiot1\ntopic read PV/#\ntopic read lamp/#\n\nuser btsiot2\ntopic write #\n";
    let acl = dir.file("acl", before);
    let conf = format!(
        "listener PORT 127.0.0.1\nallow_anonymous false\npassword_file {}\nacl_file {}\n",
        path(&file),
        path(&acl)
    );
    let mut answers = Vec::new();
    for broker in both(&dir, &conf) {
        std::fs::write(&acl, before).unwrap();
        broker.reload();
        let mut reader = login("btsiot-reader", "btsiot1", Some(b"btsiotpass1"));
        reader.clean_session = false;
        let (mut sub, _) = RawClient::connect_with(broker.addr(), reader.clone()).await;
        assert_eq!(sub.subscribe(&[("#", QoS::AtLeastOnce)]).await.len(), 1);
        sub.disconnect().await;
        let (mut publisher, _) =
            RawClient::connect_with(broker.addr(), login("btsiot-pub", "btsiot2", Some(b"btsiotpass2"))).await;
        for (i, (t, payload)) in [("PV/data", "3.2"), ("lamp/state", "50"), ("PV/sunshine", "yes")].iter().enumerate() {
            let n = i as u16 + 1;
            publisher.send(publish(t, payload.as_bytes(), QosPid::AtLeastOnce(pid(n)), false)).await;
            assert_eq!(publisher.recv().await, Packet::PubAck(pid(n).into()));
        }
        // Revoke PV/# while the reader is away.
        std::fs::write(&acl, "user btsiot1\ntopic read lamp/#\n\nuser btsiot2\ntopic write #\n").unwrap();
        broker.reload();
        let (mut back, present) = RawClient::connect_with(broker.addr(), reader).await;
        assert!(present, "{:?}: the session was kept", broker.kind);
        let received: Vec<String> = back
            .sync()
            .await
            .into_iter()
            .filter_map(|p| match p {
                Packet::Publish(p) => Some(format!("{} {}", p.topic, String::from_utf8_lossy(&p.payload))),
                _ => None,
            })
            .collect();
        answers.push(received);
    }
    assert_eq!(answers[0], ["lamp/state 50"], "Mosquitto");
    assert_eq!(answers[1], answers[0], "ours");
}

/// Takeover of a persistent session by a persistent reconnect (clean session 0 both times):
/// MQTT 3.1.1 says the old connection is closed [MQTT-3.1.4-2] and a will is published when its
/// connection closes without DISCONNECT [MQTT-3.1.2-8], so ours publishes it, before the new
/// connection's CONNACK. Mosquitto 2.0.11 does not publish it in that case (it does for a
/// clean session). README lists the difference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_will_of_a_connection_taken_over() {
    let dir = TempDir::new("diff-takeover");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\n";
    let mut answers = Vec::new();
    for broker in both(&dir, conf) {
        let mut seen = Vec::new();
        for clean in [false, true] {
            let (mut watcher, _) = RawClient::connect_with(broker.addr(), connect_packet("watcher", true, 60)).await;
            watcher.subscribe(&[("lamp/status", QoS::AtLeastOnce)]).await;
            let mut lamp = connect_packet("lamp", clean, 60);
            lamp.will = Some(LastWill {
                topic: topic("lamp/status"),
                payload: Bytes::from_static(b"offline"),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties: Properties::default(),
            });
            let (_old, _) = RawClient::connect_with(broker.addr(), lamp.clone()).await;
            let (mut new, _) = RawClient::connect_with(broker.addr(), lamp).await;
            new.send(publish("lamp/status", b"online", QosPid::AtLeastOnce(pid(1)), false)).await;
            assert_eq!(new.recv().await, Packet::PubAck(pid(1).into()));
            let mut payloads = Vec::new();
            while payloads.last().is_none_or(|p: &String| p != "online") {
                let p = watcher.recv_publish().await;
                if let QosPid::AtLeastOnce(id) = p.qos_pid {
                    watcher.send(Packet::PubAck(id.into())).await;
                }
                payloads.push(String::from_utf8_lossy(&p.payload).into_owned());
            }
            seen.push((clean, payloads));
            new.disconnect().await;
            watcher.disconnect().await;
        }
        answers.push(seen);
    }
    let (offline, online) = ("offline".to_owned(), "online".to_owned());
    assert_eq!(answers[0], [(false, vec![online.clone()]), (true, vec![offline.clone(), online.clone()])], "Mosquitto");
    assert_eq!(answers[1], [(false, vec![offline.clone(), online.clone()]), (true, vec![offline, online])], "ours");
}

const PSK_KEY: &str = "0123456789abcdef0123";

/// `use_identity_as_username` on a TLS-PSK listener: the identity is the user name, for the
/// login and the ACL, over TLS 1.3 (what mosquitto_pub negotiates) and TLS 1.2 alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_psk_identity_is_the_user_name_over_tls_1_3_and_1_2() {
    let dir = TempDir::new("diff-psk-identity");
    let psk = dir.file("psk", &format!("btsiot1:{PSK_KEY}\n"));
    let acl = dir.file("acl", "user btsiot1\ntopic readwrite PV/#\ntopic write A/#\n");
    let conf = format!(
        "listener PORT 127.0.0.1\npsk_hint btsiot\npsk_file {}\nuse_identity_as_username true\n\
         allow_anonymous false\nacl_file {}\n",
        path(&psk),
        path(&acl)
    );
    let brokers = both(&dir, &conf);
    let outcomes = tokio::task::spawn_blocking(move || {
        let mut outcomes = Vec::new();
        for broker in &brokers {
            for version in ["tlsv1.3", "tlsv1.2"] {
                let client = |tool: &str, args: &[&str]| {
                    let mut cmd = Command::new(tool);
                    cmd.args(["-h", "127.0.0.1", "-p", &broker.port.to_string(), "--tls-version", version])
                        .args(["--psk-identity", "btsiot1", "--psk", PSK_KEY, "-q", "1"])
                        .args(args);
                    run_tool(&mut cmd, "mosquitto-clients")
                };
                // Retained, so that the subscriber below needs no timing: "A/leak" is not
                // readable and sorts first; only "PV/data" may come back.
                let leak = client("mosquitto_pub", &["-i", "btsiot-a", "-r", "-t", "A/leak", "-m", "leak"]);
                let publish = client("mosquitto_pub", &["-i", "btsiot-p", "-r", "-t", "PV/data", "-m", version]);
                let read = client("mosquitto_sub", &["-i", "btsiot-s", "-t", "#", "-C", "1", "-W", "5"]);
                let text = |o: &std::process::Output| {
                    format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stdout).trim(),
                        String::from_utf8_lossy(&o.stderr).trim()
                    )
                };
                outcomes.push((
                    broker.kind,
                    version,
                    leak.status.success(),
                    publish.status.success(),
                    text(&publish),
                    text(&read),
                ));
            }
        }
        outcomes
    })
    .await
    .unwrap();
    for (kind, version, leak, published, publish_text, read) in &outcomes {
        assert!(leak, "{kind:?} {version}: a denied PUBLISH is still accepted on the wire");
        assert!(published, "{kind:?} {version}: the identity logs in as btsiot1: {publish_text}");
        assert_eq!(read, version, "{kind:?} {version}: the ACL of btsiot1 applies (PV/data only)");
    }
    assert_eq!(outcomes.iter().filter(|o| o.0 == Kind::Ours).count(), 2);
}
