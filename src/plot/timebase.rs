//! Which clock the time axis reads: when each message was received, or the simulated day of a
//! time-lapse. A time-lapse publishes its clock on `PV/clock` just before each reading; a message
//! received after a clock message is dated on that clock, so a day played in ten minutes is
//! drawn from 06:00 to 20:00.

use crate::localtime::parse_clock;

/// What the x axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeAxis {
    /// When the app received each message (the only clock of a real device).
    #[default]
    Received,
    /// The simulated day of a time-lapse, from its `PV/clock` messages.
    Simulated,
}

/// A received message this long (real seconds) after the last clock message has no simulated
/// time: the time-lapse stopped, and a later message is not part of its day.
const STALE: f64 = 30.0;

/// Received time -> simulated time, from the clock messages of the latest time-lapse run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClockMap {
    /// (received, simulated) Unix seconds, in the order received; a clock that goes back (a new
    /// run starting at 06:00 again) starts the list anew.
    anchors: Vec<(f64, f64)>,
}

impl ClockMap {
    /// Takes a clock message received at `received`; returns true when it starts a new run (the
    /// points of the previous run are no longer on this clock).
    pub fn push(&mut self, received: f64, payload: &[u8]) -> bool {
        let Some(sim) = parse_clock(payload) else { return false };
        let new_run = self.anchors.last().is_some_and(|&(_, last)| sim < last - 1.0);
        if new_run {
            self.anchors.clear();
        }
        match self.anchors.last() {
            // Out of order by a little (two clocks in one batch): keep the list sorted.
            Some(&(r, _)) if received < r => {
                let k = self.anchors.partition_point(|a| a.0 <= received);
                self.anchors.insert(k, (received, sim));
            }
            _ => self.anchors.push((received, sim)),
        }
        new_run
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The simulated time of a message received at `received`: its clock's time plus the time
    /// since, at the run's speed. `None` before the run or long after its last clock.
    pub fn map(&self, received: f64) -> Option<f64> {
        let k = self.anchors.partition_point(|a| a.0 <= received);
        let &(r, s) = self.anchors.get(k.checked_sub(1)?)?;
        let elapsed = received - r;
        (elapsed <= STALE).then(|| s + elapsed * self.speed(k - 1))
    }

    /// The simulated time now: the last clock's, moved on while the run is live.
    pub fn now(&self, real_now: f64) -> Option<f64> {
        let &(r, s) = self.anchors.last()?;
        let elapsed = (real_now - r).clamp(0.0, STALE);
        Some(s + elapsed * self.speed(self.anchors.len() - 1))
    }

    /// Simulated seconds per real second around anchor `k` (1 until a second clock came).
    fn speed(&self, k: usize) -> f64 {
        let (a, b) = match (k.checked_sub(1).and_then(|j| self.anchors.get(j)), self.anchors.get(k + 1)) {
            (Some(a), _) => (*a, self.anchors[k]),
            (None, Some(b)) => (self.anchors[k], *b),
            (None, None) => return 1.0,
        };
        if b.0 - a.0 > 1e-3 { ((b.1 - a.1) / (b.0 - a.0)).max(0.0) } else { 1.0 }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::localtime::clock_payload;

    fn clock(map: &mut ClockMap, received: f64, sim: f64) -> bool {
        map.push(received, clock_payload(sim).as_bytes())
    }

    #[test]
    fn messages_after_a_clock_are_dated_on_the_simulated_day() {
        let six = 1_750_000_000.0;
        let mut map = ClockMap::default();
        assert_eq!(map.map(100.0), None, "no clock yet");
        assert!(!clock(&mut map, 100.0, six));
        assert_eq!(map.map(100.0), Some(six), "the reading sent with the clock");
        assert_eq!(map.map(100.5), Some(six + 0.5), "one clock: real speed");
        assert!(!clock(&mut map, 101.0, six + 144.0));
        assert_eq!(map.map(101.5), Some(six + 144.0 + 72.0), "144x from two clocks");
        assert_eq!(map.map(99.0), None, "before the run");
        assert_eq!(map.map(101.0 + STALE + 1.0), None, "the run stopped");
        assert_eq!(map.now(102.0), Some(six + 288.0));
        assert_eq!(map.now(10_000.0), Some(six + 144.0 + STALE * 144.0), "a stopped run's clock stops");
        assert!(!map.push(101.2, b"3.25"), "not a clock");
        // A new run starts at 06:00 again: the old anchors go.
        assert!(clock(&mut map, 200.0, six));
        assert_eq!(map.map(100.5), None);
        assert_eq!(map.map(200.0), Some(six));
    }
}
