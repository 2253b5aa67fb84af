//! Simulated devices, the way a student uses them: started from the app against its built-in
//! broker, their messages received by the app and valid against the course's schema, and the
//! lamp obeying an LED command published from the app's publish form. Then the same devices from
//! the command line, heard by Mosquitto's own mosquitto_sub.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mqtt_lab::schema::{Catalogue, Check};
use mqtt_lab::simulate::Device;
use support::*;

fn received(app: &mqtt_lab::App, topic: &str) -> Vec<String> {
    (0..app.model().messages.len())
        .filter_map(|i| app.model().messages.get(i))
        .filter(|m| m.topic == topic)
        .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
        .collect()
}

#[test]
fn simulators_publish_schema_valid_messages_and_the_lamp_obeys_the_app() {
    let runtime = runtime();
    let dir = ProfileDir::new("simulate-app");
    let mut harness = app_harness(&runtime, &dir);
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
    assert!(harness.state().simulator_running(Device::Pv) && harness.state().simulator_running(Device::Lamp));

    // The LED command from the publish form: the lamp applies it and says so on lamp/state.
    set_field(&mut harness, "Topic", "lamp/cmd");
    set_field(&mut harness, "Payload", r#"{"control":"PWM","value":80,"unit":"%"}"#);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the lamp at 80 %", |app| {
        received(app, "lamp/state").iter().any(|p| p == r#"{"control":"PWM","value":80,"unit":"%"}"#)
            && !received(app, "lamp/luminosity").is_empty()
    });
    assert!(harness.state().model().log.iter().any(|l| l.text == "ESP32 lamp: LED at 80 %"));

    // Every message on a course topic matches its schema.
    let app = harness.state();
    let mut checked = 0;
    for m in (0..app.model().messages.len()).filter_map(|i| app.model().messages.get(i)) {
        match Catalogue::get().check(&m.topic, &m.payload) {
            Check::Valid(_) => checked += 1,
            Check::Invalid(e) => panic!("{} {:?} breaks the schema: {e:?}", m.topic, m.payload),
            Check::Unknown => {}
        }
    }
    assert!(checked >= 5, "{checked}");

    harness.get_by_label("Stop ESP32 lamp").click();
    settle(&mut harness);
    harness.get_by_label("Stop PV plant").click();
    step_until(&mut harness, "both stopped", |app| {
        !app.simulator_running(Device::Pv) && !app.simulator_running(Device::Lamp)
    });
    assert!(harness.state().model().log.iter().any(|l| l.text == "ESP32 lamp: stopped."));
}

#[test]
fn the_command_line_plant_is_heard_by_mosquitto_sub() {
    let runtime = runtime();
    let dir = ProfileDir::new("simulate-cli");
    let (_broker, port) =
        our_broker(&runtime, mqtt_lab_broker::Config::default(), &mqtt_lab_broker::config::ListenerConfig::default());
    std::fs::create_dir_all(&dir.0).unwrap();
    let profile = dir.0.join("plant.json");
    std::fs::write(
        &profile,
        format!(r#"{{"name":"Plant","host":"127.0.0.1","port":{port},"client_id":"btsiot-plant"}}"#),
    )
    .unwrap();
    // stdbuf: mosquitto_sub's output to a pipe is otherwise held in its buffer until it exits.
    let mut sub = Command::new("stdbuf")
        .args([
            "-oL",
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            "PV/data",
            "-C",
            "3",
            "-v",
            "-d",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("mosquitto_sub (Debian: apt-get install mosquitto-clients)");
    // Its lines through a channel, so that every wait is bounded.
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
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("PV plant: connected") && text.ends_with("PV plant: 3 update(s) sent.\n"), "{text}");
    // The time-lapse's clock, for a plot on the simulated day: its first reading is at 06:00.
    let first_clock = text.lines().find_map(|l| l.strip_prefix("PV/clock ")).expect("the simulated clock");
    let six = mqtt_lab::simulate::parse_clock(first_clock.as_bytes()).expect("an RFC 3339 time");
    assert_eq!(mqtt_lab::plot::local(six).format("%H:%M").to_string(), "06:00", "{text}");
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
        let payload = line.trim_start_matches("PV/data ");
        assert!(matches!(Catalogue::get().check("PV/data", payload.as_bytes()), Check::Valid(_)), "{line}");
        assert!(text.contains(&line), "what it printed is what was delivered: {line}");
    }
}
