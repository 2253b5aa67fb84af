//! `check_retain_source` (issue 24) through Debian's Mosquitto 2.0.11 and ours, same config
//! text, same client bytes.
//!
//! With `true`, a retained message goes to a new subscriber only while its publisher (the
//! client id and user name it had) may still publish to the topic: a reload that takes the
//! right away withholds it, one that gives it back sends it again (it is not deleted). With
//! `false`, and with the option absent, it always goes: 2.0.11 behaves as false by default,
//! although mosquitto.conf(5) calls true the default.

mod support;

use bytes::Bytes;
use mqtt_lab_broker::codec::{Connect, Packet, QoS, QosPid};
use support::brokers::{BrokerProcess, both, path};
use support::{RawClient, TempDir, connect_packet, mosquitto_passwd, pid, publish};

const WRITER: &str = "user alice\ntopic readwrite lab/retain/#\nuser bob\ntopic read lab/retain/#\n";
const NO_WRITER: &str = "user alice\ntopic read lab/retain/#\nuser bob\ntopic read lab/retain/#\n";

fn login(id: &str, user: &str) -> Connect {
    let mut c = connect_packet(id, true, 60);
    c.username = Some(user.into());
    c.password = Some(Bytes::from_static(b"secret"));
    c
}

/// Whether a new subscriber of bob's receives the retained message.
async fn bob_receives(broker: &BrokerProcess, id: &str) -> bool {
    let (mut bob, _) = RawClient::connect_with(broker.addr(), login(id, "bob")).await;
    bob.subscribe(&[("lab/retain/#", QoS::AtLeastOnce)]).await;
    let got = bob.sync().await.into_iter().any(|p| matches!(p, Packet::Publish(p) if &p.payload[..] == b"on"));
    bob.disconnect().await;
    got
}

/// Alice stores a retained message and leaves; bob subscribes while alice may write, after a
/// reload takes her write right away, and after one gives it back.
async fn answers(broker: &BrokerProcess, acl: &std::path::Path) -> [bool; 3] {
    std::fs::write(acl, WRITER).unwrap();
    broker.reload();
    let (mut alice, _) = RawClient::connect_with(broker.addr(), login("alice-1", "alice")).await;
    alice.send(publish("lab/retain/lamp", b"on", QosPid::AtLeastOnce(pid(1)), true)).await;
    assert_eq!(alice.recv().await, Packet::PubAck(pid(1).into()), "{:?}", broker.kind);
    alice.disconnect().await;
    let before = bob_receives(broker, "bob-1").await;
    std::fs::write(acl, NO_WRITER).unwrap();
    broker.reload();
    let revoked = bob_receives(broker, "bob-2").await;
    std::fs::write(acl, WRITER).unwrap();
    broker.reload();
    let restored = bob_receives(broker, "bob-3").await;
    [before, revoked, restored]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_retain_source_withholds_a_retained_message_whose_publisher_lost_write_access_as_mosquitto() {
    let dir = TempDir::new("limits-retain-source");
    let passwd = dir.0.join("passwd");
    mosquitto_passwd(&passwd, &[("alice", "secret"), ("bob", "secret")]);
    let acl = dir.file("acl", WRITER);
    for (option, expected) in [
        ("check_retain_source true\n", [true, false, true]),
        ("check_retain_source false\n", [true, true, true]),
        ("", [true, true, true]),
    ] {
        let conf = format!(
            "listener PORT 127.0.0.1\nallow_anonymous false\npassword_file {}\nacl_file {}\n{option}",
            path(&passwd),
            path(&acl)
        );
        let [mosquitto, ours] = both(&dir, &conf);
        let theirs = answers(&mosquitto, &acl).await;
        assert_eq!(theirs, expected, "Mosquitto 2.0.11 with {option:?}");
        assert_eq!(answers(&ours, &acl).await, theirs, "ours with {option:?}");
    }
}

/// A value that is not a boolean stops both at the line; 1 and 0 are booleans to both.
#[test]
fn check_retain_source_needs_a_boolean_in_both() {
    let dir = TempDir::new("limits-retain-source-bad");
    let conf = dir.file("bad.conf", "listener 0 127.0.0.1\ncheck_retain_source on\n");
    for (program, needle) in [("mosquitto", "check_retain_source"), (env!("CARGO_BIN_EXE_mqtt-lab-broker"), "line 2")] {
        let out = std::process::Command::new("timeout").arg("10").arg(program).arg("-c").arg(&conf).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && out.status.code() != Some(124), "{program} started on check_retain_source on");
        assert!(err.contains(needle) && err.contains("check_retain_source"), "{program}: {err}");
    }
    for value in ["1", "0"] {
        drop(both(&dir, &format!("listener PORT 127.0.0.1\ncheck_retain_source {value}\n")));
    }
}
