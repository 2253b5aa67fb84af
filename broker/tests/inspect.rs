//! The inspection API the app's topic tree uses on the built-in broker (issue 22), driven as
//! it is used: real sockets on port 0, Debian's mosquitto_pub storing retained messages under
//! several client ids, mosquitto_sub subscribers, a fresh mosquitto_sub checking what a clear
//! left, and a restart from the same persistence file.

mod support;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use mqtt_lab_broker::codec::QoS;
use mqtt_lab_broker::{InspectError, RetainedInfo, SubscriberInfo};
use support::persistent::persistent_broker;
use support::{TempDir, TestBroker};

fn mosquitto(tool: &str, port: u16, args: &[&str]) -> Command {
    let mut cmd = Command::new(tool);
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()]).args(args);
    cmd
}

/// Runs a client to completion off the async runtime and answers its output.
async fn run(mut cmd: Command) -> String {
    let output: Output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run a mosquitto client ({e}); install Debian's mosquitto-clients"));
    assert!(output.status.success(), "client failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `mosquitto_pub -r` as `client`, at QoS 1: it exits once the broker acknowledged, so the
/// message is stored by then.
async fn retain(port: u16, client: &str, topic: &str, payload: &str) {
    run(mosquitto("mosquitto_pub", port, &["-i", client, "-t", topic, "-m", payload, "-q", "1", "-r"])).await;
}

/// A fresh `mosquitto_sub -t '#' -v` that exits after `count` messages (or fails after 10 s).
/// The broker sends retained messages in topic order, so one left by a clear would show up
/// among the first lines.
async fn everything(port: u16, count: usize) -> Vec<String> {
    let count = count.to_string();
    let out = run(mosquitto("mosquitto_sub", port, &["-t", "#", "-v", "-C", &count, "-W", "10"])).await;
    out.lines().map(str::to_owned).collect()
}

/// A subscriber running in the background, killed when dropped (also when an assertion
/// fails first).
struct Subscriber(Option<Child>);

impl Subscriber {
    fn start(port: u16, args: &[&str]) -> Self {
        let child = mosquitto("mosquitto_sub", port, args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("cannot run mosquitto_sub; install Debian's mosquitto-clients");
        Self(Some(child))
    }

    /// Waits for it to exit and answers what it printed.
    async fn output(mut self) -> String {
        let child = self.0.take().expect("running");
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn sub(client: &str, qos: QoS, filter: &str, group: Option<&str>) -> SubscriberInfo {
    SubscriberInfo {
        client_id: client.to_owned(),
        qos,
        filter: filter.to_owned(),
        share_group: group.map(str::to_owned),
        online: true,
    }
}

fn publishers(found: &[(String, RetainedInfo)]) -> Vec<(&str, Option<&str>)> {
    found.iter().map(|(t, r)| (t.as_str(), r.publisher.as_deref())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_info_names_the_subscribers_and_who_stored_the_retained_message_and_when() {
    let broker = TestBroker::start().await;
    let port = broker.port();
    // Stored times are kept in whole milliseconds.
    let before = SystemTime::now() - Duration::from_millis(1);
    retain(port, "pv-logger", "PV/power", "1234").await;
    retain(port, "weather", "PV/weather/temp", "21.5").await;
    run(mosquitto("mosquitto_pub", port, &["-i", "lamp", "-t", "lamp/status", "-m", "on", "-q", "2", "-r"])).await;
    let after = SystemTime::now();

    let _watcher = Subscriber::start(port, &["-i", "watcher", "-t", "PV/#", "-q", "2"]);
    let _dashboard = Subscriber::start(port, &["-i", "dashboard", "-t", "PV/power", "-q", "1"]);
    let _logger = Subscriber::start(port, &["-i", "logger", "-V", "mqttv5", "-t", "$share/loggers/PV/+", "-q", "0"]);
    for line in ["watcher 2 PV/#", "dashboard 1 PV/power", "logger 0 $share/loggers/PV/+"] {
        broker.wait_for_log(line).await;
    }

    let info = broker.broker().topic_info("PV/power");
    assert_eq!(
        info.subscribers,
        [
            sub("dashboard", QoS::AtLeastOnce, "PV/power", None),
            sub("logger", QoS::AtMostOnce, "PV/+", Some("loggers")),
            sub("watcher", QoS::ExactlyOnce, "PV/#", None),
        ]
    );
    let retained = info.retained.expect("PV/power has a retained message");
    assert_eq!(retained.publisher.as_deref(), Some("pv-logger"));
    assert!(retained.stored_at >= before && retained.stored_at <= after, "{:?}", retained.stored_at);
    assert_eq!((retained.qos, retained.payload_len, &retained.payload[..]), (QoS::AtLeastOnce, 4, &b"1234"[..]));

    // Off the runtime, from another thread, as the app calls it.
    let inspector = broker.broker().inspector();
    let lamp = std::thread::spawn(move || inspector.topic_info("lamp/status")).join().unwrap();
    assert!(lamp.subscribers.is_empty());
    let lamp = lamp.retained.expect("lamp/status has a retained message");
    assert_eq!((lamp.publisher.as_deref(), lamp.qos, lamp.payload_len), (Some("lamp"), QoS::ExactlyOnce, 2));

    let under = broker.broker().retained_under("PV/#").unwrap();
    assert_eq!(publishers(&under), [("PV/power", Some("pv-logger")), ("PV/weather/temp", Some("weather"))]);
    let all = broker.broker().retained_under("#").unwrap();
    assert_eq!(publishers(&all).len(), 3, "{all:?}");
    assert!(all.iter().all(|(t, _)| !t.starts_with('$')), "# skips $SYS [MQTT-4.7.2-1]");
    assert!(broker.broker().topic_info("PV/none").retained.is_none());
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_a_subtree_is_exact_atomic_silent_to_subscribers_and_survives_a_restart() {
    let dir = TempDir::new("inspect-clear");
    let broker = persistent_broker(&dir).await;
    let port = broker.port();
    retain(port, "alpha", "a", "0").await;
    retain(port, "alpha", "a/1", "1").await;
    retain(port, "beta", "a/2/x", "2").await;
    retain(port, "gamma", "b/keep", "k").await;
    // A live subscriber gets the three retained messages, then the next live one: a clear
    // sends it nothing (clearing by empty PUBLISHes would reach it first).
    let live = Subscriber::start(port, &["-i", "live", "-t", "a/#", "-v", "-q", "1", "-C", "4", "-W", "10"]);
    broker.wait_for_log("live 1 a/#").await;

    assert_eq!(broker.broker().clear_retained("a/#"), Ok(3));
    broker.wait_for_log("Cleared 3 retained messages matching a/#.").await;
    assert_eq!(publishers(&broker.broker().retained_under("#").unwrap()), [("b/keep", Some("gamma"))]);
    run(mosquitto("mosquitto_pub", port, &["-t", "a/after", "-m", "live", "-q", "1"])).await;
    assert_eq!(live.output().await, "a 0\na/1 1\na/2/x 2\na/after live\n");

    assert_eq!(everything(port, 1).await, ["b/keep k"], "none of a/# is left");
    // A message retained after the clear is kept.
    retain(port, "delta", "a/3", "new").await;
    assert_eq!(everything(port, 2).await, ["a/3 new", "b/keep k"]);
    let kept = broker.broker().topic_info("b/keep").retained.unwrap();
    assert_eq!(broker.broker().clear_retained("nothing/#"), Ok(0));
    broker.stop().await;

    let broker = persistent_broker(&dir).await;
    assert_eq!(everything(broker.port(), 2).await, ["a/3 new", "b/keep k"], "still cleared after a restart");
    let restored = broker.broker().topic_info("b/keep").retained.unwrap();
    assert_eq!(restored, kept, "who stored it and when survive the restart");
    assert_eq!(broker.broker().topic_info("a/3").retained.unwrap().publisher.as_deref(), Some("delta"));
    broker.stop().await;
}

#[tokio::test]
async fn a_filter_that_is_not_one_is_refused_with_the_reason() {
    let broker = TestBroker::start().await;
    let b = broker.broker();
    let err = b.clear_retained("a/#/b").unwrap_err();
    assert!(err.to_string().contains("'#'"), "{err}");
    assert!(b.clear_retained("").unwrap_err().to_string().contains("at least one character"));
    assert!(matches!(b.clear_retained("$share/g/a/#"), Err(InspectError::Shared(_))));
    let err = b.retained_under("a/b+").unwrap_err();
    assert!(err.to_string().contains("'+'"), "{err}");
    broker.stop().await;
}
