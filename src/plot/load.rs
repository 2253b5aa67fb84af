//! A plot's points from history: each series' messages in the time range, read with the topic
//! index (never on the UI thread: the app calls this on the blocking pool).

use std::path::Path;

use super::{SeriesDef, Traces};
use crate::history;

/// What a load produced, and for which view.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub profile: String,
    /// The definitions the points were extracted with.
    pub defs: Vec<SeriesDef>,
    /// The range loaded (Unix seconds).
    pub range: (f64, f64),
    pub traces: Traces,
}

/// Unix seconds to the history's milliseconds.
fn ms(t: f64) -> i64 {
    // Times within ±2^53 ms: exact enough for a history kept in ms.
    #[allow(clippy::cast_possible_truncation)]
    let ms = (t * 1000.0).round() as i64;
    ms
}

/// Reads every series of `defs` over `range` from the history file.
pub fn load(path: &Path, profile: &str, defs: &[SeriesDef], range: (f64, f64)) -> rusqlite::Result<Loaded> {
    let db = history::open(path)?;
    let mut traces = Traces::default();
    for (i, def) in defs.iter().enumerate() {
        history::each_in_range(&db, profile, &def.filter, (ms(range.0), ms(range.1)), |topic, payload, at_ms| {
            if mqtt_lab_broker::codec::matches(&def.filter, topic) {
                // Milliseconds since 1970 are far below 2^53: exact.
                #[allow(clippy::cast_precision_loss)]
                let at = at_ms as f64 / 1000.0;
                traces.add_to(i, def, topic, payload, at);
            }
        })?;
    }
    Ok(Loaded { profile: profile.to_owned(), defs: defs.to_vec(), range, traces })
}
