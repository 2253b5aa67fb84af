//! A plot's points from history: each series' messages in the time range, read with the topic
//! index (never on the UI thread: the app calls this on the blocking pool).

use std::path::Path;

use super::{ClockMap, SeriesDef, TimeAxis, Traces};
use crate::history;
use crate::localtime::TOPIC_CLOCK;

/// What a load produced, and for which view.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub profile: String,
    /// The definitions the points were extracted with.
    pub defs: Vec<SeriesDef>,
    /// The range loaded (Unix seconds of reception).
    pub range: (f64, f64),
    /// The clock the points' times are on.
    pub axis: TimeAxis,
    /// On the simulated axis: the time-lapse's clock so far, for the messages still to come.
    pub clock: ClockMap,
    pub traces: Traces,
}

/// Unix seconds to the history's milliseconds.
fn ms(t: f64) -> i64 {
    // Times within ±2^53 ms: exact enough for a history kept in ms.
    #[allow(clippy::cast_possible_truncation)]
    let ms = (t * 1000.0).round() as i64;
    ms
}

/// Milliseconds since 1970 as Unix seconds.
fn secs(at_ms: i64) -> f64 {
    // Far below 2^53: exact.
    #[allow(clippy::cast_precision_loss)]
    let at = at_ms as f64 / 1000.0;
    at
}

/// Reads every series of `defs` received over `range` from the history file.
pub fn load(path: &Path, profile: &str, defs: &[SeriesDef], range: (f64, f64)) -> rusqlite::Result<Loaded> {
    load_on(path, profile, defs, range, TimeAxis::Received)
}

/// `load`, with the points dated on `axis`: on the simulated clock, the time-lapse's clock
/// messages in the range are read first, and points without a simulated time are left out.
pub fn load_on(
    path: &Path,
    profile: &str,
    defs: &[SeriesDef],
    range: (f64, f64),
    axis: TimeAxis,
) -> rusqlite::Result<Loaded> {
    let db = history::open(path)?;
    let received = (ms(range.0), ms(range.1));
    let mut clock = ClockMap::default();
    if axis == TimeAxis::Simulated {
        history::each_in_range(&db, profile, TOPIC_CLOCK, received, |_, payload, at_ms| {
            clock.push(secs(at_ms), payload);
        })?;
    }
    let mut traces = Traces::default();
    for (i, def) in defs.iter().enumerate() {
        history::each_in_range(&db, profile, &def.filter, received, |topic, payload, at_ms| {
            if !mqtt_lab_broker::codec::matches(&def.filter, topic) {
                return;
            }
            let at = match axis {
                TimeAxis::Received => Some(secs(at_ms)),
                TimeAxis::Simulated => clock.map(secs(at_ms)),
            };
            if let Some(at) = at {
                traces.add_to(i, def, topic, payload, at);
            }
        })?;
    }
    Ok(Loaded { profile: profile.to_owned(), defs: defs.to_vec(), range, axis, clock, traces })
}
