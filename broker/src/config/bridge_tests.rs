//! The bridge section read as Mosquitto 2.0.11 reads it (each refusal checked against it by
//! hand with the same text; the bridge tests run both brokers).

use std::path::Path;

use super::Config;
use super::bridge::{Direction, StartType};
use crate::codec::{Protocol, QoS};

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(text, Path::new("t.conf")).map_err(|e| e.to_string())
}

#[test]
fn a_full_section_is_read_with_mosquittos_defaults() {
    let c = parse(
        "listener 1883\nconnection pi-to-cloud\naddress 10.0.0.1:1884 cloud.example [::1]:8883\n\
         topic PV/# out 1\ntopic lamp/cmd in 2 \"\" school/\ntopic \"\" both 0 here/x there/y\n",
    )
    .unwrap();
    let b = &c.bridges[0];
    assert_eq!(b.name, "pi-to-cloud");
    assert_eq!(
        b.addresses,
        [("10.0.0.1".to_owned(), 1884), ("cloud.example".to_owned(), 1883), ("::1".to_owned(), 8883)]
    );
    assert_eq!((b.topics[0].direction, b.topics[0].qos), (Direction::Out, QoS::AtLeastOnce));
    assert_eq!(
        (b.topics[1].local_filter(), b.topics[1].remote_filter()),
        ("lamp/cmd".into(), "school/lamp/cmd".into())
    );
    assert_eq!((b.topics[2].local_filter(), b.topics[2].remote_filter()), ("here/x".into(), "there/y".into()));
    assert_eq!(b.protocol, Protocol::V311);
    assert!(!b.clean_session && !b.local_clean() && b.try_private && b.notifications && b.outgoing_retain);
    assert_eq!((b.keepalive, b.start_type, b.threshold, b.idle_timeout), (60, StartType::Automatic, 10, 60));
    assert!(b.remote_client_id().ends_with(".pi-to-cloud"), "{}", b.remote_client_id());
    assert_eq!(b.local_client_id(), format!("local.{}", b.remote_client_id()));
    assert_eq!(b.state_topic(), format!("$SYS/broker/connection/{}/state", b.remote_client_id()));
}

#[test]
fn the_refusals_name_the_problem() {
    let head = "listener 1883\nconnection b1\naddress 127.0.0.1:1\n";
    for (text, needle) in [
        ("listener 1883\nconnection b1\ntopic a/# out\n", "no remote addresses"),
        ("listener 1883\nconnection b1\naddress 127.0.0.1:1\n", "no topics"),
        (&format!("{head}topic a/# sideways\n"), "direction \"sideways\""),
        (&format!("{head}topic \"\" out 1\n"), "remapping"),
        (&format!("{head}topic a/# out 3\n"), "QoS level \"3\""),
        ("listener 1883\naddress 127.0.0.1:1\n", "must follow a \"connection NAME\""),
        (&format!("{head}topic a out\nbridge_identity id\nbridge_psk 00ff\nbridge_cafile /etc/hostname\n"), "both"),
        (&format!("{head}topic a out\nconnection b1\n"), "duplicate bridge name"),
        (&format!("{head}topic a out\nbridge_protocol_version mqttv5\n"), "mqttv50"),
        (&format!("{head}topic a/# out 1 x/# y/\n"), "local prefix"),
        ("listener 1883\nconnection b1\naddress 127.0.0.1:99999\n", "port"),
        (&format!("{head}topic a out\nstart_type sometimes\n"), "start_type"),
        (&format!("{head}topic a/#\nbridge_identity x\n"), "bridge_psk is missing"),
        (&format!("{head}address 127.0.0.1:2\ntopic a out\n"), "a second address line"),
        (&format!("{head}topic a out\nrestart_timeout 10 5\n"), "cap is lower than the base"),
        (
            &format!(
                "{head}topic a out\nremote_clientid x\nconnection b2\naddress h\ntopic a out\nremote_clientid x\n"
            ),
            "not unique",
        ),
    ] {
        let err = parse(text).expect_err(text);
        assert!(err.contains(needle), "{text:?}: {err}");
    }
}

#[test]
fn low_values_are_raised_with_a_note_as_mosquitto_does() {
    let c = parse(
        "connection b1\naddress h\ntopic a/# in 1 x\nkeepalive_interval 0\nthreshold 0\nrestart_timeout 5 30 40\n\
         bridge_protocol_version mqttv50\nstart_type lazy\nidle_timeout 0\n",
    )
    .unwrap();
    let b = &c.bridges[0];
    assert_eq!((b.keepalive, b.threshold, b.protocol, b.start_type), (5, 1, Protocol::V5, StartType::Lazy));
    assert_eq!((b.topics[0].local_filter(), b.topics[0].remote_filter()), ("xa/#".into(), "a/#".into()));
    assert!(c.startup_notes.iter().any(|n| n.contains("keepalive interval too low")), "{:?}", c.startup_notes);
    assert!(c.startup_notes.iter().any(|n| n.contains("threshold too low")), "{:?}", c.startup_notes);
    assert!(c.startup_notes.iter().any(|n| n.contains("idle_timeout interval too low")), "{:?}", c.startup_notes);
    assert_eq!(b.idle_timeout, 1);
    let zero = parse("connection b1\naddress h\ntopic a out 01\nrestart_timeout 0\n").unwrap();
    assert_eq!((zero.bridges[0].restart_timeout.base, zero.bridges[0].topics[0].qos), (1, QoS::AtLeastOnce));
}
