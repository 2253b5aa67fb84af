//! `check_retain_source true` after a restart (issue 24), through Debian's Mosquitto 2.0.11 and
//! ours with `persistence true`: a retained message keeps its publisher's client id and user
//! name in the store, so the ACL rules of that user still decide whether it is sent.
//! Mosquitto saves both in mosquitto.db (`source_id`, `source_username`). `user root` keeps
//! Mosquitto, started as root, from dropping to `mosquitto`, who could not write the test's
//! directory (ours keeps the current user without a `user` line).

mod support;

use bytes::Bytes;
use mqtt_lab_broker::codec::{Connect, Packet, QoS, QosPid};
use support::brokers::{BrokerProcess, Kind, path};
use support::{RawClient, TempDir, connect_packet, mosquitto_passwd, pid, publish};

/// Alice may write under her user rules only: a message whose user name was lost would be
/// checked as an anonymous publisher's, who may not.
const ACL: &str = "user alice\ntopic readwrite lab/retain/#\nuser bob\ntopic read lab/retain/#\n";

fn login(id: &str, user: &str) -> Connect {
    let mut c = connect_packet(id, true, 60);
    c.username = Some(user.into());
    c.password = Some(Bytes::from_static(b"secret"));
    c
}

/// Whether a new subscriber of bob's receives the retained message.
async fn bob_receives(broker: &BrokerProcess) -> bool {
    let (mut bob, _) = RawClient::connect_with(broker.addr(), login("bob", "bob")).await;
    bob.subscribe(&[("lab/retain/#", QoS::AtLeastOnce)]).await;
    let got = bob.sync().await.into_iter().any(|p| matches!(p, Packet::Publish(p) if &p.payload[..] == b"on"));
    bob.disconnect().await;
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retained_message_keeps_its_publisher_s_user_name_across_a_restart_as_mosquitto() {
    let dir = TempDir::new("retain-source-restart");
    let passwd = dir.0.join("passwd");
    mosquitto_passwd(&passwd, &[("alice", "secret"), ("bob", "secret")]);
    let acl = dir.file("acl", ACL);
    let conf = format!(
        "listener PORT 127.0.0.1\nuser root\nallow_anonymous false\npassword_file {}\nacl_file {}\ncheck_retain_source true\npersistence true\npersistence_location {}/\n",
        path(&passwd),
        path(&acl),
        path(&dir.0)
    );
    for kind in [Kind::Mosquitto, Kind::Ours] {
        let broker = BrokerProcess::start(kind, &dir, &conf);
        let (mut alice, _) = RawClient::connect_with(broker.addr(), login("alice", "alice")).await;
        alice.send(publish("lab/retain/lamp", b"on", QosPid::AtLeastOnce(pid(1)), true)).await;
        assert_eq!(alice.recv().await, Packet::PubAck(pid(1).into()), "{kind:?}");
        alice.disconnect().await;
        assert!(bob_receives(&broker).await, "{kind:?}: before the restart");
        broker.terminate();
        let broker = BrokerProcess::start(kind, &dir, &conf);
        assert!(bob_receives(&broker).await, "{kind:?}: after the restart, alice's rules still let it go");
    }
}
