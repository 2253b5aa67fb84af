//! The built-in broker's bridges in the Broker status section (issue 24), through the real app:
//! started with a `builtin-broker.conf` in its profiles folder whose bridge goes to a second
//! broker of ours on a free port, the section names the bridge "connected", with the remote's
//! address; once that remote stops it says "disconnected", why, and the messages the bridge
//! moved. The section lies inside the window at 1024x640, 1280x720 and 1920x1080 (rendered to
//! target/tmp/bridges/ for review); without bridges it shows nothing.

mod support;

use std::time::Instant;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use mqtt_lab::App;
use mqtt_lab::connection::ConnectionStatus;
use mqtt_lab::embedded::CONFIG_FILE;
use mqtt_lab_broker::config::ListenerConfig;
use support::*;

const SIZES: [egui::Vec2; 3] = [egui::vec2(1024.0, 640.0), egui::vec2(1280.0, 720.0), egui::vec2(1920.0, 1080.0)];

/// The bridge's name in the config.
const BRIDGE: &str = "school-link";

/// A broker of ours standing for the school's, with a retained message under `lab/` for the
/// bridge to bring in as soon as it subscribes.
fn remote_broker(runtime: &tokio::runtime::Runtime) -> (mqtt_lab_broker::Broker, u16) {
    let (broker, port) = our_broker(runtime, mqtt_lab_broker::Config::default(), &ListenerConfig::default());
    let published = std::process::Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1", "-r", "-t", "lab/hello", "-m", "hi"])
        .output()
        .expect("Debian's mosquitto-clients is installed");
    assert!(published.status.success(), "{}", String::from_utf8_lossy(&published.stderr));
    (broker, port)
}

/// The built-in broker's config: one bridge to 127.0.0.1:`port`, PV/ out, lab/ in, retrying
/// every second once the remote is gone.
fn write_bridge_config(dir: &ProfileDir, port: u16) {
    std::fs::create_dir_all(&dir.0).unwrap();
    let text = format!(
        "connection {BRIDGE}\naddress 127.0.0.1:{port}\ntopic PV/# out 1\ntopic lab/# in 1\nrestart_timeout 1\n"
    );
    std::fs::write(dir.0.join(CONFIG_FILE), text).unwrap();
}

/// Steps the app until `shown` holds for what it draws; panics with `what` and the built-in
/// broker's log after `PATIENCE`. The bridges are read every 2 s: this spans a few reads.
fn step_until_shown(harness: &mut Harness<'_, App>, what: &str, shown: impl Fn(&Harness<'_, App>) -> bool) {
    let start = Instant::now();
    while !shown(harness) {
        assert!(
            start.elapsed() < PATIENCE,
            "timed out waiting for {what}; the built-in broker's log: {:#?}",
            harness.state().broker_log()
        );
        harness.step();
        std::thread::yield_now();
    }
}

/// A node labelled exactly `label` is drawn.
fn has(harness: &Harness<'_, App>, label: &str) -> bool {
    harness.query_by_label(label).is_some()
}

fn has_containing(harness: &Harness<'_, App>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// Opens the sidebar's Broker status section.
fn open_broker_status(harness: &mut Harness<'_, App>) {
    harness.get_by_label("Broker status").click();
    settle(harness);
}

/// Scrolls the sidebar to `label` and checks that every node showing it lies in the window.
fn fits(harness: &mut Harness<'_, App>, size: egui::Vec2, label: &str) {
    harness.get_by_label_contains(label).scroll_to_me();
    settle(harness);
    inside(harness, size, label);
}

/// The window at 1280x720 (or any size) as a PNG under target/tmp/bridges/, for review.
fn keep_image(harness: &mut Harness<'_, App>, name: &str) {
    let image = harness.render().expect("the software renderer draws the window");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bridges");
    std::fs::create_dir_all(&dir).unwrap();
    image.save(dir.join(format!("{name}.png"))).unwrap();
}

/// Connects to the built-in broker and publishes the form's PV/sunshine "yes", retained, then
/// waits until the remote broker holds it: the bridge carried it out.
fn publish_through_the_bridge(harness: &mut Harness<'_, App>, remote: &mqtt_lab_broker::Broker) {
    harness.get_by_label("Connect").click();
    step_until(harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    harness.get_by_label("Retain").click();
    settle(harness);
    harness.get_by_role_and_label(egui::accesskit::Role::Button, "Publish").click();
    let start = Instant::now();
    while remote.topic_info("PV/sunshine").retained.is_none() {
        assert!(start.elapsed() < PATIENCE, "the bridge did not carry PV/sunshine to the remote");
        harness.step();
        std::thread::yield_now();
    }
}

#[test]
fn the_section_follows_a_bridge_up_and_down() {
    let runtime = runtime();
    let dir = ProfileDir::new("bridges");
    let (remote, port) = remote_broker(&runtime);
    write_bridge_config(&dir, port);
    let mut harness = harness_with(&runtime, &dir, Some(0));
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    open_broker_status(&mut harness);

    let address = format!("Remote: 127.0.0.1:{port}");
    let (up, down) = (format!("{BRIDGE}: connected"), format!("{BRIDGE}: disconnected"));
    step_until_shown(&mut harness, "the bridge shown connected", |h| has(h, &up) && has(h, &address));
    assert!(!has(&harness, &down), "one word for one state");
    assert!(!has_containing(&harness, "Last error"), "no error while connected");
    publish_through_the_bridge(&mut harness, &remote);
    // Counted while connected: the retained lab/hello in, PV/sunshine out.
    step_until_shown(&mut harness, "the counts while connected", |h| {
        has(h, "Messages sent 1, received 1") && has(h, &up)
    });

    // The remote goes away: its connections are closed, then it refuses the retries.
    runtime.block_on(remote.shutdown());
    step_until_shown(&mut harness, "the bridge shown disconnected", |h| {
        has(h, &down) && has_containing(h, "Last error: ") && has(h, &address)
    });
    assert!(!has(&harness, &up), "no longer connected");
    let node = harness.get_by_label_contains("Last error: ").accesskit_node();
    let error = node.label().or_else(|| node.value()).unwrap_or_default();
    assert!(error.len() > "Last error: ".len() + 5, "the error is in words: {error:?}");
    // The counts outlive the connection.
    step_until_shown(&mut harness, "the messages moved", |h| has(h, "Messages sent 1, received 1"));

    for size in SIZES {
        harness.set_size(size);
        settle(&mut harness);
        for label in ["Bridges", &down, &address, "Messages sent 1", "Last error: "] {
            fits(&mut harness, size, label);
        }
        keep_image(&mut harness, &format!("bridge_down_{}x{}", size.x, size.y));
    }
}

#[test]
fn the_section_fits_a_laptop_screen_while_connected() {
    let runtime = runtime();
    let dir = ProfileDir::new("bridges-sizes");
    let (_remote, port) = remote_broker(&runtime);
    write_bridge_config(&dir, port);
    let mut harness = harness_with(&runtime, &dir, Some(0));
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    open_broker_status(&mut harness);
    let address = format!("Remote: 127.0.0.1:{port}");
    let up = format!("{BRIDGE}: connected");
    // Connected, with the remote's retained lab/hello counted in.
    let counts = "Messages sent 0, received 1";
    step_until_shown(&mut harness, "the bridge shown connected", |h| has(h, &up) && has(h, &address) && has(h, counts));
    for size in SIZES {
        harness.set_size(size);
        settle(&mut harness);
        for label in ["Bridges", &up, &address, counts] {
            fits(&mut harness, size, label);
        }
        keep_image(&mut harness, &format!("bridge_up_{}x{}", size.x, size.y));
    }
}

#[test]
fn without_bridges_the_section_shows_none() {
    let runtime = runtime();
    let dir = ProfileDir::new("bridges-none");
    let mut harness = harness_with(&runtime, &dir, Some(0));
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    open_broker_status(&mut harness);
    // Two reads apart: the first answer (an empty list) has come and gone through the panel.
    let start = Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(2500) {
        harness.step();
        std::thread::yield_now();
    }
    settle(&mut harness);
    assert!(has(&harness, "Not watching."), "the section is open");
    assert!(harness.query_all(by().label_contains("Bridges")).next().is_none(), "no Bridges heading");
}
