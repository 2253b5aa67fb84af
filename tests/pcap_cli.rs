//! `mqtt-lab capture PROFILE --out FILE.pcapng` end to end against our broker on a free port:
//! a retained message waits on `t/x`, the capture subscribes to `t/#` for a second, and tshark
//! reads the file back: CONNECT, CONNACK, SUBSCRIBE, SUBACK, the retained PUBLISH, DISCONNECT.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use support::*;

/// Leaves a retained "hi" on `t/x`, spoken as raw MQTT 3.1.1 bytes.
fn retain_hi(port: u16) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(&[0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 1, b'p']).unwrap();
    let mut connack = [0u8; 4];
    s.read_exact(&mut connack).unwrap();
    assert_eq!(connack, [0x20, 2, 0, 0]);
    // PUBLISH QoS 0 retain "t/x" "hi", then DISCONNECT; the broker stores it before it closes.
    s.write_all(&[0x31, 7, 0, 3, b't', b'/', b'x', b'h', b'i', 0xE0, 0]).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
}

fn profile_file(dir: &ProfileDir, port: u16) -> std::path::PathBuf {
    std::fs::create_dir_all(&dir.0).unwrap();
    let profile = mqtt_lab::profile::Profile {
        name: "capture test".into(),
        host: "127.0.0.1".into(),
        port,
        builtin_broker: false,
        client_id: "capture-1".into(),
        ..Default::default()
    };
    let path = dir.0.join("capture.json");
    mqtt_lab::profile::ProfileStore::export(&profile, &path, true).unwrap();
    path
}

#[test]
fn a_capture_from_the_command_line_opens_in_tshark() {
    let runtime = runtime();
    let dir = ProfileDir::new("pcap-cli");
    let config = mqtt_lab_broker::Config { allow_anonymous: Some(true), ..Default::default() };
    let (_broker, port) = our_broker(&runtime, config, &mqtt_lab_broker::config::ListenerConfig::default());
    retain_hi(port);
    let profile = profile_file(&dir, port);
    let file = dir.0.join("out.pcapng");
    let out = Command::new(env!("CARGO_BIN_EXE_mqtt-lab"))
        .args([
            "capture",
            profile.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
            "--topic",
            "t/#",
            "--seconds",
            "1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("Wrote {}: 6 MQTT packet(s) (1 message(s) received)", file.display())), "{text}");
    let tshark = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args(["-Y", "mqtt", "-T", "fields", "-e", "mqtt.msgtype", "-e", "mqtt.topic", "-e", "mqtt.clientid"])
        .args(["-e", "mqtt.msg"])
        .output()
        .expect("tshark must be installed (apt-get install tshark)");
    let listed = String::from_utf8(tshark.stdout).unwrap();
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(
        lines,
        ["1\t\tcapture-1\t", "2\t\t\t", "8\tt/#\t\t", "9\t\t\t", "3\tt/x\t\t6869", "14\t\t\t"],
        "{listed}"
    );
}

#[test]
fn no_broker_is_exit_code_5_in_words() {
    let dir = ProfileDir::new("pcap-cli-none");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let profile = profile_file(&dir, closed);
    let file = dir.0.join("none.pcapng");
    let out = Command::new(env!("CARGO_BIN_EXE_mqtt-lab"))
        .args(["capture", profile.to_str().unwrap(), "--out", file.to_str().unwrap(), "--seconds", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(text.contains("The connection failed: "), "{text}");
    assert!(!file.exists(), "no file for a capture that never connected");
}
