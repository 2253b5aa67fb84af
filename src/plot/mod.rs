//! What the plot tab draws, free of egui: series definitions, values from payloads, and min/max
//! decimation to the plot's pixel width.
//!
//! - `extract`: payload -> number (plain, switch words, JSON pointer or path).
//! - `decimate`: many points -> a few per pixel column, keeping every column's min and max.

mod decimate;
mod extract;

pub use decimate::{Point, decimate};
pub use extract::{Extractor, to_pointer};
