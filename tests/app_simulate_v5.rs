//! The simulated devices on an MQTT 5 profile (issue 21): they connect with the profile's
//! settings, so with MQTT 5. From the app's Simulators panel against the built-in broker (whose
//! log says which protocol each client spoke: `p5`), the lamp obeying a command published from
//! the app over MQTT 5; from the command line against our broker and Debian's Mosquitto, heard
//! by an MQTT 5 mosquitto_sub.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mqtt_lab::mqtt::MqttVersion;
use mqtt_lab::schema::{Catalogue, Check};
use mqtt_lab::simulate::Device;
use support::mosquitto::{Mosquitto, free_port};
use support::*;

fn received(app: &mqtt_lab::App, topic: &str) -> Vec<String> {
    (0..app.model().messages.len())
        .filter_map(|i| app.model().messages.get(i))
        .filter(|m| m.topic == topic)
        .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
        .collect()
}

#[test]
fn the_app_s_simulators_speak_mqtt_5_on_an_mqtt_5_profile() {
    let runtime = runtime();
    let dir = ProfileDir::new("simulate-v5-app");
    let mut harness = app_harness(&runtime, &dir);
    harness.state_mut().selected_profile_mut().version = MqttVersion::V5;
    set_field(&mut harness, "Filter", "#");
    connect_and_subscribe(&mut harness);
    harness.get_by_label("Simulators").click();
    settle(&mut harness);
    harness.get_by_label("Time-lapse: a day in 10 minutes, from 06:00").click();
    harness.get_by_label("Start PV plant").click();
    settle(&mut harness);
    harness.get_by_label("Start ESP32 lamp").click();
    settle(&mut harness);
    step_until(&mut harness, "the plant's and the lamp's messages", |app| {
        ["PV/data", "PV/sunshine", "lamp/state"].iter().all(|t| !received(app, t).is_empty())
    });
    // The built-in broker logs each CONNECT's protocol level, as Mosquitto does.
    for device in ["-pv (p5,", "-lamp (p5,"] {
        assert!(
            harness.state().broker_log().iter().any(|l| l.contains("New client connected") && l.contains(device)),
            "the simulator connected with MQTT 5 ({device}): {:?}",
            harness.state().broker_log()
        );
    }

    // The lamp's MQTT 5 subscription gets the app's MQTT 5 command.
    set_field(&mut harness, "Topic", "lamp/cmd");
    set_field(&mut harness, "Payload", r#"{"control":"PWM","value":30,"unit":"%"}"#);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the lamp at 30 %", |app| {
        received(app, "lamp/state").iter().any(|p| p == r#"{"control":"PWM","value":30,"unit":"%"}"#)
    });
    for topic in ["PV/data", "PV/sunshine", "lamp/state"] {
        for payload in received(harness.state(), topic) {
            assert!(matches!(Catalogue::get().check(topic, payload.as_bytes()), Check::Valid(_)), "{topic} {payload}");
        }
    }
    harness.get_by_label("Stop ESP32 lamp").click();
    settle(&mut harness);
    harness.get_by_label("Stop PV plant").click();
    step_until(&mut harness, "both stopped", |app| {
        !app.simulator_running(Device::Pv) && !app.simulator_running(Device::Lamp)
    });
}

/// Runs `mqtt-lab simulate pv` for 3 updates on an MQTT 5 profile pointed at `port`, heard by an
/// MQTT 5 mosquitto_sub; returns what the simulator printed.
fn plant_heard_over_mqtt5(dir: &ProfileDir, port: u16) -> String {
    std::fs::create_dir_all(&dir.0).unwrap();
    let profile = dir.0.join("plant-v5.json");
    std::fs::write(
        &profile,
        format!(
            r#"{{"name":"Plant 5","host":"127.0.0.1","port":{port},"client_id":"btsiot-plant","version":"5",
                "mqtt5":{{"session_expiry_secs":600}}}}"#
        ),
    )
    .unwrap();
    // stdbuf: mosquitto_sub's output to a pipe is otherwise held in its buffer until it exits.
    let mut sub = Command::new("stdbuf")
        .args(["-oL", "mosquitto_sub", "-V", "mqttv5", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-t", "PV/data", "-C", "3", "-v", "-d"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("mosquitto_sub (Debian: apt-get install mosquitto-clients)");
    let stdout = sub.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("mosquitto-sub-out".into())
        .spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        })
        .unwrap();
    let next = || lines.recv_timeout(PATIENCE).expect("mosquitto_sub's next line");
    while !next().contains("received SUBACK") {}

    let out = Command::new(env!("CARGO_BIN_EXE_mqtt-lab"))
        .args(["simulate", "pv", "--profile", profile.to_str().unwrap(), "--time-lapse", "--count", "3"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("PV plant: connected") && text.ends_with("PV plant: 3 update(s) sent.\n"), "{text}");
    let mut heard = Vec::new();
    while heard.len() < 3 {
        let line = next();
        if line.starts_with("PV/data ") {
            heard.push(line);
        }
    }
    let _ = sub.kill();
    let _ = sub.wait();
    for line in heard {
        assert!(text.contains(&line), "what it printed is what was delivered: {line}\n{text}");
    }
    text
}

/// The broker's log, once it has a CONNECT line of the simulated plant.
fn plant_connect_line(log: &Path) -> String {
    let start = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("as btsiot-plant-pv (")) {
            return line.to_owned();
        }
        assert!(start.elapsed() < PATIENCE, "no CONNECT of the plant in the broker's log: {text}");
        std::thread::yield_now();
    }
}

/// Whether the broker on `port` kept a session for the plant's client id: an MQTT 5 connection
/// with its id and a clean start off says (CONNACK's session present).
fn plant_session_kept(runtime: &tokio::runtime::Runtime, port: u16) -> bool {
    use mqtt_lab::connection::{Connection, ConnectionStatus, Event};
    let profile = mqtt_lab::profile::Profile {
        host: "127.0.0.1".into(),
        port,
        client_id: "btsiot-plant-pv".into(),
        version: MqttVersion::V5,
        clean_session: false,
        ..mqtt_lab::profile::Profile::default()
    };
    let (wake, woken) = std::sync::mpsc::channel();
    let repaint = std::sync::Arc::new(move || {
        let _ = wake.send(());
    });
    let connection = Connection::open(runtime.handle(), profile.connect_settings(None).unwrap(), repaint);
    loop {
        woken.recv_timeout(PATIENCE).expect("the CONNACK");
        while let Some(event) = connection.try_event() {
            match event {
                Event::Status(ConnectionStatus::Connected { session_present, .. }) => return session_present,
                Event::Status(ConnectionStatus::Failed(why)) => panic!("{why}"),
                _ => {}
            }
        }
    }
}

#[test]
fn the_command_line_plant_on_an_mqtt_5_profile_reaches_our_broker_and_mosquitto() {
    let runtime = runtime();
    let dir = ProfileDir::new("simulate-v5-cli");
    std::fs::create_dir_all(&dir.0).unwrap();

    // Our broker, logging to a file (the support's brokers log nowhere).
    let log = dir.0.join("ours.log");
    let mut config = mqtt_lab_broker::Config::default();
    let listener = runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0))).unwrap();
    let port = listener.local_addr().unwrap().port();
    config.log.set_dest(mqtt_lab_broker::log::LogDest::File(log.clone()));
    let _broker = runtime.block_on(async {
        let broker = mqtt_lab_broker::Broker::start(config).unwrap();
        broker.listen(listener, &mqtt_lab_broker::config::ListenerConfig::default()).unwrap();
        broker
    });
    plant_heard_over_mqtt5(&dir, port);
    let line = plant_connect_line(&log);
    assert!(line.contains("(p5,"), "the plant spoke MQTT 5 to our broker: {line}");
    // The profile asks for a 10-minute session; a simulated device, starting afresh each time,
    // leaves none behind.
    assert!(!plant_session_kept(&runtime, port), "the broker kept the simulated plant's session");

    // Debian's Mosquitto, logging to stderr (its start is read there) and to a file.
    let port = free_port();
    let log = dir.0.join("mosquitto.log");
    let conf = dir.0.join("mosquitto.conf");
    // Mosquitto started as root writes its log as the user "mosquitto": the file is made first.
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_dest file {}\nlog_type all\n",
            log.display()
        ),
    )
    .unwrap();
    let _mosquitto = Mosquitto::start(&conf);
    plant_heard_over_mqtt5(&dir, port);
    let line = plant_connect_line(&log);
    assert!(line.contains("(p5,"), "the plant spoke MQTT 5 to Mosquitto: {line}");
}
