//! The theme picker and the keyboard shortcuts window.

/// Every shortcut of the app, as the help window lists them. The zoom keys are egui's own
/// (`Options::zoom_with_keyboard`, on by default); the others are read in app/frame.rs and
/// ui/publish.rs.
pub const SHORTCUTS: [(&str, &str); 11] = [
    ("Ctrl+Enter (Cmd+Enter on macOS)", "publish, while typing the payload"),
    ("F12", "save a screenshot of the window"),
    ("Shift+F12", "save a screenshot of the current tab"),
    ("F1", "show or hide this list"),
    ("Ctrl+plus (or Ctrl+=)", "zoom in: larger text and controls"),
    ("Ctrl+minus", "zoom out"),
    ("Ctrl+0", "back to normal size"),
    ("Drag in the plot", "move back and forth in time"),
    ("Scroll or pinch in the plot", "zoom in time"),
    ("Ctrl+A in a field", "select all of it"),
    ("Tab / Shift+Tab", "move to the next / previous field"),
];

/// Light, dark, or as the system says.
pub fn theme_picker(ui: &mut egui::Ui) {
    let mut preference = ui.options(|o| o.theme_preference);
    let label = ui.label("Theme");
    let name = |p: egui::ThemePreference| match p {
        egui::ThemePreference::Dark => "Dark",
        egui::ThemePreference::Light => "Light",
        egui::ThemePreference::System => "System",
    };
    egui::ComboBox::new("theme", "")
        .selected_text(name(preference))
        .width(70.0)
        .show_ui(ui, |ui| {
            for p in [egui::ThemePreference::System, egui::ThemePreference::Light, egui::ThemePreference::Dark] {
                ui.selectable_value(&mut preference, p, name(p));
            }
        })
        .response
        .labelled_by(label.id);
    if preference != ui.options(|o| o.theme_preference) {
        ui.ctx().set_theme(preference);
    }
}

pub fn shortcuts_window(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keyboard shortcuts").open(open).resizable(false).collapsible(false).show(ctx, |ui| {
        egui::Grid::new("shortcuts").num_columns(2).striped(true).show(ui, |ui| {
            for (keys, what) in SHORTCUTS {
                ui.strong(keys);
                ui.label(what);
                ui.end_row();
            }
        });
    });
}
