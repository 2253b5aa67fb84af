//! The plot's series editor: a working copy of the profile's series; "Apply" checks every row
//! and asks the app to save them and reload the plot.

use super::{Intent, PlotIntent};
use crate::palette::PALETTE;
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

/// What a series' row needs on one line; narrower, it takes two.
const ONE_LINE_WIDTH: f32 = 900.0;
/// The second line starts under the topic filter.
const INDENT: f32 = 24.0;

/// How a value is read: the kind and, for a JSON field, its path.
fn value_fields(ui: &mut egui::Ui, i: usize, def: &mut SeriesDef) {
    let value = ui.label("Value");
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
        .labelled_by(value.id);
    if kind != kind_of(&def.extractor) {
        def.extractor = match kind {
            0 => Extractor::Number,
            1 => Extractor::Switch,
            _ => Extractor::Json { path: "/value".into() },
        };
    }
    if let Extractor::Json { path } = &mut def.extractor {
        ui.add(egui::TextEdit::singleline(path).desired_width(120.0).hint_text("/value or $.data.kw"))
            .labelled_by(value.id);
    }
}

/// Unit, axis, split and the remove button.
fn rest_fields(ui: &mut egui::Ui, i: usize, def: &mut SeriesDef, remove: &mut Option<usize>) {
    let unit = ui.label("Unit");
    ui.add(egui::TextEdit::singleline(&mut def.unit).desired_width(56.0)).labelled_by(unit.id);
    let axis = ui.label("Axis");
    egui::ComboBox::new(("series-side", i), "")
        .selected_text(if def.side == Side::Left { "left" } else { "right" })
        .width(60.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut def.side, Side::Left, "left");
            ui.selectable_value(&mut def.side, Side::Right, "right");
        })
        .response
        .labelled_by(axis.id);
    ui.checkbox(&mut def.split, "Split").on_hover_text("With + or # in the filter: one line per matching topic");
    if ui.small_button("Remove").clicked() {
        *remove = Some(i);
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
    // A row per series, each field named by the label before it. Where the row would not fit (a
    // 1024-pixel screen with the sidebar open) it goes on over two lines instead of the fields
    // being cut off at the edge.
    let one_line = ui.available_width() >= ONE_LINE_WIDTH;
    for (i, def) in editing.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let name = ui.strong(format!("Series {}", i + 1));
            ui.color_edit_button_srgb(&mut def.color);
            ui.add(egui::TextEdit::singleline(&mut def.filter).desired_width(180.0).hint_text("PV/data"))
                .labelled_by(name.id)
                .on_hover_text("Topic filter");
            value_fields(ui, i, def);
            if one_line {
                rest_fields(ui, i, def, &mut remove);
            }
        });
        if !one_line {
            ui.horizontal(|ui| {
                ui.add_space(INDENT);
                rest_fields(ui, i, def, &mut remove);
            });
        }
    }
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
                    intents.push(Intent::Plot(PlotIntent::ApplySeries(editing.clone())));
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
