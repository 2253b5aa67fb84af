//! Mosquitto configurations on our broker (issue 24): what Mosquitto accepts starts here too,
//! and what cannot make sense here (C plugins) stops startup with what to use instead. Each
//! config is run through both binaries, as a user would start them.

mod support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mqtt_lab_broker::codec::{QoS, QosPid, SubAckCode};
use support::brokers::{BrokerProcess, Kind, both};
use support::{RawClient, TempDir, publish};

/// Runs `program -c conf`, which should exit by itself (a config error); kills it and fails
/// when it is still running after `limit`, as a broker that starts anyway would hang the run.
fn refused(program: &str, conf: &std::path::Path, limit: Duration) -> Output {
    let mut child = Command::new(program)
        .arg("-c")
        .arg(conf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}); install Debian's mosquitto"));
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} started on a config it should refuse: {}", conf.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "{program} exited successfully on {}", conf.display());
    out
}

const OURS: &str = env!("CARGO_BIN_EXE_mqtt-lab-broker");

/// `plugin`, `auth_plugin` and their option families load C shared libraries in Mosquitto;
/// ours stops at the line and names what covers the same needs here.
#[test]
fn plugin_options_stop_startup_naming_the_line_and_what_to_use_instead() {
    let dir = TempDir::new("compat-plugin");
    for line in [
        "plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
        "auth_plugin /usr/lib/mosquitto-go-auth.so",
        "plugin_opt_config_file /var/lib/mosquitto/dynamic-security.json",
        "auth_opt_backends files",
    ] {
        let conf = dir.file("plugin.conf", &format!("listener 0 127.0.0.1\n# a school config\n{line}\n"));
        let err = String::from_utf8_lossy(&refused(OURS, &conf, Duration::from_secs(20)).stderr).into_owned();
        let option = line.split_whitespace().next().unwrap();
        assert!(err.contains("plugin.conf line 3"), "{line}: {err}");
        assert!(err.contains(&format!("\"{option}\"")), "{line}: {err}");
        for instead in ["password_file", "acl_file", "psk_file", "C shared libraries"] {
            assert!(err.contains(instead), "{line}: the error should mention {instead}: {err}");
        }
    }
}

/// Another unimplemented option keeps its own message: the plugin advice is for plugins only.
#[test]
fn the_plugin_advice_is_not_given_for_other_options() {
    let dir = TempDir::new("compat-not-plugin");
    let conf = dir.file("engine.conf", "listener 0 127.0.0.1\ntls_engine x\n");
    let err = String::from_utf8_lossy(&refused(OURS, &conf, Duration::from_secs(20)).stderr).into_owned();
    assert!(err.contains("engine.conf line 2") && err.contains("\"tls_engine\""), "{err}");
    assert!(!err.contains("password_file"), "{err}");
}

/// Both brokers start on `autosave_interval` and `autosave_on_changes` and serve a client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autosave_options_are_accepted_and_the_broker_serves() {
    let dir = TempDir::new("compat-autosave");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\npersistence false\nautosave_interval 1800\nautosave_on_changes false\n";
    for broker in both(&dir, conf) {
        let mut sub = RawClient::connect(broker.addr(), "autosave-sub").await;
        assert_eq!(sub.subscribe(&[("lab/autosave", QoS::AtMostOnce)]).await, [SubAckCode::Granted(QoS::AtMostOnce)]);
        let mut publisher = RawClient::connect(broker.addr(), "autosave-pub").await;
        publisher.send(publish("lab/autosave", b"saved", QosPid::AtMostOnce, false)).await;
        let got = sub.recv_publish().await;
        assert_eq!((got.topic.as_str(), &got.payload[..]), ("lab/autosave", &b"saved"[..]), "{:?}", broker.kind);
        if broker.kind == Kind::Ours {
            let logs = broker.logs();
            let notes = logs.lines().filter(|l| l.contains("autosave_interval and autosave_on_changes")).count();
            assert_eq!(notes, 1, "one line about the autosave options:\n{logs}");
            assert!(logs.contains("commits every change"), "{logs}");
        }
    }
}

/// The values Mosquitto refuses, refused by both: an empty interval, and on_changes that is
/// not a boolean. (Mosquitto reads the interval with atoi, so any other text starts.)
#[test]
fn autosave_values_mosquitto_refuses_are_refused_by_both() {
    let dir = TempDir::new("compat-autosave-bad");
    for (line, needle) in
        [("autosave_interval", "autosave_interval"), ("autosave_on_changes yes", "autosave_on_changes")]
    {
        let conf = dir.file("bad.conf", &format!("listener 0 127.0.0.1\n{line}\n"));
        let mosquitto = refused("mosquitto", &conf, Duration::from_secs(20));
        assert!(String::from_utf8_lossy(&mosquitto.stderr).contains("bad.conf:2"), "Mosquitto on {line:?}");
        let err = String::from_utf8_lossy(&refused(OURS, &conf, Duration::from_secs(20)).stderr).into_owned();
        assert!(err.contains("bad.conf line 2") && err.contains(needle), "{line}: {err}");
    }
    let ok = "listener PORT 127.0.0.1\nautosave_interval 12x\n";
    for kind in [Kind::Mosquitto, Kind::Ours] {
        BrokerProcess::start(kind, &dir, ok);
    }
}
