//! What the MQTT 5 app tests share: the app connected with MQTT 5 to the built-in broker, to one
//! of ours or to Debian's Mosquitto (both with an ACL), and Mosquitto's own clients as the other
//! party, with a persistent session so that nothing races a subscription.

use std::process::Command;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mqtt_lab::App;
use mqtt_lab::connection::ConnectionStatus;

use super::mosquitto::{Mosquitto, free_port};
use super::{ProfileDir, harness_sized, harness_with, new_profile_at, our_broker, runtime, settle, step_until};

/// Anonymous clients may use `lab/#`; `locked/in` may be written, not read; `locked/out` read,
/// not written.
pub const ACL: &str = "topic readwrite lab/#\ntopic write locked/in\ntopic read locked/out\n";

/// The broker a test runs against.
pub enum Broker {
    /// The app's own, with the built-in profile switched to version 5 in the editor.
    BuiltIn,
    /// One of ours with `ACL`.
    Ours,
    /// Debian's Mosquitto 2.0.11 with `ACL`.
    Mosquitto,
}

/// The app connected, and what must live as long as it.
pub struct Setup {
    pub harness: Harness<'static, App>,
    pub port: u16,
    _mosquitto: Option<Mosquitto>,
    _ours: Option<mqtt_lab_broker::Broker>,
    _runtime: tokio::runtime::Runtime,
    _dir: ProfileDir,
}

/// The app, its profile on MQTT 5 (picked in the editor as a user does), connected to `broker`.
pub fn connected(name: &str, broker: &Broker, size: egui::Vec2) -> Setup {
    let runtime = runtime();
    let dir = ProfileDir::new(name);
    let (mut harness, port, mosquitto, ours) = match broker {
        Broker::BuiltIn => {
            let mut harness = harness_sized(&runtime, &dir, size);
            step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
            let port = harness.state().builtin_addr().unwrap().port();
            harness.get_by_label("Profile settings").click();
            settle(&mut harness);
            (harness, port, None, None)
        }
        Broker::Ours | Broker::Mosquitto => {
            std::fs::create_dir_all(&dir.0).unwrap();
            let acl = dir.0.join("acl");
            std::fs::write(&acl, ACL).unwrap();
            let common = format!("allow_anonymous true\nacl_file {}\n", acl.display());
            let (port, mosquitto, ours) = if matches!(broker, Broker::Ours) {
                let config = mqtt_lab_broker::Config::parse(&common, &dir.0.join("ours.conf")).unwrap();
                let listener = mqtt_lab_broker::config::ListenerConfig::on_port(0, Some("127.0.0.1"));
                let (broker, port) = our_broker(&runtime, config, &listener);
                (port, None, Some(broker))
            } else {
                let port = free_port();
                let conf = dir.0.join("mosquitto.conf");
                std::fs::write(&conf, format!("listener {port} 127.0.0.1\n{common}")).unwrap();
                (port, Some(Mosquitto::start(&conf)), None)
            };
            let mut harness = harness_with(&runtime, &dir, None);
            harness.set_size(size);
            new_profile_at(&mut harness, port);
            (harness, port, mosquitto, ours)
        }
    };
    harness.get_by_role_and_label(Role::RadioButton, "5").click();
    settle(&mut harness);
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    Setup { harness, port, _mosquitto: mosquitto, _ours: ours, _runtime: runtime, _dir: dir }
}

/// Runs one of Mosquitto's clients with MQTT 5 against `port` and waits for it.
pub fn mosquitto_client(program: &str, port: u16, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-V", "5"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A `mosquitto_sub` session `id` subscribed to `topic` (QoS 1) and gone offline: the broker
/// queues what arrives for it until [`queued`] fetches it, so nothing races the subscription.
pub fn listener(port: u16, id: &str, topic: &str) {
    mosquitto_client("mosquitto_sub", port, &["-c", "-i", id, "-x", "60", "-q", "1", "-t", topic, "-E"]);
}

/// The first `count` messages queued for the [`listener`] session `id`, printed with `format`.
pub fn queued(port: u16, id: &str, topic: &str, count: u32, format: &str) -> String {
    let count = count.to_string();
    mosquitto_client(
        "mosquitto_sub",
        port,
        &["-c", "-i", id, "-x", "60", "-q", "1", "-t", topic, "-C", &count, "-W", "20", "-F", format],
    )
}

/// Clicks `label`, scrolled into view first, as a user does.
pub fn press(harness: &mut Harness<'static, App>, label: &str) {
    harness.get_by_label(label).scroll_to_me();
    settle(harness);
    harness.get_by_label(label).click();
    settle(harness);
}

/// Picks QoS 1 in the publish form.
pub fn publish_qos_1(harness: &mut Harness<'static, App>) {
    harness.get_all_by_label("QoS").last().unwrap().click();
    settle(harness);
    harness.get_by_label("1 (at least once)").click();
    settle(harness);
}
