//! Real clients against the broker: Debian's mosquitto_pub / mosquitto_sub (package
//! `mosquitto-clients`, installed by .ci/run) and rumqttc. A missing client fails the test.

mod support;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use mqtt_lab_broker::codec::QoS;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet as RPacket, QoS as RQoS};
use support::{PATIENCE, RawClient, TestBroker};

fn mosquitto(tool: &str, port: u16, args: &[&str]) -> Command {
    let mut cmd = Command::new(tool);
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-V", "mqttv311"]).args(args);
    cmd
}

/// Runs a client to completion off the async runtime.
async fn run(mut cmd: Command) -> Output {
    let output = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap();
    output.unwrap_or_else(|e| panic!("cannot run a mosquitto client ({e}); install Debian's mosquitto-clients"))
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "client failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_clients_exchange_messages_at_every_qos() {
    let broker = TestBroker::start().await;
    let port = broker.port();
    for qos in ["0", "1", "2"] {
        // -C 1: exit after one message; the retained message published first is that message.
        let topic = format!("PV/sunshine/q{qos}");
        let publish = run(mosquitto("mosquitto_pub", port, &["-t", &topic, "-m", "yes", "-q", qos, "-r"])).await;
        stdout(&publish);
        let sub = run(mosquitto("mosquitto_sub", port, &["-t", &topic, "-q", qos, "-C", "1", "-v", "-W", "10"])).await;
        assert_eq!(stdout(&sub), format!("{topic} yes\n"));
    }
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_sub_receives_a_live_qos2_stream_from_mosquitto_pub() {
    let broker = TestBroker::start().await;
    let port = broker.port();
    let sub = mosquitto("mosquitto_sub", port, &["-t", "PV/data", "-q", "2", "-C", "20", "-i", "sub", "-W", "20"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("mosquitto_sub runs");
    // Publish only once the subscription exists: wait for the broker's subscribe log line.
    broker.wait_for_log("sub 2 PV/data").await;
    let lines: Vec<String> = (0..20).map(|i| format!("{}.{i}", i / 2)).collect();
    let mut input = lines.join("\n");
    input.push('\n');
    let publish = tokio::task::spawn_blocking(move || {
        let mut p = mosquitto("mosquitto_pub", port, &["-t", "PV/data", "-q", "2", "-l"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(p.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
        p.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(publish.status.success());
    let out = tokio::task::spawn_blocking(move || sub.wait_with_output().unwrap()).await.unwrap();
    let received: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(received, lines, "all 20 in order, none twice");
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_mosquitto_sub_triggers_its_will() {
    let broker = TestBroker::start().await;
    let mut watcher = RawClient::connect(broker.addr, "watcher").await;
    watcher.subscribe(&[("lamp/status", QoS::AtLeastOnce)]).await;
    let port = broker.port();
    let mut lamp = mosquitto(
        "mosquitto_sub",
        port,
        &[
            "-t",
            "lamp/cmd",
            "-i",
            "esp32-lamp",
            "--will-topic",
            "lamp/status",
            "--will-payload",
            "offline",
            "--will-qos",
            "1",
        ],
    )
    .spawn()
    .expect("mosquitto_sub runs");
    broker.wait_for_log("esp32-lamp 0 lamp/cmd").await;
    lamp.kill().unwrap(); // SIGKILL: no DISCONNECT
    let _ = lamp.wait();
    let will = watcher.recv_publish().await;
    assert_eq!((&will.payload[..], will.qos()), (&b"offline"[..], QoS::AtLeastOnce));
    broker.stop().await;
}

#[tokio::test]
async fn rumqttc_subscribes_and_publishes_at_every_qos() {
    let broker = TestBroker::start().await;
    let mut options = MqttOptions::new("rumqttc-interop", "127.0.0.1", broker.port());
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut eventloop) = AsyncClient::new(options, 10);
    client.subscribe("PV/#", RQoS::ExactlyOnce).await.unwrap();
    for (i, qos) in [RQoS::AtMostOnce, RQoS::AtLeastOnce, RQoS::ExactlyOnce].into_iter().enumerate() {
        client.publish("PV/data", qos, false, format!("{i}.5")).await.unwrap();
    }
    let mut received = Vec::new();
    let collect = async {
        while received.len() < 3 {
            if let Event::Incoming(RPacket::Publish(p)) = eventloop.poll().await.unwrap() {
                received.push((String::from_utf8_lossy(&p.payload).into_owned(), p.qos));
            }
        }
    };
    tokio::time::timeout(PATIENCE, collect).await.expect("three messages");
    received.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        received,
        [("0.5".into(), RQoS::AtMostOnce), ("1.5".into(), RQoS::AtLeastOnce), ("2.5".into(), RQoS::ExactlyOnce)]
    );
    broker.stop().await;
}
