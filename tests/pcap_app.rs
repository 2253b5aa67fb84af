//! "Save for Wireshark (.pcapng)" checked with a tool no one here wrote: the Packets tab's
//! session, saved from the real app, read back by Debian's tshark with its own MQTT dissector.
//! `tshark -r FILE -Y mqtt -T fields -e mqtt.msgtype -e mqtt.topic -e mqtt.clientid -e mqtt.msg`
//! must list exactly the packets the app captured, in order, for a plain, a TLS-PSK and a
//! certificate TLS connection, MQTT 3.1.1 and MQTT 5; the TCP analysis must flag nothing.

mod support;

use std::path::PathBuf;
use std::process::Command;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mqtt_lab::App;
use mqtt_lab::connection::{ConnectionStatus, MqttVersion};
use mqtt_lab::model::CapturedPacket;
use mqtt_lab_broker::codec::{Decoded, Packet, decode};
use support::pki::make_pki;
use support::*;

/// The file the app's notice names, from the Log line "Wireshark capture saved to PATH (...)."
fn saved(app: &App) -> Option<PathBuf> {
    app.model().log.iter().find_map(|l| {
        let rest = l.text.strip_prefix("Wireshark capture saved to ")?;
        Some(PathBuf::from(rest.split(" (").next()?))
    })
}

/// Clicks the button on the Packets tab; the file written and the packets on view at that time.
fn save_for_wireshark(harness: &mut Harness<'_, App>, dir: &ProfileDir) -> (PathBuf, Vec<CapturedPacket>) {
    harness.get_by_label("Screenshots and exports").click();
    settle(harness);
    set_field(harness, "Reports folder", &dir.0.join("reports").display().to_string());
    harness.get_by_role_and_label(Role::Button, "Packets").click();
    settle(harness);
    harness.get_by_label("Save for Wireshark (.pcapng)").click();
    step_until(harness, "the pcapng saved", |app| saved(app).is_some());
    let path = saved(harness.state()).unwrap();
    (path, harness.state().model().packets.packets.iter().cloned().collect())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// What tshark should print for a packet: type, topic(s), client id, payload as hex.
fn expected(p: &CapturedPacket) -> String {
    let kind = p.bytes[0] >> 4;
    let (topic, client, msg) = match decode(&p.bytes, usize::MAX, p.protocol) {
        Ok(Decoded::Packet(Packet::Publish(publish), _)) => {
            (publish.topic.as_str().to_owned(), String::new(), hex(&publish.payload))
        }
        Ok(Decoded::Packet(Packet::Connect(c), _)) => (String::new(), c.client_id.clone(), String::new()),
        Ok(Decoded::Packet(Packet::Subscribe(s), _)) => {
            let filters: Vec<&str> = s.filters.iter().map(|(f, _)| f.as_str()).collect();
            (filters.join(","), String::new(), String::new())
        }
        Ok(Decoded::Packet(Packet::Unsubscribe(u), _)) => {
            let filters: Vec<&str> = u.filters.iter().map(mqtt_lab_broker::codec::TopicFilter::as_str).collect();
            (filters.join(","), String::new(), String::new())
        }
        _ => (String::new(), String::new(), String::new()),
    };
    format!("{kind}\t{topic}\t{client}\t{msg}")
}

fn tshark(path: &PathBuf, args: &[&str]) -> Vec<String> {
    let output = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(args)
        .output()
        .expect("tshark must be installed (apt-get install tshark)");
    assert!(output.status.success(), "tshark: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect()
}

/// tshark lists exactly the packets the app listed when saving, and flags no TCP problem.
fn assert_tshark_agrees(path: &PathBuf, packets: &[CapturedPacket], secured: Option<&str>) {
    let fields = ["-Y", "mqtt", "-T", "fields", "-e", "mqtt.msgtype", "-e", "mqtt.topic", "-e", "mqtt.clientid"];
    let listed = tshark(path, &[&fields[..], &["-e", "mqtt.msg"]].concat());
    assert!(listed.len() >= 5, "CONNECT, CONNACK, SUBSCRIBE, SUBACK, PUBLISH at least: {listed:#?}");
    let want: Vec<String> = packets.iter().take(listed.len()).map(expected).collect();
    assert_eq!(listed, want, "tshark's list against the app's");
    assert!(listed.iter().any(|l| l.starts_with("3\tPV/sunshine\t\t796573")), "{listed:#?}");
    let flagged = tshark(path, &["-Y", "tcp.analysis.flags || _ws.malformed || _ws.expert.severity >= warning"]);
    assert!(flagged.is_empty(), "tshark flags: {flagged:#?}");
    let comments = tshark(path, &["-Y", "frame.comment", "-T", "fields", "-e", "frame.comment"]);
    match secured {
        Some(kind) => assert!(
            comments.iter().any(|c| c.contains(&format!("MQTT packets inside the {kind} in clear"))),
            "{comments:#?}"
        ),
        None => assert!(comments.iter().all(|c| !c.contains("in clear")), "{comments:#?}"),
    }
}

/// The editor closed, so the sidebar has room for "Screenshots and exports".
fn close_profile_settings(harness: &mut Harness<'_, App>) {
    harness.get_by_label("Profile settings").click();
    settle(harness);
}

fn connect_and_round_trip(harness: &mut Harness<'_, App>) {
    harness.get_by_label("Connect").click();
    step_until(harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    round_trip(harness);
}

#[test]
fn a_plain_mqtt_3_1_1_session_reads_the_same_in_tshark() {
    let runtime = runtime();
    let dir = ProfileDir::new("pcap-plain");
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    connect_and_round_trip(&mut harness);
    let (path, packets) = save_for_wireshark(&mut harness, &dir);
    assert!(path.file_name().unwrap().to_str().unwrap().ends_with("_packets.pcapng"), "{path:?}");
    assert_tshark_agrees(&path, &packets, None);
    // The notice names the file, without "in clear" for a plain connection.
    settle(&mut harness);
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(harness.query_by_label_contains(&format!("Saved {name} (")).is_some());
    assert!(harness.query_by_label_contains("in clear").is_none());
}

#[test]
fn an_mqtt_5_session_reads_the_same_in_tshark() {
    let runtime = runtime();
    let dir = ProfileDir::new("pcap-v5");
    let config = mqtt_lab_broker::Config { allow_anonymous: Some(true), ..Default::default() };
    let (_broker, port) = our_broker(&runtime, config, &mqtt_lab_broker::config::ListenerConfig::default());
    let mut harness = harness_with(&runtime, &dir, None);
    new_profile_at(&mut harness, port);
    harness.state_mut().selected_profile_mut().version = MqttVersion::V5;
    settle(&mut harness);
    close_profile_settings(&mut harness);
    connect_and_round_trip(&mut harness);
    let (path, packets) = save_for_wireshark(&mut harness, &dir);
    assert!(packets.iter().all(|p| p.protocol == mqtt_lab_broker::codec::Protocol::V5));
    assert_tshark_agrees(&path, &packets, None);
    // The broker's real port is not 1883: the file says so, and the frames use 1883.
    let ports = tshark(&path, &["-Y", "mqtt", "-T", "fields", "-e", "tcp.port"]);
    assert!(ports.iter().all(|p| p.contains("1883")), "{ports:?}");
}

#[test]
fn a_tls_psk_session_is_shown_in_clear_and_said_to_be() {
    let runtime = runtime();
    let dir = ProfileDir::new("pcap-psk");
    std::fs::create_dir_all(&dir.0).unwrap();
    let psk_file = dir.0.join("mosqui_pskfile");
    std::fs::write(&psk_file, "btsiot1:0123456789abcdef0123\n").unwrap();
    let config =
        mqtt_lab_broker::Config { allow_anonymous: Some(true), psk_file: Some(psk_file), ..Default::default() };
    let settings = mqtt_lab_broker::config::ListenerConfig { psk_hint: Some("btsiot".into()), ..Default::default() };
    let (_broker, port) = our_broker(&runtime, config, &settings);
    let mut harness = harness_with(&runtime, &dir, None);
    let name = profile_name(&harness, |n| n.contains("TLS-PSK"));
    choose_profile(&mut harness, &name);
    set_field(&mut harness, "Host", "127.0.0.1");
    set_field(&mut harness, "Port", &port.to_string());
    connect_and_round_trip(&mut harness);
    let (path, packets) = save_for_wireshark(&mut harness, &dir);
    assert_tshark_agrees(&path, &packets, Some("TLS-PSK"));
    settle(&mut harness);
    assert!(harness.query_by_label_contains("the MQTT inside TLS-PSK is shown in clear").is_some());
}

#[test]
fn a_certificate_tls_mqtt_5_session_is_shown_in_clear() {
    let runtime = runtime();
    let dir = ProfileDir::new("pcap-tls");
    let pki = make_pki(&dir.0);
    let config = mqtt_lab_broker::Config { allow_anonymous: Some(true), ..Default::default() };
    let settings = mqtt_lab_broker::config::ListenerConfig {
        certfile: Some(pki.cert.clone()),
        keyfile: Some(pki.key.clone()),
        ..Default::default()
    };
    let (_broker, port) = our_broker(&runtime, config, &settings);
    let mut harness = harness_with(&runtime, &dir, None);
    new_profile_at(&mut harness, port);
    harness.state_mut().selected_profile_mut().tls =
        mqtt_lab::profile::TlsMode::SelfSignedCa { ca_file: String::new() };
    harness.state_mut().selected_profile_mut().version = MqttVersion::V5;
    settle(&mut harness);
    set_field(&mut harness, "CA file", pki.ca.to_str().unwrap());
    close_profile_settings(&mut harness);
    connect_and_round_trip(&mut harness);
    let (path, packets) = save_for_wireshark(&mut harness, &dir);
    assert_tshark_agrees(&path, &packets, Some("TLS"));
}

/// The button and Wireshark's names beside our fields fit a laptop screen and a large one.
#[test]
fn the_button_and_wireshark_s_names_fit_every_screen() {
    let runtime = runtime();
    for size in [egui::vec2(1024.0, 640.0), egui::vec2(1280.0, 720.0), egui::vec2(1920.0, 1080.0)] {
        let dir = ProfileDir::new(&format!("pcap-layout-{}", size.x));
        let mut harness = harness_sized(&runtime, &dir, size);
        connect_and_subscribe(&mut harness);
        harness.get_by_role_and_label(Role::Button, "Packets").click();
        settle(&mut harness);
        inside(&harness, size, "Save for Wireshark (.pcapng)");
        harness.get_by_label_contains("sent      CONNECT").click();
        settle(&mut harness);
        for label in ["Save for Wireshark (.pcapng)", "mqtt.msgtype", "mqtt.protoname", "Protocol name"] {
            inside(&harness, size, label);
        }
    }
}
