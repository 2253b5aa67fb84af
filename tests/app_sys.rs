//! The broker status panel, fed by $SYS/# from one of our brokers (sys_interval 1, as a teacher
//! may set it): version, uptime, clients and message figures after one click.

mod support;

use egui_kittest::kittest::Queryable;
use mqtt_lab::connection::ConnectionStatus;
use support::*;

/// Connects a new profile to 127.0.0.1:`port` and clicks "Watch $SYS/#".
fn connect_and_watch_sys(harness: &mut egui_kittest::Harness<'_, mqtt_lab::App>, port: u16) {
    new_profile_at(harness, port);
    harness.get_by_label("Connect").click();
    step_until(harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    harness.get_by_label("Broker status").click();
    settle(harness);
    harness.get_by_label("Watch $SYS/#").click();
}

#[test]
fn one_click_shows_the_brokers_own_figures() {
    let runtime = runtime();
    let dir = ProfileDir::new("sys");
    let config = mqtt_lab_broker::Config { sys_interval: 1, ..mqtt_lab_broker::Config::default() };
    let (_broker, port) = our_broker(&runtime, config, &mqtt_lab_broker::config::ListenerConfig::default());
    let mut harness = harness_with(&runtime, &dir, None);
    connect_and_watch_sys(&mut harness, port);
    step_until(&mut harness, "the figures", |app| {
        let figures = app.model().sys.figures();
        ["Version", "Uptime", "Clients connected", "Messages received"]
            .iter()
            .all(|l| figures.iter().any(|(f, _)| f == l))
    });
    settle(&mut harness);
    assert!(harness.query_by_label("Version").is_some(), "the panel lists the version");
    assert!(harness.query_all_by_label_contains("mqtt-lab-broker version").count() >= 1, "in the panel");
    // Not in the list: the panel's own subscription feeds the panel only (tests/app_small.rs
    // shows a $SYS filter of the user's filling the list).
    let messages = &harness.state().model().messages;
    assert!(
        (0..messages.len()).filter_map(|i| messages.get(i)).all(|m| !m.topic.starts_with("$SYS")),
        "not in the list"
    );
    assert!(harness.query_by_label("Clients connected").is_some());
    // The retained figure may predate this connection; the next one (a second later) counts it.
    step_until(&mut harness, "this app counted as the one client", |app| {
        app.model().sys.figures().iter().any(|(l, v)| *l == "Clients connected" && *v == "1")
    });
    let figures = harness.state().model().sys.figures();
    assert!(figures.iter().find(|(l, _)| *l == "Uptime").unwrap().1.ends_with(" seconds"));
}

/// The same panel with Debian's Mosquitto 2.0 (sys_interval 1): its topics are the ones we read.
#[test]
fn mosquittos_figures_fill_the_same_panel() {
    let runtime = runtime();
    let dir = ProfileDir::new("sys-mosquitto");
    std::fs::create_dir_all(&dir.0).unwrap();
    let port = support::mosquitto::free_port();
    let conf = dir.0.join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\nsys_interval 1\n")).unwrap();
    let _mosquitto = support::mosquitto::Mosquitto::start(&conf);
    let mut harness = harness_with(&runtime, &dir, None);
    connect_and_watch_sys(&mut harness, port);
    step_until(&mut harness, "Mosquitto's figures", |app| {
        let figures = app.model().sys.figures();
        figures.iter().any(|(l, v)| *l == "Version" && v.starts_with("mosquitto version"))
            && figures.iter().any(|(l, v)| *l == "Clients connected" && *v == "1")
            && figures.iter().any(|(l, _)| *l == "Messages in per minute (1 min average)")
    });
}
