//! More Mosquitto options on our broker (issue 24), each run through Debian's Mosquitto 2.0.11
//! and ours with the same config text and the same client actions: both must answer the same.
//!
//! `upgrade_outgoing_qos`: a message goes out at the subscription's QoS, not the lower of the
//! publication's and the subscription's.

mod support;

use mqtt_lab_broker::codec::{QoS, QosPid, SubAckCode};
use support::brokers::{BrokerProcess, both};
use support::{RawClient, TempDir, publish};

/// The QoS of what subscribers at QoS 0, 1 and 2 receive of a QoS 0 publication, live and then
/// retained (sent on subscribing), on one broker.
async fn delivered_qos(broker: &BrokerProcess) -> Vec<QoS> {
    let mut got = Vec::new();
    for (i, sub_qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce].into_iter().enumerate() {
        let topic = format!("lab/upgrade/{i}");
        let mut sub = RawClient::connect(broker.addr(), &format!("upgrade-sub-{i}")).await;
        assert_eq!(sub.subscribe(&[(&topic, sub_qos)]).await, [SubAckCode::Granted(sub_qos)], "{:?}", broker.kind);
        let mut publisher = RawClient::connect(broker.addr(), &format!("upgrade-pub-{i}")).await;
        publisher.send(publish(&topic, b"live", QosPid::AtMostOnce, true)).await;
        let live = sub.recv_publish().await;
        assert_eq!(&live.payload[..], b"live", "{:?}", broker.kind);
        got.push(live.qos_pid.qos());
        publisher.disconnect().await;
        sub.disconnect().await;
        let mut late = RawClient::connect(broker.addr(), &format!("upgrade-late-{i}")).await;
        assert_eq!(late.subscribe(&[(&topic, sub_qos)]).await, [SubAckCode::Granted(sub_qos)], "{:?}", broker.kind);
        let retained = late.recv_publish().await;
        assert!(retained.retain, "{:?}: the retained copy", broker.kind);
        got.push(retained.qos_pid.qos());
        late.disconnect().await;
    }
    got
}

/// With `upgrade_outgoing_qos true`, both brokers send a QoS 0 publication at the subscriber's
/// QoS (live and retained); with `false` (the default), at QoS 0 to every subscriber.
#[tokio::test]
async fn upgrade_outgoing_qos_delivers_at_the_subscription_qos_as_mosquitto() {
    let dir = TempDir::new("options-upgrade-qos");
    let q = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];
    for (setting, expected) in [("true", vec![q[0], q[0], q[1], q[1], q[2], q[2]]), ("false", vec![q[0]; 6])] {
        let conf = format!("listener PORT 127.0.0.1\nallow_anonymous true\nupgrade_outgoing_qos {setting}\n");
        let [mosquitto, ours] = both(&dir, &conf);
        let theirs = delivered_qos(&mosquitto).await;
        assert_eq!(theirs, expected, "Mosquitto with upgrade_outgoing_qos {setting}");
        assert_eq!(delivered_qos(&ours).await, theirs, "ours with upgrade_outgoing_qos {setting}");
    }
}

/// A value that is not a boolean stops both at the line.
#[test]
fn upgrade_outgoing_qos_needs_a_boolean_in_both() {
    let dir = TempDir::new("options-upgrade-qos-bad");
    let conf = dir.file("bad.conf", "listener 0 127.0.0.1\nupgrade_outgoing_qos yes\n");
    for (program, needle) in [("mosquitto", "bad.conf:2"), (env!("CARGO_BIN_EXE_mqtt-lab-broker"), "bad.conf line 2")] {
        let out = std::process::Command::new(program)
            .arg("-c")
            .arg(&conf)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program} ({e}); install Debian's mosquitto"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{program} started on upgrade_outgoing_qos yes");
        assert!(err.contains(needle) && err.contains("upgrade_outgoing_qos"), "{program}: {err}");
    }
}
