//! The small things a tester found (issue 19), through the real app: secret fields that can be
//! read on a laptop and shown on demand, `$SYS` figures that stay in the status panel, the
//! publish form that sends what its slider shows, and the shortcuts window naming the zoom keys.

mod support;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use mqtt_lab::connection::ConnectionStatus;
use mqtt_lab::schema::LedCommand;
use mqtt_lab::{App, AppOptions};
use support::*;

/// The app without the built-in broker, in a window of a laptop's size.
fn harness_sized(runtime: &tokio::runtime::Runtime, dir: &ProfileDir, size: egui::Vec2) -> Harness<'static, App> {
    let handle = runtime.handle().clone();
    let options = AppOptions {
        embedded_port: None,
        profile_dir: Some(dir.0.clone()),
        history_file: Some(dir.0.join("history.sqlite3")),
    };
    Harness::builder().with_size(size).build_eframe(move |cc| App::new(&cc.egui_ctx, handle, &options))
}

/// Every accesskit node whose label or value contains `text`.
fn nodes_showing(harness: &Harness<'_, App>, text: &str) -> usize {
    harness
        .query_all(
            by().predicate(|n| {
                n.value().is_some_and(|v| v.contains(text)) || n.label().is_some_and(|l| l.contains(text))
            }),
        )
        .count()
}

#[test]
fn secrets_are_hidden_until_shown_in_fields_wide_enough_to_read() {
    const PASSWORD: &str = "btsiotpass1";
    let runtime = runtime();
    for (n, size) in [egui::vec2(1024.0, 640.0), egui::vec2(1280.0, 720.0)].into_iter().enumerate() {
        let dir = ProfileDir::new(&format!("secrets-{n}"));
        let mut harness = harness_sized(&runtime, &dir, size);
        harness.get_by_label("Profile settings").click();
        settle(&mut harness);
        set_field(&mut harness, "Password", PASSWORD);
        assert_eq!(harness.state().selected_profile().password.as_deref(), Some(PASSWORD));
        assert_eq!(nodes_showing(&harness, PASSWORD), 0, "hidden by default at {size:?}");
        let width = harness.get_by_label("Password").rect().width();
        assert!(width >= 250.0, "the password field is {width} px wide at {size:?}");

        harness.get_by_label("Show password").click();
        settle(&mut harness);
        assert_eq!(harness.get_by_label("Password").value().as_deref(), Some(PASSWORD), "shown at {size:?}");
        harness.get_by_label("Show password").click();
        settle(&mut harness);
        assert_eq!(nodes_showing(&harness, PASSWORD), 0, "hidden again at {size:?}");

        // The course's TLS-PSK profile: its key is hidden the same way, with its own switch.
        let name = profile_name(&harness, |n| n.contains("TLS-PSK"));
        choose_profile(&mut harness, &name);
        let key = "0123456789abcdef0123";
        assert_eq!(nodes_showing(&harness, key), 0, "the PSK key is hidden by default at {size:?}");
        let width = harness.get_by_label("PSK key (hex)").rect().width();
        assert!(width >= 250.0, "the PSK key field is {width} px wide at {size:?}");
        harness.get_by_label("Show key").click();
        settle(&mut harness);
        assert_eq!(harness.get_by_label("PSK key (hex)").value().as_deref(), Some(key));
        let log = &harness.state().model().log;
        assert!(!log.iter().any(|l| l.text.contains(PASSWORD) || l.text.contains(key)), "never logged: {log:?}");
    }
}

fn sys_in_list(app: &App) -> Vec<String> {
    let messages = &app.model().messages;
    (0..messages.len())
        .filter_map(|i| messages.get(i))
        .map(|m| m.topic.clone())
        .filter(|t| t.starts_with("$SYS"))
        .collect()
}

#[test]
fn sys_figures_feed_the_status_panel_and_not_the_list_unless_subscribed() {
    let runtime = runtime();
    let dir = ProfileDir::new("sys-routing");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness);
    harness.get_by_label("Broker status").click();
    settle(&mut harness);
    harness.get_by_label("Watch $SYS/#").click();
    // The built-in broker's figures are retained: they come with the SUBACK.
    step_until(&mut harness, "the figures in the panel", |app| {
        let figures = app.model().sys.figures();
        ["Version", "Uptime", "Clients connected"].iter().all(|l| figures.iter().any(|(f, _)| f == l))
    });
    settle(&mut harness);
    assert!(harness.query_by_label("Uptime").is_some(), "the panel lists them");
    assert_eq!(sys_in_list(harness.state()), Vec::<String>::new(), "the list has no $SYS message");

    // A message of the user's own subscription (PV/#) goes into the list and the history...
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "PV/sunshine in the list", |app| app.model().messages.total() >= 1);
    let history = dir.0.join("history.sqlite3");
    let start = std::time::Instant::now();
    let stored = loop {
        let rows = mqtt_lab::history::open(&history)
            .and_then(|db| mqtt_lab::history::newest(&db, "Built-in broker", 1000))
            .unwrap_or_default();
        if rows.iter().any(|m| m.topic == "PV/sunshine") {
            break rows;
        }
        assert!(start.elapsed() < PATIENCE, "PV/sunshine never reached the history");
        harness.step();
        std::thread::yield_now();
    };
    // ... and the $SYS figures received before it did not.
    assert!(
        stored.iter().all(|m| !m.topic.starts_with("$SYS")),
        "{:?}",
        stored.iter().map(|m| &m.topic).collect::<Vec<_>>()
    );
    assert_eq!(sys_in_list(harness.state()), Vec::<String>::new());

    // Subscribed to by the user, a $SYS topic is listed.
    set_field(&mut harness, "Filter", "$SYS/broker/uptime");
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the uptime in the list", |app| {
        sys_in_list(app).iter().any(|t| t == "$SYS/broker/uptime")
    });
    assert!(sys_in_list(harness.state()).iter().all(|t| t == "$SYS/broker/uptime"), "only the subscribed topic");
}

/// Two percentages (or zoom factors) that must be the same number.
fn assert_same(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 1e-9, "{what}: {a} and {b}");
}

/// The Brightness slider's value as accesskit reports it.
fn brightness(harness: &Harness<'_, App>) -> f64 {
    let slider = harness.get_by_role_and_label(Role::Slider, "Brightness");
    slider.accesskit_node().numeric_value().expect("the slider has a value")
}

#[test]
fn the_lamp_form_sends_the_payload_its_slider_shows() {
    let runtime = runtime();
    let dir = ProfileDir::new("lamp-form");
    let mut harness = app_harness(&runtime, &dir);
    step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "connected", |app| matches!(app.status(), ConnectionStatus::Connected { .. }));
    set_field(&mut harness, "Filter", "lamp/#");
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    step_until(&mut harness, "the SUBACK", |app| {
        app.model().subscriptions.list.iter().any(|s| matches!(s.state, mqtt_lab::model::SubscriptionState::Active(_)))
    });

    // The form starts on PV/sunshine with "yes"; choosing lamp/cmd puts the slider's value in
    // the payload instead of leaving "yes" under a slider at 50 %.
    set_field(&mut harness, "Topic", "lamp/cmd");
    let shown = brightness(&harness);
    assert_same(shown, 50.0, "the slider starts at 50 %");
    assert_eq!(harness.state().publish_form().payload, r#"{"control":"PWM","value":50,"unit":"%"}"#);
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "lamp/cmd back", |app| app.model().messages.get(0).is_some_and(|m| m.topic == "lamp/cmd"));
    let received = harness.state().model().messages.get(0).unwrap().payload.clone();
    assert_same(
        LedCommand::from_payload(&received).unwrap().value(),
        shown,
        "the subscriber got what the slider showed",
    );

    // Moved, the slider writes its new value, and that is what is sent.
    harness.get_by_role_and_label(Role::Slider, "Brightness").set_value_accesskit(20.0);
    settle(&mut harness);
    let shown = brightness(&harness);
    assert_same(shown, 20.0, "the slider moved");
    harness.get_by_role_and_label(Role::Button, "Publish").click();
    step_until(&mut harness, "the second lamp/cmd", |app| app.model().messages.total() == 2);
    let received = harness.state().model().messages.get(0).unwrap().payload.clone();
    assert_same(LedCommand::from_payload(&received).unwrap().value(), shown, "received and shown");

    // A payload typed by hand that the form cannot read (testing the firmware's errors): the
    // slider gives way rather than show a value that will not be sent.
    set_field(&mut harness, "Payload", "yes");
    assert!(harness.query_by_role_and_label(Role::Slider, "Brightness").is_none());
    harness.get_by_label_contains("the payload is not a value of this form");
    harness.get_by_label("Use the form").click();
    settle(&mut harness);
    assert_same(brightness(&harness), 50.0, "the form's value");
    assert_eq!(harness.state().publish_form().payload, r#"{"control":"PWM","value":50,"unit":"%"}"#);
}

#[test]
fn f1_lists_every_shortcut_and_the_zoom_keys_work() {
    let runtime = runtime();
    let dir = ProfileDir::new("shortcuts");
    let mut harness = harness_sized(&runtime, &dir, egui::vec2(1280.0, 720.0));
    harness.key_press(egui::Key::F1);
    settle(&mut harness);
    for keys in
        ["Ctrl+plus (or Ctrl+=)", "Ctrl+minus", "Ctrl+0", "F12", "Shift+F12", "F1", "Ctrl+Enter (Cmd+Enter on macOS)"]
    {
        assert!(harness.query_by_label(keys).is_some(), "{keys} is listed");
    }
    // The listed zoom keys are egui's and are on.
    assert_same(f64::from(harness.ctx.zoom_factor()), 1.0, "no zoom at first");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Plus);
    settle(&mut harness);
    assert!(harness.ctx.zoom_factor() > 1.0, "Ctrl+plus zooms in");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num0);
    settle(&mut harness);
    assert_same(f64::from(harness.ctx.zoom_factor()), 1.0, "Ctrl+0 resets");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Minus);
    settle(&mut harness);
    assert!(harness.ctx.zoom_factor() < 1.0, "Ctrl+minus zooms out");
}
