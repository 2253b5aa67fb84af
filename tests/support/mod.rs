//! What the app's end-to-end tests share: a runtime, a profile directory per test, the real App in
//! an egui_kittest harness, a bounded `step_until`, and brokers of ours on free ports.
#![allow(dead_code, clippy::missing_panics_doc)]

use std::time::{Duration, Instant};

pub mod dir_lock;
pub mod mosquitto;
pub mod mqtt5;
pub mod node;
pub mod pki;
pub mod s_server;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use mqtt_lab::connection::ConnectionStatus;
use mqtt_lab::model::SubscriptionState;
use mqtt_lab::{App, AppOptions};

/// Bounds a wait that only a failing test reaches.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("test-io").enable_all().build().unwrap()
}

/// A fresh profile directory for one test, removed when dropped.
pub struct ProfileDir(pub std::path::PathBuf);

impl ProfileDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mqtt-lab-app-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for ProfileDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn harness_with(
    runtime: &tokio::runtime::Runtime,
    dir: &ProfileDir,
    embedded_port: Option<u16>,
) -> Harness<'static, App> {
    let handle = runtime.handle().clone();
    let options = AppOptions {
        embedded_port,
        profile_dir: Some(dir.0.clone()),
        history_file: Some(dir.0.join("history.sqlite3")),
    };
    Harness::builder()
        .with_size(egui::vec2(1300.0, 900.0))
        .build_eframe(move |cc| App::new(&cc.egui_ctx, handle, &options))
}

/// The app in a window of `size` (points), with the built-in broker on a free port.
pub fn harness_sized(runtime: &tokio::runtime::Runtime, dir: &ProfileDir, size: egui::Vec2) -> Harness<'static, App> {
    let handle = runtime.handle().clone();
    let options = AppOptions {
        embedded_port: Some(0),
        profile_dir: Some(dir.0.clone()),
        history_file: Some(dir.0.join("history.sqlite3")),
    };
    Harness::builder().with_size(size).build_eframe(move |cc| App::new(&cc.egui_ctx, handle, &options))
}

pub fn app_harness(runtime: &tokio::runtime::Runtime, dir: &ProfileDir) -> Harness<'static, App> {
    // The built-in broker on a free port: tests never use fixed ports.
    harness_with(runtime, dir, Some(0))
}

/// Steps the app until `done` holds; the worker threads run meanwhile. Panics with `what`.
pub fn step_until(harness: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}; log: {:?}", harness.state().model().log);
        harness.step();
        // Let the I/O threads run between frames, as a real frame interval would.
        std::thread::yield_now();
    }
    harness.step();
}

pub fn set_field(harness: &mut Harness<'_, App>, label: &str, text: &str) {
    let field = harness.get_by_label(label);
    field.focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness.get_by_label(label).type_text(text);
    // Let the layout settle (a validation message may come or go) before the next click.
    settle(harness);
}

/// Runs frames until the app stops asking for more. Work finishing on other threads (a page of
/// history read, a count) may ask for a few more frames than `run()` allows: keep going, bounded.
pub fn settle(harness: &mut Harness<'_, App>) {
    for _ in 0..100 {
        if harness.try_run().is_ok() {
            return;
        }
        std::thread::yield_now();
    }
    panic!("the app kept asking for frames; log: {:?}", harness.state().model().log);
}

/// Waits for the built-in broker, connects, and subscribes with the filter in the form.
pub fn connect_and_subscribe(harness: &mut Harness<'_, App>) {
    step_until(harness, "the built-in broker", |app| app.builtin_addr().is_some());
    harness.get_by_label("Connect").click();
    step_until(harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(harness, "the SUBACK", |app| {
        app.model().subscriptions.list.iter().any(|s| matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });
}

/// One of our brokers on a free port of 127.0.0.1, logging nowhere.
pub fn our_broker(
    runtime: &tokio::runtime::Runtime,
    config: mqtt_lab_broker::Config,
    settings: &mqtt_lab_broker::config::ListenerConfig,
) -> (mqtt_lab_broker::Broker, u16) {
    our_broker_at(runtime, config, settings, 0)
}

/// One of our brokers on 127.0.0.1:`port` (0: a free one), logging nowhere. A port an earlier
/// broker of the test was given by the system may be bound again to restart "the same" broker.
pub fn our_broker_at(
    runtime: &tokio::runtime::Runtime,
    mut config: mqtt_lab_broker::Config,
    settings: &mqtt_lab_broker::config::ListenerConfig,
    port: u16,
) -> (mqtt_lab_broker::Broker, u16) {
    let listener = runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", port))).unwrap();
    let port = listener.local_addr().unwrap().port();
    config.log.set_dest(mqtt_lab_broker::log::LogDest::None);
    let broker = runtime.block_on(async {
        let broker = mqtt_lab_broker::Broker::start(config).unwrap();
        broker.listen(listener, settings).unwrap();
        broker
    });
    (broker, port)
}

/// Subscribes with the form's filter (PV/#), publishes the form's message (PV/sunshine "yes")
/// and waits until it comes back.
pub fn round_trip(harness: &mut Harness<'_, App>) {
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(harness, "the SUBACK", |app| {
        app.model().subscriptions.list.iter().any(|s| matches!(s.state, SubscriptionState::Active(_)))
    });
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(harness, "the message", |app| app.model().messages.total() == 1);
}

/// A new profile in the editor, pointed at 127.0.0.1:`port`.
pub fn new_profile_at(harness: &mut Harness<'_, App>, port: u16) {
    harness.get_by_label("Profile settings").click();
    settle(harness);
    harness.get_by_label("New profile").click();
    settle(harness);
    set_field(harness, "Host", "127.0.0.1");
    set_field(harness, "Port", &port.to_string());
}

/// The name of the first profile whose name passes `wanted`.
pub fn profile_name(harness: &Harness<'_, App>, wanted: impl Fn(&str) -> bool) -> String {
    harness.state().profiles().iter().map(|p| p.name.clone()).find(|n| wanted(n)).expect("the profile")
}

/// Chooses the profile `name` in the connection bar's picker, as a user does.
pub fn choose_profile(harness: &mut Harness<'_, App>, name: &str) {
    harness.get_by_label("Profile").click();
    settle(harness);
    harness.get_by_role_and_label(egui::accesskit::Role::Button, name).click();
    settle(harness);
}

/// One of our brokers that refuses anonymous clients, as the course's Raspberry Pi does, and the
/// app with the course's "Raspberry Pi (password …)" example pointed at it: its login is refused.
pub fn course_login_refused(
    runtime: &tokio::runtime::Runtime,
    dir: &ProfileDir,
) -> (mqtt_lab_broker::Broker, Harness<'static, App>) {
    let config = mqtt_lab_broker::Config { allow_anonymous: Some(false), ..Default::default() };
    let (broker, port) = our_broker(runtime, config, &mqtt_lab_broker::config::ListenerConfig::default());
    let mut harness = harness_with(runtime, dir, None);
    let name = profile_name(&harness, |n| n.starts_with("Raspberry Pi (password"));
    choose_profile(&mut harness, &name);
    set_field(&mut harness, "Host", "127.0.0.1");
    set_field(&mut harness, "Port", &port.to_string());
    (broker, harness)
}

/// Writes `n` PV/data messages of the built-in broker's profile into the test's history file, one
/// every 100 ms from `ago` in the past, as if received in an earlier session.
pub fn stored_history(dir: &ProfileDir, n: u64, ago: Duration, payload: impl Fn(u64) -> String) {
    use mqtt_lab::connection::{Qos, ReceivedMessage};
    use mqtt_lab::history::{self, Record};
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut db = history::open(&dir.0.join("history.sqlite3")).unwrap();
    let t0 = std::time::SystemTime::now() - ago;
    let records: Vec<Record> = (0..n)
        .map(|i| Record {
            profile: "Built-in broker".into(),
            client_id: String::new(),
            message: ReceivedMessage {
                topic: "PV/data".into(),
                payload: payload(i).into(),
                qos: Qos::AtMostOnce,
                retain: false,
                dup: false,
                at: t0 + Duration::from_millis(i * 100),
                properties: mqtt_lab::mqtt::PublishProperties::default(),
            },
        })
        .collect();
    history::insert(&mut db, &records).unwrap();
}

/// In the profile editor: the course's user name and password, and a last will on `will_topic`.
pub fn set_credentials_and_will(harness: &mut Harness<'_, App>, will_topic: &str) {
    step_until(harness, "the built-in broker", |app| app.builtin_addr().is_some());
    harness.get_by_label("Profile settings").click();
    settle(harness);
    set_field(harness, "User name", "btsiot1");
    set_field(harness, "Password", "btsiotpass1");
    harness.get_by_label("Last will").click();
    settle(harness);
    set_field(harness, "Will topic", will_topic);
    set_field(harness, "Will message", "offline");
}

/// Every node whose label contains `label` lies inside the window; there is at least one.
pub fn inside(harness: &Harness<'_, App>, size: egui::Vec2, label: &str) {
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size).expand(0.5);
    let mut found = 0;
    for node in harness.query_all(by().label_contains(label)) {
        let Some(b) = node.accesskit_node().bounding_box() else { continue };
        let rect = egui::Rect::from_min_max(egui::pos2(b.x0 as f32, b.y0 as f32), egui::pos2(b.x1 as f32, b.y1 as f32));
        assert!(window.contains_rect(rect), "at {size:?}, {label:?} is cut off: {rect:?}");
        found += 1;
    }
    assert!(found > 0, "at {size:?}, nothing labelled {label:?}");
}
