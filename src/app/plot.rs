//! The app's side of the plot tab: which points are loaded (read from history off the UI thread
//! whenever the view leaves what is loaded), live messages appended as they arrive, and exports
//! written on the blocking pool.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::{App, Background};
use crate::connection::ReceivedMessage;
use crate::history::HistoryWriter;
use crate::plot::{self, Figure, Loaded, SeriesDef, Traces};
use crate::ui::{PlotInput, PlotView};

/// The plot's points and what range of history they cover.
#[derive(Debug, Default)]
pub struct PlotData {
    pub traces: Traces,
    /// The range of history in `traces` (the end is infinite while live messages are appended).
    loaded: Option<(f64, f64)>,
    /// A load under way: its range.
    loading: Option<(f64, f64)>,
    /// Live messages received while a load is under way, added when it lands.
    waiting: Vec<(String, Bytes, f64)>,
}

pub fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn secs(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

impl PlotData {
    /// What the plot tab needs to draw `defs`.
    pub fn input<'a>(&'a self, defs: &'a [SeriesDef], history_on: bool, now: f64) -> PlotInput<'a> {
        let status = if self.loading.is_some() {
            "Loading from history…".to_owned()
        } else if history_on {
            format!("{} point(s) loaded", self.traces.points())
        } else {
            format!("{} point(s) since start (history is off)", self.traces.points())
        };
        PlotInput { defs, traces: &self.traces, status, now }
    }
}

impl App {
    /// Forgets the points (another profile, other series): the next frame loads again.
    pub(super) fn reset_plot(&mut self) {
        self.plot = PlotData::default();
        self.plot_view.editing.clone_from(&self.profiles[self.selected].plot);
        self.plot_view.error = None;
    }

    /// Loads from history when the view shows time that is not loaded.
    pub(super) fn plot_logic(&mut self, now: f64) {
        let (from, to) = self.plot_view.shown(now);
        let covered = |r: Option<(f64, f64)>| r.is_some_and(|(a, b)| a <= from && to <= b);
        if covered(self.plot.loaded) || covered(self.plot.loading) {
            return;
        }
        let Some(path) = self.history_path.clone() else {
            // No history: the plot shows what arrives from now on.
            self.plot.loaded = Some((f64::NEG_INFINITY, f64::INFINITY));
            return;
        };
        // Following the clock: live messages extend the range. Otherwise load around the view
        // so that panning a little does not load again.
        let span = to - from;
        let range = if self.plot_view.range.follows() { (from, f64::INFINITY) } else { (from - span, to + span) };
        self.plot.loading = Some(range);
        self.plot.waiting.clear();
        let profile = self.profile().name.clone();
        let defs = self.profile().plot.clone();
        let flushed = self.history.as_ref().map(HistoryWriter::flush);
        self.off_thread(move || {
            if let Some(flushed) = flushed {
                let _ = flushed.recv_timeout(Duration::from_secs(5));
            }
            let read = (range.0, range.1.min(now_secs()));
            match plot::load(&path, &profile, &defs, read) {
                Ok(mut loaded) => {
                    loaded.range = range;
                    Background::PlotLoaded(Box::new(loaded))
                }
                Err(e) => Background::Note(format!("The plot of {profile} could not be read from history: {e}")),
            }
        });
    }

    pub(super) fn plot_loaded(&mut self, loaded: Loaded) {
        if loaded.profile != self.profile().name || loaded.defs != self.profile().plot {
            return;
        }
        if self.plot.loading != Some(loaded.range) {
            return;
        }
        self.plot.loading = None;
        self.plot.loaded = Some(loaded.range);
        self.plot.traces = loaded.traces;
        let defs = &self.profiles[self.selected].plot;
        for (topic, payload, at) in self.plot.waiting.drain(..) {
            self.plot.traces.add(defs, &topic, &payload, at);
        }
    }

    /// A received message on the plot, if it belongs to the profile shown.
    pub(super) fn plot_message(&mut self, m: &ReceivedMessage) {
        if self.connected_profile() != Some(self.profile().name.as_str()) {
            return;
        }
        let at = secs(m.at);
        if self.plot.loading.is_some() {
            self.plot.waiting.push((m.topic.clone(), m.payload.clone(), at));
        } else if self.plot.loaded.is_some_and(|(a, b)| a <= at && at <= b) {
            let defs = &self.profiles[self.selected].plot;
            self.plot.traces.add(defs, &m.topic, &m.payload, at);
        }
    }

    pub(super) fn apply_series(&mut self, defs: Vec<SeriesDef>) {
        self.profile_mut().plot = defs;
        self.save_profile();
        self.reset_plot();
    }

    /// Writes the CSV or the PNG of what is in view, off the UI thread.
    pub(super) fn export_plot(&mut self, png: bool) {
        let view: &PlotView = &self.plot_view;
        let extension = if png { "png" } else { "csv" };
        let mut path = PathBuf::from(view.export_path.trim());
        if path.as_os_str().is_empty() {
            self.model.note("Export: type a file name into the Export to field first.");
            return;
        }
        if path.extension().is_none_or(|e| !e.eq_ignore_ascii_case(extension)) {
            path.as_mut_os_string().push(format!(".{extension}"));
        }
        let range = view.shown(now_secs());
        let size = (view.png_width, view.png_height);
        let traces = self.plot.traces.clone();
        let defs = self.profile().plot.clone();
        let title =
            format!("{}: {} to {}", self.profile().name, plot::format_local(range.0), plot::format_local(range.1));
        self.off_thread(move || {
            let figure = Figure::new(&traces, &defs, range);
            let result = if png {
                plot::write_png(&path, &figure, &title, size).map(|()| format!("{} x {} pixels", size.0, size.1))
            } else {
                std::fs::File::create(&path)
                    .map(std::io::BufWriter::new)
                    .and_then(|mut out| {
                        let rows = plot::write_csv(&mut out, &figure)?;
                        std::io::Write::flush(&mut out).map(|()| rows)
                    })
                    .map(|rows| format!("{rows} point(s)"))
                    .map_err(|e| format!("{}: {e}", path.display()))
            };
            Background::Note(match result {
                Ok(what) => format!("Plot saved to {} ({what}).", path.display()),
                Err(e) => format!("The plot could not be saved: {e}"),
            })
        });
    }
}

impl App {
    /// Points on the plot (for tests and the status line).
    pub fn plot_points(&self) -> usize {
        self.plot.traces.points()
    }
}
