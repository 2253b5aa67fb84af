//! Screenshots for lab reports, rendered for real (wgpu on mesa's software Vulkan): the window and
//! the current tab are saved as PNG files into the reports folder, named with date, time, profile
//! and what they show, the caption line in the picture, a notice naming the file afterwards.

mod support;

use std::path::{Path, PathBuf};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use mqtt_lab::App;
use support::*;

fn saved(app: &App) -> Vec<String> {
    app.model()
        .log
        .iter()
        .filter_map(|l| l.text.strip_prefix("Screenshot saved to "))
        .map(|p| p.trim_end_matches('.').to_owned())
        .collect()
}

/// `2026-12-06_14-03-22_built-in-broker_window.png` (or `-2` ... when taken).
fn descriptive(path: &str, what: &str) -> bool {
    let name = Path::new(path).file_name().unwrap().to_str().unwrap();
    let (stamp, rest) = name.split_at(19.min(name.len()));
    let shape = stamp.chars().enumerate().all(|(i, c)| match i {
        4 | 7 | 13 | 16 => c == '-',
        10 => c == '_',
        _ => c.is_ascii_digit(),
    });
    let rest = rest.strip_prefix(&format!("_built-in-broker_{what}")).and_then(|r| r.strip_suffix(".png"));
    shape && rest.is_some_and(|r| r.is_empty() || r.strip_prefix('-').is_some_and(|n| n.parse::<u32>().is_ok()))
}

/// eframe reads a screenshot's pixels while painting the frame after the one that asked
/// (`glow_integration.rs`: the command is handled after that frame's paint); kittest reads them
/// from the same frame. This plugin holds each screenshot command back one frame, so the test sees
/// what the app's real renderer captures.
#[derive(Default)]
struct PixelsNextFrame {
    held: Vec<egui::ViewportCommand>,
}

impl egui::Plugin for PixelsNextFrame {
    fn debug_name(&self) -> &'static str {
        "screenshot pixels one frame late, as eframe reads them"
    }

    fn output_hook(&mut self, _ctx: &egui::Context, output: &mut egui::FullOutput) {
        let Some(root) = output.viewport_output.get_mut(&egui::ViewportId::ROOT) else { return };
        let (shots, rest): (Vec<_>, Vec<_>) =
            root.commands.drain(..).partition(|c| matches!(c, egui::ViewportCommand::Screenshot(_)));
        root.commands = rest;
        root.commands.append(&mut self.held);
        self.held = shots;
    }
}

fn reports_folder(harness: &mut Harness<'_, App>, folder: &Path) {
    harness.get_by_label("Screenshots and exports").click();
    settle(harness);
    set_field(harness, "Reports folder", &folder.display().to_string());
}

#[test]
fn the_window_and_the_current_tab_are_saved_as_png_files() {
    let runtime = runtime();
    let dir = ProfileDir::new("capture");
    let mut harness = app_harness(&runtime, &dir);
    connect_and_subscribe(&mut harness);
    let folder = dir.0.join("shots");
    reports_folder(&mut harness, &folder);

    harness.get_by_label("Screenshot window").click();
    step_until(&mut harness, "the window saved", |app| saved(app).len() == 1);
    harness.get_by_label("Packets").click();
    settle(&mut harness);
    harness.get_by_label("Screenshot tab").click();
    step_until(&mut harness, "the tab saved", |app| saved(app).len() == 2);

    let files = saved(harness.state());
    assert!(descriptive(&files[0], "window"), "{files:?}");
    assert!(descriptive(&files[1], "packets-tab"), "{files:?}");
    assert!(files.iter().all(|f| Path::new(f).parent() == Some(&folder)), "{files:?}");
    let window = image::open(&files[0]).expect("a PNG that decodes");
    assert_eq!((window.width(), window.height()), (1300, 900), "the whole window");
    let tab = image::open(&files[1]).expect("a PNG that decodes").to_rgba8();
    assert!(tab.width() < 1300 && tab.height() < 900 && tab.width() > 400, "{}x{}", tab.width(), tab.height());
    // Rendered pixels, not an empty buffer: more than one colour.
    let first = tab.get_pixel(0, 0);
    assert!(tab.pixels().any(|p| p != first), "the tab's pixels vary");
}

/// Saves twice, quickly: two files side by side, neither replacing the other, and each time the
/// notice names the file and offers to open its folder; Dismiss closes it.
#[test]
fn each_save_is_a_new_file_and_a_notice_names_it() {
    let runtime = runtime();
    let dir = ProfileDir::new("capture-twice");
    let mut harness = harness_with(&runtime, &dir, None);
    let folder = dir.0.join("lab 3");
    reports_folder(&mut harness, &folder);

    harness.key_press(egui::Key::F12);
    step_until(&mut harness, "the first screenshot", |app| saved(app).len() == 1);
    settle(&mut harness);
    let first = saved(harness.state())[0].clone();
    let name = Path::new(&first).file_name().unwrap().to_str().unwrap().to_owned();
    assert!(harness.query_by_label_contains(&format!("Saved {name} in ")).is_some(), "the notice names {name}");
    assert!(harness.query_by_label("Open folder").is_some());

    harness.key_press(egui::Key::F12);
    step_until(&mut harness, "the second screenshot", |app| saved(app).len() == 2);
    settle(&mut harness);
    let files = saved(harness.state());
    assert_ne!(files[0], files[1]);
    assert!(files.iter().all(|f| descriptive(f, "window")), "{files:?}");
    let mut listed: Vec<PathBuf> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).collect();
    listed.sort();
    let mut expected: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    expected.sort();
    assert_eq!(listed, expected, "two files in the reports folder");
    let second = Path::new(&files[1]).file_name().unwrap().to_str().unwrap();
    assert!(harness.query_by_label_contains(&format!("Saved {second} in ")).is_some(), "the newest notice");
    assert!(harness.query_by_label_contains(&format!("Saved {name} in ")).is_none(), "replaced");

    harness.get_by_label("Dismiss").click();
    settle(&mut harness);
    assert!(harness.query_by_label("Open folder").is_none(), "dismissed");
}

/// A folder that cannot be made (a file is in the way): the notice says why, in words.
#[test]
fn a_failed_save_shows_why() {
    let runtime = runtime();
    let dir = ProfileDir::new("capture-fail");
    let mut harness = harness_with(&runtime, &dir, None);
    std::fs::create_dir_all(&dir.0).unwrap();
    let blocker = dir.0.join("not-a-folder");
    std::fs::write(&blocker, b"a file").unwrap();
    reports_folder(&mut harness, &blocker.join("shots"));
    harness.key_press(egui::Key::F12);
    step_until(&mut harness, "the failure", |app| {
        app.model().log.iter().any(|l| l.text.starts_with("The screenshot could not be saved: "))
    });
    settle(&mut harness);
    assert!(harness.query_by_label_contains("The screenshot could not be saved: ").is_some(), "in the notice");
    assert!(harness.query_by_label("Open folder").is_none());
}

/// The caption line is in the picture taken with F12 when "Caption" is ticked, with the renderer
/// reading the pixels a frame late as eframe does: above the tab row, which moves down by a line.
#[test]
fn the_caption_line_is_in_an_f12_screenshot() {
    let caption_ticked = |harness: &Harness<'_, App>| {
        harness.get_by_label("Caption").accesskit_node().toggled() == Some(egui::accesskit::Toggled::True)
    };
    let runtime = runtime();
    let dir = ProfileDir::new("capture-caption");
    let mut harness = harness_with(&runtime, &dir, None);
    harness.ctx.add_plugin(PixelsNextFrame::default());
    reports_folder(&mut harness, &dir.0.join("shots"));
    // The "Messages" tab: the topmost node of that name (the list's heading is below it).
    let tabs =
        harness.query_all_by_label("Messages").map(|n| n.rect()).min_by(|a, b| a.top().total_cmp(&b.top())).unwrap();

    harness.get_by_label("Caption").click();
    settle(&mut harness);
    assert!(!caption_ticked(&harness));
    harness.key_press(egui::Key::F12);
    step_until(&mut harness, "the screenshot without caption", |app| saved(app).len() == 1);
    // Nothing but the caption is to move the tab row: the notice of the first file goes.
    settle(&mut harness);
    harness.get_by_label("Dismiss").click();
    settle(&mut harness);
    harness.get_by_label("Caption").click();
    settle(&mut harness);
    assert!(caption_ticked(&harness));
    harness.key_press(egui::Key::F12);
    step_until(&mut harness, "the screenshot with caption", |app| saved(app).len() == 2);

    let files = saved(harness.state());
    let plain = image::open(&files[0]).unwrap().to_rgba8();
    let captioned = image::open(&files[1]).unwrap().to_rgba8();
    // The band of the tab row's left part ("Messages", "Plot", ...), in whole pixels (positive:
    // the row is inside the window).
    #[allow(clippy::cast_sign_loss)]
    let ((x0, y0), (w, h)) =
        ((tabs.left().floor() as u32, tabs.top().floor() as u32), (160, tabs.height().ceil() as u32));
    let band_matches = |shift: u32| {
        (0..h).all(|dy| {
            (0..w).all(|dx| plain.get_pixel(x0 + dx, y0 + dy) == captioned.get_pixel(x0 + dx, y0 + dy + shift))
        })
    };
    assert!(!band_matches(0), "the screenshot with caption looks the same where the tab row was");
    let shift = (1..40).find(|s| band_matches(*s)).expect("the tab row, moved down, in the captioned screenshot");
    assert!(shift >= 12, "moved down by a line of text, not {shift} px");
    // Where the tab row was, the caption's text: light pixels on the dark panel.
    let inked = (0..shift).flat_map(|dy| (0..w).map(move |dx| (dx, dy)));
    let text = inked.filter(|(dx, dy)| captioned.get_pixel(x0 + dx, y0 + dy)[0] > 150).count();
    assert!(text > 40, "{text} light pixels where the caption is");
}

/// The light theme, for reports printed on paper, shows in the screenshot; F1 lists the shortcuts.
#[test]
fn the_light_theme_is_what_the_screenshot_shows_and_f1_lists_the_shortcuts() {
    let runtime = runtime();
    let dir = ProfileDir::new("capture-light");
    let mut harness = harness_with(&runtime, &dir, None);
    reports_folder(&mut harness, &dir.0.join("shots"));
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
