//! The plot tab: time range, series, exports, the plot (two y axes, clock-time x axis, pan and
//! zoom in time, hover shows the nearest point) and a line per trace with its latest value.

use std::collections::HashMap;

use egui_plot::{AxisHints, GridMark, HPlacement, HoverPosition, Legend, Plot, PlotPoints};

use super::{FileTarget, Intent, series_editor};
use crate::plot::{
    Figure, SeriesDef, Side, TimeRange, Traces, format_local, local, parse_local, time_grid, time_label, value_label,
};

/// The plot tab's own state.
#[derive(Debug, Clone)]
pub struct PlotView {
    pub range: TimeRange,
    pub custom_from: String,
    pub custom_to: String,
    /// The x range on screen (after the user's pans and zooms): what is loaded and exported.
    pub visible: Option<(f64, f64)>,
    /// Set when a new custom range must be applied to the plot on the next frame.
    jump: bool,
    /// The series editor's working copy of the profile's series.
    pub editing: Vec<SeriesDef>,
    pub error: Option<String>,
    pub png_width: u32,
    pub png_height: u32,
    /// Where exports go: `.csv` and `.png` are added when missing.
    pub export_path: String,
}

impl Default for PlotView {
    fn default() -> Self {
        let base = directories::UserDirs::new()
            .and_then(|d| d.document_dir().map(std::path::Path::to_path_buf))
            .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()))
            .unwrap_or_default();
        Self {
            range: TimeRange::LIVE_5_MIN,
            custom_from: String::new(),
            custom_to: String::new(),
            visible: None,
            jump: false,
            editing: Vec::new(),
            error: None,
            png_width: 1600,
            png_height: 900,
            export_path: base.join("mqtt-lab-plot").display().to_string(),
        }
    }
}

impl PlotView {
    /// The x range to show at `now`.
    pub fn shown(&self, now: f64) -> (f64, f64) {
        match (self.range.follows(), self.visible) {
            (false, Some(visible)) if !self.jump => visible,
            _ => self.range.bounds(now),
        }
    }

    fn set_custom(&mut self, from: f64, to: f64) {
        self.range = TimeRange::Custom { from, to };
        self.visible = Some((from, to));
        self.custom_from = format_local(from);
        self.custom_to = format_local(to);
    }
}

/// What the tab shows besides its own state.
pub struct PlotInput<'a> {
    /// The profile's saved series.
    pub defs: &'a [SeriesDef],
    pub traces: &'a Traces,
    /// "Loading…" or how much is loaded.
    pub status: String,
    /// Unix seconds now.
    pub now: f64,
}

pub fn plot_tab(ui: &mut egui::Ui, view: &mut PlotView, input: &PlotInput<'_>) -> Vec<Intent> {
    let mut intents = Vec::new();
    range_bar(ui, view, input.now);
    egui::CollapsingHeader::new("Series").default_open(false).show(ui, |ui| {
        intents.extend(series_editor(ui, &mut view.editing, input.defs, &mut view.error));
    });
    egui::CollapsingHeader::new("Export").default_open(false).show(ui, |ui| {
        ui.horizontal(|ui| {
            super::labelled_field(ui, "Export to", &mut view.export_path, 260.0);
            if ui.button("Choose…").clicked() {
                intents.push(Intent::ChooseFile(FileTarget::PlotExport));
            }
        });
        ui.horizontal(|ui| {
            if ui.button("Save CSV").on_hover_text("Every point in view, not thinned out").clicked() {
                intents.push(Intent::ExportCsv);
            }
            let label = ui.label("PNG size");
            ui.add(egui::DragValue::new(&mut view.png_width).range(200..=10_000).suffix(" px")).labelled_by(label.id);
            ui.label("×");
            ui.add(egui::DragValue::new(&mut view.png_height).range(150..=10_000).suffix(" px"));
            if ui.button("Save PNG").clicked() {
                intents.push(Intent::ExportPng);
            }
        });
    });
    ui.label(&input.status);
    traces_list(ui, input);
    draw(ui, view, input);
    intents
}

fn range_bar(ui: &mut egui::Ui, view: &mut PlotView, now: f64) {
    ui.horizontal(|ui| {
        for (range, name) in TimeRange::CHOICES {
            if ui.selectable_label(view.range == range, name).clicked() {
                view.range = range;
                view.visible = None;
            }
        }
        let custom = !view.range.follows();
        if ui.selectable_label(custom, "Custom").clicked() && !custom {
            let (from, to) = view.shown(now);
            view.set_custom(from, to);
        }
        if custom {
            super::labelled_field(ui, "From", &mut view.custom_from, 130.0);
            super::labelled_field(ui, "To", &mut view.custom_to, 130.0);
            if ui.button("Show").clicked() {
                match (parse_local(&view.custom_from), parse_local(&view.custom_to)) {
                    (Ok(from), Ok(to)) if from < to => {
                        view.set_custom(from, to);
                        view.jump = true;
                        view.error = None;
                    }
                    (Ok(_), Ok(_)) => view.error = Some("The range ends before it starts.".into()),
                    (Err(e), _) | (_, Err(e)) => view.error = Some(e),
                }
            }
        }
    });
}

/// A line per trace: colour, name, points in view, latest value.
fn traces_list(ui: &mut egui::Ui, input: &PlotInput<'_>) {
    ui.horizontal_wrapped(|ui| {
        for t in &input.traces.list {
            let Some(def) = input.defs.get(t.series) else { continue };
            super::color_swatch(ui, def.color);
            let latest = t.points.last().map_or_else(String::new, |p| format!(", latest {} {}", p[1], def.unit));
            ui.label(format!("{}: {} point(s){latest}", t.name(def), t.points.len()));
        }
    });
}

fn draw(ui: &mut egui::Ui, view: &mut PlotView, input: &PlotInput<'_>) {
    let (from, to) = view.shown(input.now);
    let span = to - from;
    // One column per pixel; the width is a few thousand at most.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let columns = ui.available_width().max(100.0) as usize;
    let figure = Figure::new(input.traces, input.defs, (from, to));
    let drawn = figure.decimated(columns);
    let scales = figure.scales(&drawn);
    let left = scales.left;
    let mut y_axes = vec![
        AxisHints::new_y()
            .label(if scales.right.is_some() || figure.lines.iter().any(|l| l.side == Side::Left) {
                figure.units(Side::Left)
            } else {
                figure.units(Side::Right)
            })
            .formatter(move |m, _| value_label(m.value, left.step)),
    ];
    if let Some(right) = scales.right {
        y_axes.push(
            AxisHints::new_y()
                .label(figure.units(Side::Right))
                .placement(HPlacement::Right)
                .formatter(move |m, _| value_label(scales.from_left(Side::Right, m.value), right.step)),
        );
    }
    let hover: HashMap<String, (Side, String)> =
        figure.lines.iter().map(|l| (l.name.clone(), (l.side, l.unit.to_owned()))).collect();
    let date = if span > 86_400.0 { "%a %d %b %H:%M:%S" } else { "%H:%M:%S" };
    let plot = Plot::new("history-plot")
        .legend(Legend::default())
        .allow_zoom([true, false])
        .allow_drag([true, false])
        .allow_scroll([true, false])
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .custom_y_axes(y_axes)
        .x_axis_formatter(move |m, _| time_label(m.value, m.step_size, span))
        .x_grid_spacer(|input| {
            time_grid(input.bounds.0, input.bounds.1, input.base_step_size)
                .into_iter()
                .map(|(value, step_size)| GridMark { value, step_size })
                .collect()
        })
        .y_grid_spacer(move |_| {
            (0..=left.ticks)
                .map(|k| GridMark { value: left.low + f64::from(k) * left.step, step_size: left.step })
                .collect()
        })
        .label_formatter(move |pos| match pos {
            HoverPosition::NearDataPoint { plot_name, position, .. } => {
                let (side, unit) = hover.get(*plot_name).cloned().unwrap_or_default();
                let value = scales.from_left(side, position.y);
                Some(format!("{plot_name}\n{}\n{value:.3} {unit}", local(position.x).format(date)))
            }
            HoverPosition::Elsewhere { position } => Some(local(position.x).format(date).to_string()),
        });
    let set_x = view.range.follows() || view.jump || view.visible.is_none();
    let response = plot.show(ui, |plot_ui| {
        if set_x {
            plot_ui.set_plot_bounds_x(from..=to);
        }
        plot_ui.set_plot_bounds_y(left.low..=left.high());
        for (line, d) in figure.lines.iter().zip(&drawn) {
            let points: Vec<[f64; 2]> = d.points.iter().map(|p| [p[0], scales.to_left(line.side, p[1])]).collect();
            let [r, g, b] = line.color;
            plot_ui.line(
                egui_plot::Line::new(line.name.clone(), PlotPoints::from(points))
                    .color(egui::Color32::from_rgb(r, g, b))
                    .width(1.5),
            );
        }
    });
    view.jump = false;
    let bounds = response.transform.bounds();
    let (new_from, new_to) = (bounds.min()[0], bounds.max()[0]);
    let moved = (new_from - from).abs() > span * 1e-6 || (new_to - to).abs() > span * 1e-6;
    let zoomed = response.response.hovered()
        && ui.input(|i| (i.zoom_delta() - 1.0).abs() > 1e-6 || i.smooth_scroll_delta != egui::Vec2::ZERO);
    if response.response.dragged() || zoomed && set_x || moved && !set_x {
        // The user panned or zoomed: the view stays where they left it.
        view.set_custom(new_from, new_to);
    } else if !view.range.follows() {
        view.visible = Some((new_from, new_to));
    }
}
