//! What the plot tab draws, free of egui: series definitions, values from payloads, min/max
//! decimation to the plot's pixel width, axes, time ranges, and the exports.
//!
//! - `series`: definitions (saved per profile) and the traces they make, split by topic.
//! - `extract`: payload -> number (plain, switch words, JSON pointer or path).
//! - `decimate`: many points -> a few per pixel column, keeping every column's min and max.
//! - `axes`: two y axes sharing round grid lines; local clock time on the x axis.
//! - `range`: live windows, today, last 24 h, custom.
//! - `load`: a range of points from the history database.
//! - `figure`: one figure for screen and PNG: lines in range, decimated, broken at gaps, y scales.
//! - `timebase`: the time axis's clock: received, or a time-lapse's simulated day (`PV/clock`).
//! - `export`: CSV of the exact points, PNG at a chosen size.

mod axes;
mod decimate;
mod export;
mod extract;
mod figure;
mod load;
mod range;
mod series;
mod timebase;

pub use axes::{Scale, local, scale, shared, time_grid, time_label, time_marks, time_step, value_label};
pub use decimate::{GAP_FACTOR, Point, decimate, decimate_split, gap_threshold};
pub use export::{register_font, write_csv, write_png};
pub use extract::{Extractor, to_pointer};
pub use figure::{Drawn, Figure, Line, Scales};
pub use load::{Loaded, load, load_on};
pub use range::{TimeRange, fit, format_local, midnight, parse_local};
pub use series::{SeriesDef, Side, Trace, Traces, steps};
pub use timebase::{ClockMap, TimeAxis};
