//! The bridge options seen from the remote (issue 24): Debian's Mosquitto 2.0.11 as the remote
//! with `log_type all` logs every packet a bridge sends it. Mosquitto's bridge and ours run the
//! same `connection` section (plus one option at a time) and must make the remote log the same
//! lines: the CONNECT (protocol, clean session, keepalive, user, will), the state message, the
//! UNSUBSCRIBEs and SUBSCRIBEs, and a retained message going out.

mod support;

use support::brokers::{BrokerProcess, Kind};
use support::{RawClient, TempDir, pid, publish};

const BRIDGE: &str = "connection cloud
address 127.0.0.1:REMOTE
remote_clientid pi1
topic PV/# out 1 \"\" school/pi1/
topic lamp/# in 2 esp/ cmd/
";

/// The remote's log lines about the bridge `pi1`, without timestamps, ports and packet ids.
fn about_the_bridge(log: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut follows = false;
    for line in log.lines() {
        let text = line.split_once(": ").map_or(line, |(_, t)| t);
        // Indented lines (a will's topic, the filters of a SUBSCRIBE) belong to the line before.
        let keep = text.contains("pi1") || text.starts_with("Will message") || (follows && text.starts_with('\t'));
        follows = keep;
        if keep {
            lines.push(normalize(text));
        }
    }
    lines
}

fn normalize(text: &str) -> String {
    if text.starts_with("Client pi1 closed its connection") || text.starts_with("Client pi1 disconnected due to") {
        return "Client pi1 gone.".to_owned();
    }
    text.split(' ')
        .map(|word| {
            if word.starts_with("127.0.0.1:") {
                "127.0.0.1:*".to_owned()
            } else if word.starts_with("(m")
                || word.starts_with('m') && word[1..].trim_end_matches(',').parse::<u16>().is_ok()
            {
                // A packet id: each bridge numbers its packets its own way.
                "m#".to_owned()
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The remote's view of a bridge of `kind` with `extra` lines: until its retained `PV/x` has
/// arrived, then until the bridge has gone (its broker stopped).
async fn remote_view(kind: Kind, extra: &str) -> Vec<String> {
    let dir = TempDir::new(&format!("bridge-options-{kind:?}"));
    let remote =
        BrokerProcess::start(Kind::Mosquitto, &dir, "listener PORT 127.0.0.1\nallow_anonymous true\nlog_type all\n");
    let conf = format!(
        "listener PORT 127.0.0.1\nallow_anonymous true\n{}{extra}",
        BRIDGE.replace("REMOTE", &remote.port.to_string())
    );
    let local = BrokerProcess::start(kind, &TempDir::new(&format!("bridge-options-local-{kind:?}")), &conf);
    remote.wait_for_log("Sending SUBACK to pi1", 0);
    let mut pi = RawClient::connect(local.addr(), "pv-plant").await;
    pi.send(publish("PV/x", b"5", mqtt_lab_broker::codec::QosPid::AtLeastOnce(pid(1)), true)).await;
    let _ = pi.recv().await;
    remote.wait_for_log("'school/pi1/PV/x'", 0);
    drop(pi);
    drop(local);
    // Killed, the bridge's socket closes with or without unread bytes: Mosquitto words the two
    // differently ("closed its connection", "disconnected due to ...").
    remote.wait_for_any(&["Client pi1 closed its connection", "Client pi1 disconnected due to"], 0);
    about_the_bridge(&remote.logs())
}

async fn same_as_mosquitto(extra: &str, expect: &[&str]) {
    let theirs = remote_view(Kind::Mosquitto, extra).await;
    for needle in expect {
        assert!(theirs.iter().any(|l| l.contains(needle)), "Mosquitto with {extra:?} logs {needle:?}:\n{theirs:#?}");
    }
    let ours = remote_view(Kind::Ours, extra).await;
    assert_eq!(ours, theirs, "the remote's view of our bridge with {extra:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults() {
    same_as_mosquitto(
        "",
        &["New bridge connected from 127.0.0.1:* as pi1 (p2, c0, k60)", "Will message specified", "r1"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_and_their_topic() {
    same_as_mosquitto("notifications false\n", &[]).await;
    same_as_mosquitto("notifications_local_only true\n", &[]).await;
    same_as_mosquitto("notification_topic lab/bridges/pi1\n", &["lab/bridges/pi1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retain_unsubscribe_session_keepalive_and_credentials() {
    same_as_mosquitto("bridge_outgoing_retain false\n", &["r0, m# 'school/pi1/PV/x'"]).await;
    same_as_mosquitto("bridge_attempt_unsubscribe false\n", &[]).await;
    same_as_mosquitto("cleansession true\nkeepalive_interval 30\n", &["c1, k30"]).await;
    same_as_mosquitto("remote_username student\nremote_password secret\n", &["u'student'"]).await;
    same_as_mosquitto("try_private false\n", &["New client connected"]).await;
    same_as_mosquitto("bridge_protocol_version mqttv50\n", &["p5"]).await;
}
