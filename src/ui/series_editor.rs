//! The plot's series editor: a working copy of the profile's series; "Apply" checks every row
//! and asks the app to save them and reload the plot.

use super::Intent;
use crate::model::PALETTE;
use crate::plot::{Extractor, SeriesDef, Side};

/// The extractor kinds offered, with their names.
const KINDS: [&str; 3] = ["Number", "yes/no switch", "JSON field"];

fn kind_of(e: &Extractor) -> usize {
    match e {
        Extractor::Number => 0,
        Extractor::Switch => 1,
        Extractor::Json { .. } => 2,
    }
}

/// Draws the rows of `editing`; returns `ApplySeries` when the user applies valid ones.
pub fn series_editor(
    ui: &mut egui::Ui,
    editing: &mut Vec<SeriesDef>,
    saved: &[SeriesDef],
    error: &mut Option<String>,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    let mut remove = None;
    egui::Grid::new("series-grid").num_columns(8).spacing([6.0, 4.0]).show(ui, |ui| {
        // Each column's header names the column's fields for screen readers.
        let headers: Vec<egui::Id> =
            ["", "Colour", "Topic filter", "Value", "Unit", "Axis", "Split", ""].map(|h| ui.strong(h).id).to_vec();
        ui.end_row();
        for (i, def) in editing.iter_mut().enumerate() {
            let name = ui.label(format!("Series {}", i + 1));
            ui.color_edit_button_srgb(&mut def.color);
            ui.add(egui::TextEdit::singleline(&mut def.filter).desired_width(150.0)).labelled_by(name.id);
            ui.horizontal(|ui| {
                let mut kind = kind_of(&def.extractor);
                egui::ComboBox::new(("series-kind", i), "")
                    .selected_text(KINDS[kind])
                    .width(110.0)
                    .show_ui(ui, |ui| {
                        for (k, name) in KINDS.iter().enumerate() {
                            ui.selectable_value(&mut kind, k, *name);
                        }
                    })
                    .response
                    .labelled_by(headers[3]);
                if kind != kind_of(&def.extractor) {
                    def.extractor = match kind {
                        0 => Extractor::Number,
                        1 => Extractor::Switch,
                        _ => Extractor::Json { path: "/value".into() },
                    };
                }
                if let Extractor::Json { path } = &mut def.extractor {
                    ui.add(egui::TextEdit::singleline(path).desired_width(90.0).hint_text("/value or $.data.kw"))
                        .labelled_by(headers[3]);
                }
            });
            ui.add(egui::TextEdit::singleline(&mut def.unit).desired_width(40.0)).labelled_by(headers[4]);
            egui::ComboBox::new(("series-side", i), "")
                .selected_text(if def.side == Side::Left { "left" } else { "right" })
                .width(60.0)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut def.side, Side::Left, "left");
                    ui.selectable_value(&mut def.side, Side::Right, "right");
                })
                .response
                .labelled_by(headers[5]);
            ui.checkbox(&mut def.split, "").on_hover_text("With + or # in the filter: one line per matching topic");
            if ui.small_button("Remove").clicked() {
                remove = Some(i);
            }
            ui.end_row();
        }
    });
    if let Some(i) = remove {
        editing.remove(i);
    }
    ui.horizontal(|ui| {
        if ui.button("Add series").clicked() {
            let color = PALETTE[editing.len() % PALETTE.len()];
            editing.push(SeriesDef { filter: "PV/#".into(), color, ..SeriesDef::default() });
        }
        let changed = editing.as_slice() != saved;
        if ui.add_enabled(changed, egui::Button::new("Apply series")).clicked() {
            match editing.iter().try_for_each(SeriesDef::validate) {
                Ok(()) => {
                    *error = None;
                    intents.push(Intent::ApplySeries(editing.clone()));
                }
                Err(e) => *error = Some(e),
            }
        }
        if changed && ui.button("Revert").clicked() {
            *editing = saved.to_vec();
            *error = None;
        }
    });
    if let Some(e) = error {
        ui.colored_label(ui.visuals().error_fg_color, e.as_str());
    }
    intents
}
