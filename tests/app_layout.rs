//! The layout on laptop screens: at 1024x640, 1280x720 and 1920x1080 the connection state, the
//! last error and every tab's main widgets lie wholly inside the window (their accesskit
//! bounds), and the plot takes at least half the window's height on the Plot tab. At 1280x720
//! each tab is also rendered to a PNG for review (target/layout/; `UPDATE_SNAPSHOTS=1` writes
//! tests/snapshots/layout_*.png, committed to show the layout in review: the contents, such as
//! times and ports, change from run to run, so they are looked at, not compared).

mod support;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use mqtt_lab::App;
use mqtt_lab::connection::ConnectionStatus;
use support::*;

const SIZES: [egui::Vec2; 3] = [egui::vec2(1024.0, 640.0), egui::vec2(1280.0, 720.0), egui::vec2(1920.0, 1080.0)];

/// The plot's drawing area: egui_plot's canvas, the largest unlabelled node on the Plot tab.
fn plot_area(harness: &Harness<'_, App>) -> egui::Rect {
    harness
        .query_all(by().role(Role::Unknown))
        .filter_map(|n| n.accesskit_node().bounding_box())
        .map(|b| egui::Rect::from_min_max(egui::pos2(b.x0 as f32, b.y0 as f32), egui::pos2(b.x1 as f32, b.y1 as f32)))
        .max_by(|a, b| a.area().total_cmp(&b.area()))
        .expect("the plot's canvas")
}

fn tab(harness: &mut Harness<'_, App>, name: &str) {
    harness.get_by_role_and_label(Role::Button, name).click();
    settle(harness);
}

/// What each tab looks like at 1280x720, for review.
fn keep_image(harness: &mut Harness<'_, App>, size: egui::Vec2, name: &str) {
    if size != egui::vec2(1280.0, 720.0) {
        return;
    }
    let image = harness.render().expect("the software renderer draws the window");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("layout");
    std::fs::create_dir_all(&dir).unwrap();
    image.save(dir.join(format!("layout_{name}.png"))).unwrap();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        image.save(format!("{}/tests/snapshots/layout_{name}.png", env!("CARGO_MANIFEST_DIR"))).unwrap();
    }
}

/// The Topics tab with a node selected, and the connections list beside it.
fn topics_tab_fits(harness: &mut Harness<'_, App>, size: egui::Vec2) {
    tab(harness, "Topics");
    harness.get_by_label("Expand PV").click();
    settle(harness);
    harness.get_by_role_and_label(Role::Button, "PV/sunshine").click();
    settle(harness);
    for label in [
        "Filter topics",
        "Only retained",
        "Collapse all",
        "1 topic, 1 message, 0 retained",
        "Last value",
        "Plot this",
        "Publish here",
        "Copy topic",
        "Subscribe to this subtree",
        "Delete retained…",
        "Connections (2)",
        "Close Built-in broker",
    ] {
        inside(harness, size, label);
    }
    keep_image(harness, size, "topics");
}

#[test]
fn every_tab_fits_a_laptop_screen() {
    let runtime = runtime();
    for size in SIZES {
        let dir = ProfileDir::new(&format!("layout-{}", size.x));
        let mut harness = harness_sized(&runtime, &dir, size);
        step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());

        // A refusal in full: the course's Raspberry Pi profile against a port nobody listens on.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let builtin = harness.state().selected_profile().name.clone();
        let name = profile_name(&harness, |n| n.starts_with("Raspberry Pi (password"));
        choose_profile(&mut harness, &name);
        set_field(&mut harness, "Host", "127.0.0.1");
        set_field(&mut harness, "Port", &closed.to_string());
        harness.get_by_role_and_label(Role::Button, "Connect").click();
        step_until(&mut harness, "the refusal", |app| matches!(app.status(), ConnectionStatus::Failed(_)));
        settle(&mut harness);
        inside(&harness, size, "Failed: ");
        keep_image(&mut harness, size, "error");

        choose_profile(&mut harness, &builtin);
        connect_and_subscribe(&mut harness);
        harness.get_by_role_and_label(Role::Button, "Publish").click();
        step_until(&mut harness, "the message", |app| app.model().messages.total() == 1);
        settle(&mut harness);
        for label in [
            "Profile",
            "Client id",
            "Disconnect",
            "Connected",
            "Built-in broker (127.0.0.1:",
            "Hide sidebar",
            "Messages",
            "Topics",
            "Plot",
            "Packets",
            "Log",
            "Screenshot window",
            "Screenshot tab",
            "Caption",
            "Theme",
            "Shortcuts",
            "Subscribe",
            "Unsubscribe",
            "Mute",
            "1 message",
            "Search",
            "Topic",
            "Payload",
            "Publish",
            "PV/sunshine",
        ] {
            inside(&harness, size, label);
        }
        keep_image(&mut harness, size, "messages");

        // The notice after a save, with its buttons, in a long reports folder's path.
        harness.get_by_label("Screenshots and exports").click();
        settle(&mut harness);
        let folder = dir.0.join("reports for the lab report of the internet of things course, week 3");
        set_field(&mut harness, "Reports folder", &folder.display().to_string());
        harness.get_by_label("Export CSV").click();
        step_until(&mut harness, "the export", |app| app.model().log.iter().any(|l| l.text.starts_with("Exported ")));
        settle(&mut harness);
        for label in ["Saved ", "Open folder", "Dismiss", "Reports folder", "Choose…", "Export CSV", "Export JSON"] {
            inside(&harness, size, label);
        }
        harness.get_by_label("Dismiss").click();
        harness.get_by_label("Screenshots and exports").click();
        settle(&mut harness);

        tab(&mut harness, "Plot");
        for label in ["Live 5 min", "Today", "Custom", "Series", "Export"] {
            inside(&harness, size, label);
        }
        let plot = plot_area(&harness);
        let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size).expand(0.5);
        assert!(window.contains_rect(plot), "at {size:?} the plot is cut off: {plot:?}");
        assert!(plot.height() >= size.y / 2.0, "at {size:?} the plot is {} of {} px high", plot.height(), size.y);
        keep_image(&mut harness, size, "plot");

        tab(&mut harness, "Packets");
        harness.get_by_label_contains("sent      CONNECT").click();
        settle(&mut harness);
        for label in ["Show:", "sent      CONNECT", "received  CONNACK", "Save PNG", "Save text", "Protocol name"] {
            inside(&harness, size, label);
        }
        keep_image(&mut harness, size, "packets");

        topics_tab_fits(&mut harness, size);

        tab(&mut harness, "Log");
        inside(&harness, size, "Connected (session present: false).");
        keep_image(&mut harness, size, "log");

        // Hidden, the sidebar gives its width to the tabs.
        harness.get_by_role_and_label(Role::Button, "Hide sidebar").click();
        settle(&mut harness);
        assert!(harness.query_by_label("Subscribe").is_none());
        inside(&harness, size, "Show sidebar");
    }
}

/// The MQTT 5 parts at each laptop size: the publish form with its properties open, a message
/// with properties in the detail pane (with Reply), the subscribe form's options and what the
/// broker granted, each scrolled to as a user would.
#[test]
fn mqtt5_sections_fit_a_laptop_screen() {
    let runtime = runtime();
    for size in SIZES {
        let dir = ProfileDir::new(&format!("layout-v5-{}", size.x));
        let mut harness = harness_sized(&runtime, &dir, size);
        step_until(&mut harness, "the built-in broker", |app| app.builtin_addr().is_some());
        choose_profile(&mut harness, "Built-in broker (MQTT 5)");
        connect_and_subscribe(&mut harness);
        harness.get_by_label("MQTT 5 properties").click();
        settle(&mut harness);
        set_field(&mut harness, "Response topic", "PV/answers");
        set_field(&mut harness, "Correlation data", "req-1");
        harness.get_by_label("Add message user property").click();
        settle(&mut harness);
        harness.get_by_role_and_label(Role::Button, "Publish").click();
        step_until(&mut harness, "the message", |app| app.model().messages.total() == 1);
        harness.get_by_label_contains("reply to PV/answers");
        harness.get_by_label_contains("PV/sunshine  yes").click();
        settle(&mut harness);
        for label in [
            "Message expiry (s)",
            "Content type",
            "Response topic",
            "Correlation data",
            "Topic alias",
            "Add message user property",
            "Publish",
            "Reply",
            "Response Topic",
            "req-1 (5 bytes)",
            "Messages",
            "Screenshot tab",
        ] {
            inside(&harness, size, label);
        }
        keep_image(&mut harness, size, "mqtt5_messages");
        for section in ["MQTT 5 options", "Server granted (CONNACK)"] {
            harness.get_by_label(section).scroll_to_me();
            settle(&mut harness);
            harness.get_by_label(section).click();
            settle(&mut harness);
        }
        for label in
            ["No local", "Retain handling", "Subscription identifier", "Receive maximum", "Shared subscriptions"]
        {
            harness.get_by_label(label).scroll_to_me();
            settle(&mut harness);
            inside(&harness, size, label);
        }
        keep_image(&mut harness, size, "mqtt5_sidebar");
    }
}
