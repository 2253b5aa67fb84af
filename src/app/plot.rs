//! The app's side of the plot tab: which points are loaded (read from history off the UI thread
//! whenever the view leaves what is loaded), live messages appended as they arrive (dated on the
//! time axis's clock: received, or a time-lapse's `PV/clock`), and exports written on the
//! blocking pool.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::{App, Background};
use crate::connection::ReceivedMessage;
use crate::plot::{self, ClockMap, Figure, Loaded, SeriesDef, TimeAxis, Traces};
use crate::simulate::TOPIC_CLOCK;
use crate::ui::{PlotInput, PlotIntent, PlotView};

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
    /// The clock the points are dated on, and a time-lapse's clock messages so far.
    axis: TimeAxis,
    clock: ClockMap,
}

/// On the simulated clock the whole of the last day's history is read at once: a time-lapse
/// day is ten minutes of it, a real-time one 24 hours.
const SIMULATED_HISTORY: f64 = 86_400.0;

pub fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn secs(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

impl PlotData {
    /// What the plot tab needs to draw `defs`.
    pub fn input<'a>(&'a self, defs: &'a [SeriesDef], history_on: bool, now: f64) -> PlotInput<'a> {
        let mut status = if self.loading.is_some() {
            "Loading from history…".to_owned()
        } else if history_on {
            format!("{} point(s) loaded", self.traces.points())
        } else {
            format!("{} point(s) since start (history is off)", self.traces.points())
        };
        match (self.axis, self.clock.is_empty()) {
            (TimeAxis::Simulated, true) => {
                let _ = write!(
                    status,
                    "; no simulated clock yet: start the PV plant as a time-lapse (it publishes {TOPIC_CLOCK}) and subscribe to it"
                );
            }
            (TimeAxis::Simulated, false) => {
                let at = self.clock.now(now).map_or_else(String::new, |t| plot::local(t).format("%H:%M").to_string());
                let _ = write!(status, "; simulated clock {at}");
            }
            (TimeAxis::Received, false) => {
                let _ = write!(
                    status,
                    "; {TOPIC_CLOCK} received (a time-lapse): tick \"Simulated day clock\" to see its day"
                );
            }
            (TimeAxis::Received, true) => {}
        }
        PlotInput { defs, traces: &self.traces, status, now: self.now(now) }
    }

    /// Now on the time axis's clock.
    fn now(&self, real_now: f64) -> f64 {
        match self.axis {
            TimeAxis::Received => real_now,
            TimeAxis::Simulated => self.clock.now(real_now).unwrap_or(real_now),
        }
    }

    /// A live message: a clock message moves the simulated clock, and every message's value is
    /// added to the series it matches, dated on the axis's clock (left out when it has none).
    fn add_live(&mut self, defs: &[SeriesDef], topic: &str, payload: &[u8], at: f64) {
        if topic == TOPIC_CLOCK && self.clock.push(at, payload) && self.axis == TimeAxis::Simulated {
            // The time-lapse began its day again: the last run's points are not on this clock.
            self.traces.clear_points();
        }
        let x = match self.axis {
            TimeAxis::Received => self.loaded.filter(|(a, b)| *a <= at && at <= *b).map(|_| at),
            TimeAxis::Simulated => self.clock.map(at),
        };
        if let Some(x) = x {
            self.traces.add(defs, topic, payload, x);
        }
    }
}

impl App {
    pub(super) fn apply_plot(&mut self, intent: PlotIntent) {
        match intent {
            PlotIntent::ApplySeries(defs) => self.apply_series(defs),
            PlotIntent::ExportCsv => self.export_plot(false),
            PlotIntent::ExportPng => self.export_plot(true),
        }
    }

    /// Forgets the points (another profile, other series): the next frame loads again.
    pub(super) fn reset_plot(&mut self) {
        self.plot = PlotData { axis: self.view.plot.time_axis, ..PlotData::default() };
        let i = self.view_index();
        self.view.plot.editing.clone_from(&self.profiles.list[i].plot);
        self.view.plot.error = None;
    }

    /// Loads from history when the view shows time that is not loaded.
    pub(super) fn plot_logic(&mut self, now: f64) {
        if self.plot.axis != self.view.plot.time_axis {
            // Points on another clock: read them again on this one.
            self.plot = PlotData { axis: self.view.plot.time_axis, ..PlotData::default() };
        }
        if self.plot.axis == TimeAxis::Simulated {
            self.load_simulated(now);
            return;
        }
        let (from, to) = self.view.plot.shown(now);
        let covered = |r: Option<(f64, f64)>| r.is_some_and(|(a, b)| a <= from && to <= b);
        if covered(self.plot.loaded) || covered(self.plot.loading) {
            return;
        }
        let Some(path) = self.history.path.clone() else {
            // No history: the plot shows what arrives from now on.
            self.plot.loaded = Some((f64::NEG_INFINITY, f64::INFINITY));
            return;
        };
        // Following the clock: live messages extend the range. Otherwise load around the view
        // so that panning a little does not load again.
        let span = to - from;
        let range = if self.view.plot.range.follows() { (from, f64::INFINITY) } else { (from - span, to + span) };
        self.load_history(path, range, TimeAxis::Received);
    }

    /// Reads `range` (up to now) of the plotted profile's history on `axis`, off the UI thread.
    fn load_history(&mut self, path: PathBuf, range: (f64, f64), axis: TimeAxis) {
        self.plot.loading = Some(range);
        self.plot.waiting.clear();
        let profile = self.plot_profile().name.clone();
        let defs = self.plot_profile().plot.clone();
        let flushed = self.history.flush();
        self.io.off_thread(move || {
            super::history::await_flush(flushed.as_ref());
            let read = (range.0, range.1.min(now_secs()));
            match plot::load_on(&path, &profile, &defs, read, axis) {
                Ok(mut loaded) => {
                    loaded.range = range;
                    Background::PlotLoaded(Box::new(loaded))
                }
                Err(e) => Background::Note(format!("The plot of {profile} could not be read from history: {e}")),
            }
        });
    }

    /// On the simulated clock: the last day of history, once; live messages extend it.
    fn load_simulated(&mut self, now: f64) {
        if self.plot.loaded.is_some() || self.plot.loading.is_some() {
            return;
        }
        let range = (now - SIMULATED_HISTORY, f64::INFINITY);
        let Some(path) = self.history.path.clone() else {
            self.plot.loaded = Some(range);
            return;
        };
        self.load_history(path, range, TimeAxis::Simulated);
    }

    pub(super) fn plot_loaded(&mut self, loaded: Loaded) {
        let profile = self.plot_profile();
        if loaded.profile != profile.name || loaded.defs != profile.plot || loaded.axis != self.plot.axis {
            return;
        }
        if self.plot.loading != Some(loaded.range) {
            return;
        }
        self.plot.loading = None;
        self.plot.loaded = Some(loaded.range);
        self.plot.traces = loaded.traces;
        self.plot.clock = loaded.clock;
        let defs = &self.profiles.list[self.view_index()].plot;
        for (topic, payload, at) in std::mem::take(&mut self.plot.waiting) {
            self.plot.add_live(defs, &topic, &payload, at);
        }
    }

    /// A received message of the connection on view, on the plot.
    pub(super) fn plot_message(&mut self, m: &ReceivedMessage) {
        let at = secs(m.at);
        if self.plot.loading.is_some() {
            self.plot.waiting.push((m.topic.clone(), m.payload.clone(), at));
        } else if self.plot.loaded.is_some() {
            let defs = &self.profiles.list[self.view_index()].plot;
            self.plot.add_live(defs, &m.topic, &m.payload, at);
        }
    }

    fn apply_series(&mut self, defs: Vec<SeriesDef>) {
        let i = self.view_index();
        self.profiles.list[i].plot = defs;
        self.save_profile_at(i);
        self.reset_plot();
    }

    /// The profile whose series and history the plot shows: the connection on view's (as it is
    /// in the list now, series edited since connecting included), otherwise the selected one.
    pub(super) fn plot_profile(&self) -> &crate::profile::Profile {
        &self.profiles.list[self.view_index()]
    }

    /// Writes the CSV or the PNG of what is in view, off the UI thread, into the reports folder
    /// (`<date>_<time>_<profile>_plot.png`), or where "Export to" says when it names a file (a
    /// path ending in `/` names a folder). An existing file is never replaced: `-2` is added.
    fn export_plot(&mut self, png: bool) {
        let view: &PlotView = &self.view.plot;
        let extension = if png { "png" } else { "csv" };
        let chosen = view.export_path.trim();
        let profile = self.plot_profile();
        let described = super::reports::file_name(&chrono::Local::now(), &self.view_label(), "plot", extension);
        let (folder, name) = if chosen.is_empty() {
            (self.reports_folder(), described)
        } else if chosen.ends_with(['/', '\\']) {
            (PathBuf::from(chosen), described)
        } else {
            let mut path = PathBuf::from(chosen);
            if path.extension().is_none_or(|e| !e.eq_ignore_ascii_case(extension)) {
                path.as_mut_os_string().push(format!(".{extension}"));
            }
            let name = path.file_name().map_or(described, |n| n.to_string_lossy().into_owned());
            // A bare name ("report") goes into the reports folder too.
            let folder = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| self.reports_folder(), PathBuf::from);
            (folder, name)
        };
        let range = view.shown(now_secs());
        let size = (view.png_width, view.png_height);
        let traces = self.plot.traces.clone();
        let defs = profile.plot.clone();
        let title = format!("{}: {} to {}", profile.name, plot::format_local(range.0), plot::format_local(range.1));
        self.save_file("plot", folder, name, move |path| {
            let figure = Figure::new(&traces, &defs, range);
            if png {
                plot::write_png(path, &figure, &title, size).map(|()| format!("{} x {} pixels", size.0, size.1))
            } else {
                std::fs::File::create(path)
                    .map(std::io::BufWriter::new)
                    .and_then(|mut out| {
                        let rows = plot::write_csv(&mut out, &figure)?;
                        std::io::Write::flush(&mut out).map(|()| rows)
                    })
                    .map(|rows| format!("{rows} point(s)"))
                    .map_err(|e| format!("{}: {e}", path.display()))
            }
        });
    }
}
