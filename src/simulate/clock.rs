//! Simulated time: real time, or a time-lapse (a day in 10 minutes is 144 times faster).

/// Maps real time to simulated time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimClock {
    /// Real and simulated Unix seconds when the simulation started.
    real_start: f64,
    sim_start: f64,
    pub speed: f64,
}

/// A day in 10 minutes.
pub const TIME_LAPSE: f64 = 144.0;

impl SimClock {
    /// Starts at `sim_start` (e.g. this morning's 06:00) at real time `real_now`.
    pub fn new(real_now: f64, sim_start: f64, speed: f64) -> Self {
        Self { real_start: real_now, sim_start, speed: speed.max(0.0) }
    }

    pub fn now(&self, real_now: f64) -> f64 {
        self.sim_start + (real_now - self.real_start) * self.speed
    }
}

pub use crate::localtime::{TOPIC_CLOCK, clock_payload, parse_clock};

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn a_time_lapse_runs_a_day_in_ten_minutes() {
        let clock = SimClock::new(1_000.0, 50_000.0, TIME_LAPSE);
        assert_eq!(clock.now(1_000.0), 50_000.0);
        assert_eq!(clock.now(1_600.0), 50_000.0 + 86_400.0);
        assert_eq!(SimClock::new(0.0, 0.0, 1.0).now(5.0), 5.0, "real time");
    }

    #[test]
    fn the_clock_payload_is_local_time_that_reads_back() {
        let t = 1_750_000_000.0;
        let payload = clock_payload(t);
        assert_eq!(payload.len(), "2025-06-15T17:06:40+02:00".len(), "{payload}");
        assert_eq!(parse_clock(payload.as_bytes()), Some(t));
        assert_eq!(parse_clock(b"3.25"), None, "a number is not a clock");
        assert_eq!(parse_clock(&[0xff]), None);
    }
}
