//! Record and replay, judged by a tool no one here wrote: a burst of 20 messages with gaps of
//! 50-200 ms is published by Debian's `mosquitto_pub`, received and recorded by the real app,
//! exported with its "Export JSON lines" button, then replayed by `mqtt-lab replay` at 1x, at
//! 10x and twice in a loop into another broker (ours, in-process, on a free port), where
//! Debian's `mosquitto_sub` stamps each arrival (`%U`, ns). Every message must arrive, in order,
//! and the whole run's duration must match the recording's divided by the speed within 25 %
//! (judged on the whole run, not per message, so scheduling jitter cannot flake it). And 10,000
//! QoS 1 messages as fast as possible: all arrive, in order.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use egui_kittest::kittest::Queryable;
use support::*;

const BURST: usize = 20;

/// The gap before message `i` (ms): 50 to 200, varied so the timing is not a metronome.
fn gap_ms(i: usize) -> u64 {
    50 + (i as u64 * 37) % 151
}

fn exported(app: &mqtt_lab::App) -> Option<PathBuf> {
    app.model().log.iter().find_map(|l| {
        let rest = l.text.strip_prefix("Exported ")?;
        Some(PathBuf::from(rest.split(" to ").nth(1)?.trim_end_matches('.')))
    })
}

/// The burst published by mosquitto_pub (one connection, one line per message) into the app's
/// built-in broker, received by the app and exported as JSON lines; the file's path.
fn record_burst(dir: &ProfileDir) -> PathBuf {
    let runtime = runtime();
    let mut harness = app_harness(&runtime, dir);
    set_field(&mut harness, "Filter", "burst/#");
    connect_and_subscribe(&mut harness);
    let port = harness.state().builtin_addr().unwrap().port();
    let mut publisher = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", "burst/n", "-q", "1", "-l"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("mosquitto_pub (Debian: apt-get install mosquitto-clients)");
    let mut stdin = publisher.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        for i in 0..BURST {
            if i > 0 {
                std::thread::sleep(Duration::from_millis(gap_ms(i)));
            }
            writeln!(stdin, "{i}").unwrap();
            stdin.flush().unwrap();
        }
    });
    step_until(&mut harness, "the burst", |app| app.model().messages.total() == BURST as u64);
    feeder.join().unwrap();
    let _ = publisher.kill();
    let _ = publisher.wait();
    harness.get_by_label("Screenshots and exports").click();
    settle(&mut harness);
    set_field(&mut harness, "Reports folder", &dir.0.join("reports").display().to_string());
    harness.get_by_label("Export JSON lines").click();
    step_until(&mut harness, "the JSON-lines file", |app| exported(app).is_some());
    exported(harness.state()).unwrap()
}

/// mosquitto_sub on `port`, subscribed (its SUBACK seen), printing "ns-timestamp topic payload".
fn subscriber(port: u16, count: usize) -> (std::process::Child, Receiver<String>) {
    let mut sub = Command::new("stdbuf")
        .args(["-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", &port.to_string(), "-t", "#", "-q", "1"])
        .args(["-C", &count.to_string(), "-d", "-F", "%U %t %p"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("mosquitto_sub (Debian: apt-get install mosquitto-clients)");
    let stdout = sub.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    while !lines.recv_timeout(PATIENCE).expect("mosquitto_sub's SUBACK").contains("received SUBACK") {}
    (sub, lines)
}

/// Runs `mqtt-lab replay` with `options` and returns what mosquitto_sub heard: (seconds, topic,
/// payload) of each of `count` messages.
fn replay(file: &Path, profile: &Path, port: u16, count: usize, options: &[&str]) -> Vec<(f64, String, String)> {
    let (mut sub, lines) = subscriber(port, count);
    let out = Command::new(env!("CARGO_BIN_EXE_mqtt-lab"))
        .args(["replay", file.to_str().unwrap(), "--profile", profile.to_str().unwrap()])
        .args(options)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.ends_with(&format!("Replay: {count} message(s) sent.\n")), "{text}");
    let mut heard = Vec::new();
    while heard.len() < count {
        let line = lines.recv_timeout(PATIENCE).expect("the next replayed message");
        let mut parts = line.splitn(3, ' ');
        let (Some(at), Some(topic), Some(payload)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let Ok(at) = at.parse::<f64>() else { continue };
        heard.push((at, topic.to_owned(), payload.to_owned()));
    }
    let _ = sub.kill();
    let _ = sub.wait();
    heard
}

/// Asserts the run's length is `expected` within 25 %; returns the measured seconds.
fn judge(heard: &[(f64, String, String)], expected: f64, what: &str) -> f64 {
    let took = heard.last().unwrap().0 - heard[0].0;
    let ratio = took / expected;
    eprintln!("{what}: {} messages over {took:.3} s, expected {expected:.3} s (ratio {ratio:.3})", heard.len());
    assert!((0.75..=1.25).contains(&ratio), "{what}: {took:.3} s against {expected:.3} s expected");
    took
}

#[test]
fn a_recorded_burst_replays_complete_in_order_on_its_timing_at_1x_10x_and_in_a_loop() {
    let dir = ProfileDir::new("replay-proof");
    let file = record_burst(&dir);
    let recording = mqtt_lab::replay::from_file(&file).unwrap();
    assert_eq!(recording.len(), BURST, "one line per message in {}", file.display());
    let payloads: Vec<String> = (0..BURST).map(|i| i.to_string()).collect();
    assert_eq!(
        recording.iter().map(|m| String::from_utf8_lossy(&m.payload).into_owned()).collect::<Vec<_>>(),
        payloads
    );
    let (offsets, round) = mqtt_lab::replay::offsets(&recording);
    let span = offsets.last().unwrap().as_secs_f64();
    let intended: u64 = (1..BURST).map(gap_ms).sum();
    eprintln!("recorded: {BURST} messages over {span:.3} s (published over {intended} ms)");
    assert!(span > 1.0, "the recording keeps its gaps: {span} s");

    let runtime = runtime();
    let (_broker, port) =
        our_broker(&runtime, mqtt_lab_broker::Config::default(), &mqtt_lab_broker::config::ListenerConfig::default());
    let profile = dir.0.join("replayer.json");
    std::fs::write(
        &profile,
        format!(r#"{{"name":"Replayer","host":"127.0.0.1","port":{port},"client_id":"replayer"}}"#),
    )
    .unwrap();
    let in_order = |heard: &[(f64, String, String)], rounds: usize| {
        let got: Vec<&str> = heard.iter().map(|(_, _, p)| p.as_str()).collect();
        let wanted: Vec<&str> = (0..rounds).flat_map(|_| payloads.iter().map(String::as_str)).collect();
        assert_eq!(got, wanted, "every message, in order");
    };

    let real = replay(&file, &profile, port, BURST, &["--speed", "1"]);
    in_order(&real, 1);
    assert!(real.iter().all(|(_, t, _)| t == "burst/n"));
    judge(&real, span, "1x");

    let fast = replay(&file, &profile, port, BURST, &["--speed", "10", "--prefix", "again/"]);
    in_order(&fast, 1);
    assert!(fast.iter().all(|(_, t, _)| t == "again/burst/n"), "the prefix added");
    judge(&fast, span / 10.0, "10x");

    let looped = replay(&file, &profile, port, 2 * BURST, &["--speed", "10", "--loops", "2"]);
    in_order(&looped, 2);
    judge(&looped, (round.as_secs_f64() + span) / 10.0, "10x, 2 loops");
}

/// As fast as possible, far more messages than the connection's worker queues (1000): the replay
/// waits for the link, so every one arrives, in order.
#[test]
fn ten_thousand_messages_as_fast_as_possible_arrive_complete_and_in_order() {
    const N: usize = 10_000;
    let dir = ProfileDir::new("replay-afap");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("many.jsonl");
    let start = std::time::SystemTime::now();
    let lines: Vec<String> = (0..N)
        .map(|i| {
            mqtt_lab::replay::to_line(&mqtt_lab::connection::ReceivedMessage {
                topic: "many/n".into(),
                payload: i.to_string().into(),
                qos: mqtt_lab::connection::Qos::AtLeastOnce,
                retain: false,
                dup: false,
                at: start + Duration::from_millis(i as u64),
                properties: mqtt_lab::mqtt::PublishProperties::default(),
            })
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let runtime = runtime();
    let (_broker, port) =
        our_broker(&runtime, mqtt_lab_broker::Config::default(), &mqtt_lab_broker::config::ListenerConfig::default());
    let profile = dir.0.join("fast.json");
    std::fs::write(&profile, format!(r#"{{"name":"Fast","host":"127.0.0.1","port":{port},"client_id":"fast"}}"#))
        .unwrap();
    let heard = replay(&file, &profile, port, N, &["--as-fast-as-possible"]);
    let took = heard.last().unwrap().0 - heard[0].0;
    eprintln!("as fast as possible: {N} QoS 1 messages over {took:.3} s");
    let got: Vec<usize> = heard.iter().map(|(_, _, p)| p.parse().unwrap()).collect();
    assert_eq!(got, (0..N).collect::<Vec<_>>(), "every message, in order");
}
