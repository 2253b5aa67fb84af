//! The time range the plot shows: live windows that follow the clock, today, the last 24 hours,
//! or a custom range (typed, or left where the user panned and zoomed).

use chrono::{Local, NaiveDateTime, TimeZone};

pub use crate::localtime::midnight;

/// What the time axis shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeRange {
    /// The last `secs` seconds, following the clock.
    Live { secs: f64 },
    /// From local midnight to now, following the clock.
    Today,
    /// The last 24 hours, following the clock.
    Last24h,
    /// Fixed bounds (Unix seconds).
    Custom { from: f64, to: f64 },
}

impl TimeRange {
    pub const LIVE_5_MIN: Self = Self::Live { secs: 300.0 };
    pub const LIVE_1_H: Self = Self::Live { secs: 3_600.0 };

    /// The choices offered as buttons, with their names.
    pub const CHOICES: [(Self, &'static str); 4] = [
        (Self::LIVE_5_MIN, "Live 5 min"),
        (Self::LIVE_1_H, "Live 1 h"),
        (Self::Today, "Today"),
        (Self::Last24h, "Last 24 h"),
    ];

    /// `[from, to]` in Unix seconds at time `now`.
    pub fn bounds(&self, now: f64) -> (f64, f64) {
        match *self {
            Self::Live { secs } => (now - secs, now),
            Self::Today => (midnight(now), now.max(midnight(now) + 60.0)),
            Self::Last24h => (now - 86_400.0, now),
            Self::Custom { from, to } => (from, to),
        }
    }

    /// Whether the range moves with the clock (live messages are appended and the view follows).
    pub const fn follows(&self) -> bool {
        !matches!(self, Self::Custom { .. })
    }
}

/// A range that fits data from `first` to `last`, rounded out to a round local clock step (about
/// an eighth of the span): a time-lapse day from 06:00 to 19:40 is shown from 06:00 to 20:00.
pub fn fit(first: f64, last: f64) -> (f64, f64) {
    let step = super::time_step(((last - first) / 8.0).max(1.0));
    let offset = crate::localtime::local_offset(first);
    let from = ((first + offset) / step).floor() * step - offset;
    let to = ((last + offset) / step).ceil() * step - offset;
    (from, to.max(from + step))
}

/// Reads a local time typed as "2026-11-24 14:30" (seconds optional).
pub fn parse_local(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let parsed = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .map_err(|_| format!("{text:?} is not a time: write it as 2026-11-24 14:30"))?;
    let local = Local
        .from_local_datetime(&parsed)
        .earliest()
        .ok_or_else(|| format!("{text:?} does not exist in local time (a clock change)"))?;
    // Seconds since 1970: exact as f64.
    #[allow(clippy::cast_precision_loss)]
    Ok(local.timestamp() as f64)
}

/// A time as `parse_local` reads it.
pub fn format_local(t: f64) -> String {
    crate::localtime::local(t).format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_the_clock_and_custom_ones_are_fixed() {
        let now = 1_750_000_000.0;
        assert_eq!(TimeRange::LIVE_5_MIN.bounds(now), (now - 300.0, now));
        assert_eq!(TimeRange::Last24h.bounds(now), (now - 86_400.0, now));
        let (from, to) = TimeRange::Today.bounds(now);
        assert!(from <= now && now - from < 86_400.0 && to == now);
        assert_eq!(crate::localtime::local(from).format("%H:%M").to_string(), "00:00");
        assert!(!TimeRange::Custom { from: 1.0, to: 2.0 }.follows());
    }

    #[test]
    fn a_fitted_range_rounds_the_data_out_to_clock_steps() {
        let six = parse_local("2026-11-24 06:00").unwrap();
        let (from, to) = fit(six + 90.0, six + 13.0 * 3_600.0 + 40.0 * 60.0);
        assert_eq!((format_local(from), format_local(to)), ("2026-11-24 06:00".into(), "2026-11-24 20:00".into()));
        let (from, to) = fit(six + 10.0, six + 10.0);
        assert!(from <= six + 10.0 && to > six + 10.0, "one point still gets a range");
        let (from, to) = fit(six + 61.0, six + 290.0);
        assert_eq!((from, to), (six + 60.0, six + 300.0), "five minutes: to the half minute");
    }

    #[test]
    fn typed_times_round_trip_and_bad_ones_say_how_to_write_them() {
        let t = parse_local("2026-11-24 14:30").unwrap();
        assert_eq!(format_local(t), "2026-11-24 14:30");
        assert_eq!(parse_local("2026-11-24 14:30:15").unwrap(), t + 15.0);
        assert!(parse_local("yesterday").unwrap_err().contains("2026-11-24 14:30"));
    }
}
