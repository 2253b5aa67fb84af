//! Screenshots for lab reports, rendered for real (wgpu on mesa's software Vulkan): the window and
//! the current tab are saved as PNG files into the chosen folder, named with profile, tab and time.

mod support;

use egui_kittest::kittest::Queryable;
use support::*;

fn saved(app: &mqtt_lab::App) -> Vec<String> {
    app.model
        .log
        .iter()
        .filter_map(|l| l.text.strip_prefix("Screenshot saved to "))
        .map(|p| p.trim_end_matches('.').to_owned())
        .collect()
}

#[test]
fn the_window_and_the_current_tab_are_saved_as_png_files() {
    let runtime = runtime();
    let dir = ProfileDir::new("capture");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness);
    harness.get_by_label("Screenshots and exports").click();
    settle(&mut harness);
    let folder = dir.0.join("shots");
    set_field(&mut harness, "Reports folder", &folder.display().to_string());

    harness.get_by_label("Screenshot window").click();
    step_until(&mut harness, "the window saved", |app| saved(app).len() == 1);
    harness.get_by_label("Packets").click();
    settle(&mut harness);
    harness.get_by_label("Screenshot tab").click();
    step_until(&mut harness, "the tab saved", |app| saved(app).len() == 2);

    let files = saved(harness.state());
    assert!(
        files[0].contains("mqtt-lab_built-in-broker_window_")
            && std::path::Path::new(&files[0]).extension().is_some_and(|e| e == "png"),
        "{files:?}"
    );
    assert!(files[1].contains("mqtt-lab_built-in-broker_Packets_"), "{files:?}");
    let window = image::open(&files[0]).expect("a PNG that decodes");
    assert_eq!((window.width(), window.height()), (1300, 900), "the whole window");
    let tab = image::open(&files[1]).expect("a PNG that decodes").to_rgba8();
    assert!(tab.width() < 1300 && tab.height() < 900 && tab.width() > 400, "{}x{}", tab.width(), tab.height());
    // Rendered pixels, not an empty buffer: more than one colour.
    let first = tab.get_pixel(0, 0);
    assert!(tab.pixels().any(|p| p != first), "the tab's pixels vary");
}

/// The light theme, for reports printed on paper, shows in the screenshot; F1 lists the shortcuts.
#[test]
fn the_light_theme_is_what_the_screenshot_shows_and_f1_lists_the_shortcuts() {
    let runtime = runtime();
    let dir = ProfileDir::new("capture-light");
    let mut harness = harness_with(&runtime, &dir, None);
    harness.get_by_label("Screenshots and exports").click();
    settle(&mut harness);
    set_field(&mut harness, "Reports folder", &dir.0.join("shots").display().to_string());
    harness.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Theme").click();
    settle(&mut harness);
    harness.get_by_label("Light").click();
    settle(&mut harness);
    assert_eq!(harness.ctx.theme(), egui::Theme::Light);

    harness.key_press(egui::Key::F12);
    step_until(&mut harness, "the window saved", |app| saved(app).len() == 1);
    let png = image::open(&saved(harness.state())[0]).unwrap().to_rgba8();
    // Mostly light pixels: the panels' background.
    let light = png.pixels().filter(|p| p[0] > 200 && p[1] > 200 && p[2] > 200).count();
    assert!(light > png.pixels().count() / 2, "{light} light pixels of {}", png.pixels().count());

    harness.key_press(egui::Key::F1);
    settle(&mut harness);
    assert!(harness.query_by_label("Keyboard shortcuts").is_some());
    assert!(harness.query_by_label("save a screenshot of the current tab").is_some());
}
