//! [`FramePace`]: how long `logic()` may spend on events this frame. A frame has about 16 ms; the
//! events get what the last frame's drawing and tree work left of [`FRAME`], between [`MIN`] and
//! [`MAX`]. With a fixed 10 ms, a frame that drew a lot (the first frames of a full Topics tab:
//! 6-8 ms of drawing) went to 18-21 ms (`cargo bench --bench app -- three`, 2026-12-07).

use std::time::{Duration, Instant};

/// What `logic()` and `ui()` together aim at, leaving egui's own work after `ui()` (layout of
/// the shapes, the accessibility tree) and the paint the rest of 16 ms.
const FRAME: Duration = Duration::from_millis(12);
/// Never less: a heavy frame still takes events in (at about 4 us an event, 3 ms is 750).
const MIN: Duration = Duration::from_millis(3);
/// Never more: what the budget was before it was paced.
const MAX: Duration = Duration::from_millis(10);

#[derive(Debug, Default)]
pub(super) struct FramePace {
    /// When this frame's `logic()` began, until its `ui()` ends.
    began: Option<Instant>,
    /// This frame's time on events.
    drained: Duration,
    /// The last frame's time outside the events: tree work in `logic()`, then `ui()`.
    rest: Duration,
}

impl FramePace {
    /// A frame begins: the budget for its events.
    pub fn begin(&mut self) -> Duration {
        self.began = Some(Instant::now());
        self.drained = Duration::ZERO;
        FRAME.saturating_sub(self.rest).clamp(MIN, MAX)
    }

    /// The events took `spent` of this frame.
    pub fn drained(&mut self, spent: Duration) {
        self.drained = spent;
    }

    /// `ui()` is done: what the frame spent outside its events is remembered for the next one.
    pub fn end(&mut self) {
        if let Some(began) = self.began.take() {
            self.rest = began.elapsed().saturating_sub(self.drained);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_rest(rest: Duration) -> FramePace {
        FramePace { rest, ..FramePace::default() }
    }

    #[test]
    fn the_budget_is_what_drawing_left_within_bounds() {
        assert_eq!(with_rest(Duration::ZERO).begin(), MAX);
        assert_eq!(with_rest(Duration::from_millis(5)).begin(), Duration::from_millis(7));
        assert_eq!(with_rest(Duration::from_millis(30)).begin(), MIN);
    }

    #[test]
    fn the_rest_is_the_frame_without_its_events() {
        let mut pace = FramePace::default();
        pace.begin();
        let began = pace.began.unwrap();
        pace.drained(Duration::from_millis(1));
        pace.end();
        assert!(pace.rest <= began.elapsed().saturating_sub(Duration::from_millis(1)) + Duration::from_micros(1));
        assert!(pace.began.is_none(), "a frame ends once");
        let rest = pace.rest;
        pace.end();
        assert_eq!(pace.rest, rest);
    }
}
