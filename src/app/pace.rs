//! [`FramePace`]: how long `logic()` may spend on events this frame. A frame has about 16 ms; the
//! events get what drawing and tree work left of [`FRAME`] in the heaviest of the last [`KEPT`]
//! frames, between [`MIN`] and [`MAX`]. With a fixed 10 ms, a frame that drew a lot (clicks that
//! expand the Topics tab's rows while 60,000 messages a second arrive: 8-10 ms of drawing) went
//! to 18-21 ms; paced by the last frame alone it still did, since such frames come every other
//! one (`cargo bench --bench app -- three`, 2026-12-07).

use std::time::{Duration, Instant};

/// What `logic()` and `ui()` together aim at, leaving egui's own work after `ui()` (layout of
/// the shapes, the accessibility tree) and the paint the rest of 16 ms.
const FRAME: Duration = Duration::from_millis(12);
/// Never less: a heavy frame still takes events in (at about 4 us an event, 3 ms is 750).
const MIN: Duration = Duration::from_millis(3);
/// Never more: at about 4 us an event, 2,000 events; 60 frames of it are 120,000 events a second.
const MAX: Duration = Duration::from_millis(8);
/// Frames whose drawing is remembered: a heavy one every few frames sets the pace.
const KEPT: usize = 8;

#[derive(Debug, Default)]
pub(super) struct FramePace {
    /// When this frame's `logic()` began, until its `ui()` ends.
    began: Option<Instant>,
    /// This frame's time on events.
    drained: Duration,
    /// The last frames' time outside the events (tree work in `logic()`, then `ui()`), a ring.
    rest: [Duration; KEPT],
    /// Where the next frame's rest goes in `rest`.
    next: usize,
}

impl FramePace {
    /// A frame begins: the budget for its events.
    pub fn begin(&mut self) -> Duration {
        self.began = Some(Instant::now());
        self.drained = Duration::ZERO;
        let heaviest = self.rest.iter().max().copied().unwrap_or_default();
        FRAME.saturating_sub(heaviest).clamp(MIN, MAX)
    }

    /// The events took `spent` of this frame.
    pub fn drained(&mut self, spent: Duration) {
        self.drained = spent;
    }

    /// `ui()` is done: what the frame spent outside its events is remembered for the next one.
    pub fn end(&mut self) {
        if let Some(began) = self.began.take() {
            self.rest[self.next] = began.elapsed().saturating_sub(self.drained);
            self.next = (self.next + 1) % KEPT;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn with_rest(rest: Duration) -> FramePace {
        FramePace { rest: [rest; KEPT], ..FramePace::default() }
    }

    #[test]
    fn the_budget_is_what_drawing_left_within_bounds() {
        assert_eq!(with_rest(Duration::ZERO).begin(), MAX);
        assert_eq!(with_rest(ms(5)).begin(), ms(7));
        assert_eq!(with_rest(ms(30)).begin(), MIN);
    }

    #[test]
    fn one_heavy_frame_sets_the_pace_for_the_next_ones() {
        let mut pace = with_rest(ms(2));
        pace.rest[3] = ms(9);
        assert_eq!(pace.begin(), ms(3));
        pace.rest[3] = ms(2);
        assert_eq!(pace.begin(), MAX);
    }

    #[test]
    fn the_rest_is_the_frame_without_its_events() {
        let mut pace = FramePace::default();
        pace.begin();
        let began = pace.began.unwrap();
        pace.drained(ms(1));
        pace.end();
        assert!(pace.rest[0] <= began.elapsed().saturating_sub(ms(1)) + Duration::from_micros(1));
        assert_eq!(pace.next, 1);
        pace.end();
        assert_eq!(pace.next, 1, "a frame ends once");
    }
}
