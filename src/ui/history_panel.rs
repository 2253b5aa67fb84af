//! The History section: the size of the history on disk, how many messages each profile has,
//! the retention settings (by age and by size), and clearing the selected profile's history.

use super::{HistoryIntent, Intent};
use crate::history::{Retention, Stats};

/// The form's own state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryForm {
    pub retention: Retention,
    /// The user changed the settings: the writer's figures no longer overwrite them.
    pub edited: bool,
    /// "Clear" was pressed once: the next press (on "Yes, delete") deletes.
    pub confirm_clear: bool,
}

/// Bytes in words: "12.3 MB".
pub fn size_text(bytes: u64) -> String {
    // Sizes below 2^52 bytes are exact in f64.
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

pub fn history_panel(ui: &mut egui::Ui, form: &mut HistoryForm, stats: Option<&Stats>, profile: &str) -> Vec<Intent> {
    let mut intents = Vec::new();
    let Some(stats) = stats else {
        ui.label("History is off or not opened yet.");
        return intents;
    };
    if !form.edited {
        form.retention = stats.retention;
    }
    ui.label(format!(
        "On disk: {}, {} message(s); {} of them from {profile}.",
        size_text(stats.file_bytes),
        stats.messages(),
        stats.of(profile)
    ));
    ui.horizontal(|ui| {
        let label = ui.label("Keep days");
        let days = egui::DragValue::new(&mut form.retention.max_age_days).range(0..=36_500);
        if ui.add(days).labelled_by(label.id).on_hover_text("0: keep every day").changed() {
            form.edited = true;
        }
        let label = ui.label("Max size (MB)");
        let size = egui::DragValue::new(&mut form.retention.max_megabytes).range(0..=1_000_000);
        if ui.add(size).labelled_by(label.id).on_hover_text("0: no size limit").changed() {
            form.edited = true;
        }
        if ui.add_enabled(form.retention != stats.retention, egui::Button::new("Apply limits")).clicked() {
            form.edited = false;
            intents.push(Intent::History(HistoryIntent::SetRetention(form.retention)));
        }
    });
    if form.confirm_clear {
        ui.horizontal(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("Delete the {} stored message(s) of {profile}?", stats.of(profile)),
            );
            if ui.button("Yes, delete").clicked() {
                form.confirm_clear = false;
                intents.push(Intent::History(HistoryIntent::Clear));
            }
            if ui.button("Keep them").clicked() {
                form.confirm_clear = false;
            }
        });
    } else if ui.add_enabled(stats.of(profile) > 0, egui::Button::new("Clear this profile's history")).clicked() {
        form.confirm_clear = true;
    }
    intents
}
