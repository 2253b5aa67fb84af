//! The plot tab: time range (or fit to the data), which clock the time axis reads (received, or a
//! time-lapse's simulated day), series, exports, the plot (two y axes, clock-time x axis, lines
//! broken at gaps, pan and zoom in time, hover shows the nearest point) and a line per trace
//! with its latest value.

use std::collections::HashMap;

use egui_plot::{AxisHints, GridMark, HPlacement, HoverPosition, Legend, Plot, PlotPoints, PlotTransform};

use super::{FileTarget, Intent, PlotIntent, series_editor};
use crate::plot::{
    Figure, SeriesDef, Side, TimeAxis, TimeRange, Traces, fit, format_local, local, parse_local, time_grid, time_label,
    value_label,
};

/// egui_plot's defaults, which decide where grid lines and time labels go: grid lines at least
/// 8 points apart, a label only where its step spans more than 60 points and fits.
const GRID_SPACING_MIN: f64 = 8.0;
const LABEL_SPACING_MIN: f64 = 60.0;

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
    /// The clock the time axis reads (the app reloads the points when it changes).
    pub time_axis: TimeAxis,
    /// What the last frame drew: the time axis's labels left to right, and each line's name
    /// with the time spans of the pieces it was drawn in (more than one where data is missing).
    pub x_labels: Vec<String>,
    pub segments: Vec<(String, Vec<(f64, f64)>)>,
    /// Now on the simulated clock at the last frame, when the axis reads it: ranges that follow
    /// the clock follow that one (also for exports, which are given the real time).
    simulated_now: Option<f64>,
}

impl Default for PlotView {
    fn default() -> Self {
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
            // Empty: saves go to the reports folder under a new descriptive name each time.
            export_path: String::new(),
            time_axis: TimeAxis::Received,
            x_labels: Vec::new(),
            segments: Vec::new(),
            simulated_now: None,
        }
    }
}

impl PlotView {
    /// The x range to show at `now`.
    pub fn shown(&self, now: f64) -> (f64, f64) {
        match (self.range.follows(), self.visible) {
            (false, Some(visible)) if !self.jump => visible,
            _ => self.range.bounds(self.simulated_now.unwrap_or(now)),
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
    /// Unix seconds now, on the time axis's clock.
    pub now: f64,
}

pub fn plot_tab(ui: &mut egui::Ui, view: &mut PlotView, input: &PlotInput<'_>) -> Vec<Intent> {
    let mut intents = Vec::new();
    view.simulated_now = (view.time_axis == TimeAxis::Simulated).then_some(input.now);
    range_bar(ui, view, input);
    egui::CollapsingHeader::new("Series").default_open(false).show(ui, |ui| {
        intents.extend(series_editor(ui, &mut view.editing, input.defs, &mut view.error));
    });
    egui::CollapsingHeader::new("Export").default_open(false).show(ui, |ui| {
        ui.horizontal(|ui| {
            super::labelled_field(ui, "Export to", &mut view.export_path, 260.0)
                .on_hover_text("Empty: the reports folder. A file name, or a folder ending in /");
            if ui.button("Choose…").clicked() {
                intents.push(Intent::ChooseFile(FileTarget::PlotExport));
            }
        });
        ui.horizontal(|ui| {
            if ui.button("Save CSV").on_hover_text("Every point in view, not thinned out").clicked() {
                intents.push(Intent::Plot(PlotIntent::ExportCsv));
            }
            let label = ui.label("PNG size");
            ui.add(egui::DragValue::new(&mut view.png_width).range(200..=10_000).suffix(" px")).labelled_by(label.id);
            ui.label("×");
            ui.add(egui::DragValue::new(&mut view.png_height).range(150..=10_000).suffix(" px"));
            if ui.button("Save PNG").clicked() {
                intents.push(Intent::Plot(PlotIntent::ExportPng));
            }
        });
    });
    ui.label(&input.status);
    traces_list(ui, input);
    draw(ui, view, input);
    intents
}

fn range_bar(ui: &mut egui::Ui, view: &mut PlotView, input: &PlotInput<'_>) {
    let now = input.now;
    // Wrapped: on a 1024-pixel screen the custom range's fields go to a second line.
    ui.horizontal_wrapped(|ui| {
        for (range, name) in TimeRange::CHOICES {
            if ui.selectable_label(view.range == range, name).clicked() {
                view.range = range;
                view.visible = None;
            }
        }
        let fit_data = ui.add_enabled(input.traces.extent().is_some(), egui::Button::new("Fit data"));
        if fit_data.on_hover_text("Show all the points loaded, from their first to their last").clicked()
            && let Some((first, last)) = input.traces.extent()
        {
            let (from, to) = fit(first, last);
            view.set_custom(from, to);
            view.jump = true;
        }
        let mut simulated = view.time_axis == TimeAxis::Simulated;
        let toggle = ui.checkbox(&mut simulated, "Simulated day clock").on_hover_text(
            "Date each message on the clock a time-lapse publishes on PV/clock (its day from 06:00), \
             not when it was received",
        );
        if toggle.changed() {
            view.time_axis = if simulated { TimeAxis::Simulated } else { TimeAxis::Received };
            // A range on the other clock means nothing on this one.
            view.range = TimeRange::Today;
            view.visible = None;
            view.simulated_now = None;
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

/// The time labels egui_plot paints under the plot, by its own rules: the grid's marks whose
/// step spans more than `LABEL_SPACING_MIN` points and whose text fits in that step.
fn painted_time_labels(ui: &egui::Ui, transform: &PlotTransform, span: f64) -> Vec<String> {
    let bounds = transform.bounds();
    let per_second = transform.dpos_dvalue_x().abs();
    let base_step = transform.dvalue_dpos()[0].abs() * GRID_SPACING_MIN;
    let font = egui::TextStyle::Body.resolve(ui.style());
    time_grid(bounds.min()[0], bounds.max()[0], base_step)
        .into_iter()
        .filter_map(|(t, step)| {
            let spacing = step * per_second;
            let text = time_label(t, step, span);
            let width = ui.painter().layout_no_wrap(text.clone(), font.clone(), egui::Color32::WHITE).size().x;
            (spacing > LABEL_SPACING_MIN && f64::from(width) <= spacing).then_some(text)
        })
        .collect()
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
    // Room on the right for half of the last time label, which is centred on its tick.
    let plot = plot.width((ui.available_width() - 24.0).max(100.0));
    let response = plot.show(ui, |plot_ui| {
        if set_x {
            plot_ui.set_plot_bounds_x(from..=to);
        }
        plot_ui.set_plot_bounds_y(left.low..=left.high());
        for (line, d) in figure.lines.iter().zip(&drawn) {
            let [r, g, b] = line.color;
            let color = egui::Color32::from_rgb(r, g, b);
            // A piece per segment, so no line is drawn across missing data; the pieces share the
            // line's name, hence one legend entry. A lone point between two gaps is a dot.
            for segment in d.segments() {
                let points: Vec<[f64; 2]> = segment.iter().map(|p| [p[0], scales.to_left(line.side, p[1])]).collect();
                if points.len() == 1 {
                    plot_ui.points(egui_plot::Points::new(line.name.clone(), points).color(color).radius(2.0));
                } else {
                    plot_ui.line(
                        egui_plot::Line::new(line.name.clone(), PlotPoints::from(points)).color(color).width(1.5),
                    );
                }
            }
        }
    });
    view.jump = false;
    view.segments = figure
        .lines
        .iter()
        .zip(&drawn)
        .map(|(l, d)| (l.name.clone(), d.segments().map(|s| (s[0][0], s[s.len() - 1][0])).collect()))
        .collect();
    view.x_labels = painted_time_labels(ui, &response.transform, span);
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
