//! Local clock time, shared by the plot's time axis and the simulators (a leaf: no module of
//! ours below it), and the time-lapse's clock topic both of them read.

use chrono::{DateTime, Local, Offset, TimeZone};

/// The local clock's offset from UTC in seconds at Unix time `t`.
pub fn local_offset(t: f64) -> f64 {
    // Seconds since 1970 fit an i64.
    #[allow(clippy::cast_possible_truncation)]
    let secs = t as i64;
    Local.timestamp_opt(secs, 0).single().map_or(0.0, |d| f64::from(d.offset().fix().local_minus_utc()))
}

/// Local time of Unix seconds `t`.
pub fn local(t: f64) -> DateTime<Local> {
    // Millisecond precision is what history keeps.
    #[allow(clippy::cast_possible_truncation)]
    let ms = (t * 1000.0).round() as i64;
    Local.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Local midnight before Unix time `now`.
pub fn midnight(now: f64) -> f64 {
    let day = local(now).date_naive();
    let start = day.and_hms_opt(0, 0, 0).and_then(|d| Local.from_local_datetime(&d).earliest());
    // Seconds since 1970: exact as f64.
    #[allow(clippy::cast_precision_loss)]
    start.map_or(now - 86_400.0, |d| d.timestamp() as f64)
}

/// Where a time-lapse publishes its simulated clock, next to the plant's data: a plot can then
/// draw the day on the simulated clock (06:00 to 20:00) rather than on the ten minutes it took.
/// `PV/data` and `PV/sunshine` keep the course's formats; this topic is an addition.
pub const TOPIC_CLOCK: &str = "PV/clock";

/// The clock's payload: local time with its offset (RFC 3339, to the second), e.g.
/// `2026-12-06T14:24:00+01:00`. Text, not a number, so no numeric series ever plots it.
pub fn clock_payload(sim_secs: f64) -> String {
    local(sim_secs).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Unix seconds from a clock payload, or `None` when it is not one.
pub fn parse_clock(payload: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(payload).ok()?;
    let time = chrono::DateTime::parse_from_rfc3339(text.trim()).ok()?;
    // Milliseconds since 1970 are far below 2^53: exact.
    #[allow(clippy::cast_precision_loss)]
    Some(time.timestamp_millis() as f64 / 1000.0)
}
