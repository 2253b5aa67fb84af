//! Axis arithmetic: two y axes (kW on the left, % on the right) that share one set of round grid
//! lines, and time-axis steps and labels in local clock time.

pub use crate::localtime::{local, local_offset};

/// A round axis: `ticks` steps of `step` from `low`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub low: f64,
    pub step: f64,
    pub ticks: u32,
}

impl Scale {
    pub fn high(&self) -> f64 {
        self.low + self.step * f64::from(self.ticks)
    }

    /// The value on this scale at the same height as `value` on `other`.
    pub fn from_other(&self, other: &Self, value: f64) -> f64 {
        self.low + (value - other.low) / other.step * self.step
    }
}

/// A round step near `span / target`: 1, 2, 2.5 or 5 times a power of ten.
fn nice_step(span: f64, target: u32) -> f64 {
    let raw = (span / f64::from(target)).max(f64::MIN_POSITIVE);
    let power = 10f64.powf(raw.log10().floor());
    let m = raw / power;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 2.5 {
        2.5
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// A round scale covering `[min, max]` with about `target` steps.
pub fn scale(min: f64, max: f64, target: u32) -> Scale {
    let (min, max) = if max - min < 1e-9 { (min - 0.5, max + 0.5) } else { (min, max) };
    let step = nice_step(max - min, target);
    let low = (min / step).floor() * step;
    let high = (max / step).ceil() * step;
    // At most a few dozen steps: the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ticks = ((high - low) / step).round().max(1.0) as u32;
    Scale { low, step, ticks }
}

/// Two scales with the same number of steps, so the right axis's round values sit on the left
/// axis's grid lines.
pub fn shared(left: (f64, f64), right: (f64, f64), target: u32) -> (Scale, Scale) {
    let (mut l, mut r) = (scale(left.0, left.1, target), scale(right.0, right.1, target));
    let ticks = l.ticks.max(r.ticks);
    l.ticks = ticks;
    r.ticks = ticks;
    (l, r)
}

/// Round time steps in seconds, from a second to a week.
const TIME_STEPS: [f64; 20] = [
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1_800.0, 3_600.0, 7_200.0, 10_800.0, 21_600.0,
    43_200.0, 86_400.0, 172_800.0, 604_800.0,
];

/// The smallest round time step at least `min_step` seconds.
pub fn time_step(min_step: f64) -> f64 {
    TIME_STEPS.iter().copied().find(|s| *s >= min_step).unwrap_or(TIME_STEPS[TIME_STEPS.len() - 1])
}

/// Multiples of `step` in local time within `[from, to]`: grid lines at 10:00, not 10:00 UTC.
pub fn time_marks(from: f64, to: f64, step: f64) -> Vec<f64> {
    let offset = local_offset(from);
    // A mark a rounding error outside the range (a view fitted to 06:00 and back through the
    // plot's transform) is still the range's first or last mark.
    let slack = step * 1e-6;
    let mut t = ((from + offset - slack) / step).ceil() * step - offset;
    let mut out = Vec::new();
    while t <= to + slack && out.len() < 1_000 {
        out.push(t);
        t += step;
    }
    out
}

/// Time grid lines for a view of `[from, to]` whose finest useful step is `min_step` seconds (a
/// few pixels): three levels of round steps, each mark with the largest step it falls on. The
/// coarse level, about 12 times the finest, spaces labels some 70 pixels or more apart.
pub fn time_grid(from: f64, to: f64, min_step: f64) -> Vec<(f64, f64)> {
    let fine = time_step(min_step);
    let medium = time_step(min_step * 4.0);
    let coarse = time_step(min_step * 12.0);
    let mut marks: Vec<(f64, f64)> = Vec::new();
    for step in [coarse, medium, fine] {
        for t in time_marks(from, to, step) {
            if !marks.iter().any(|(v, _)| (v - t).abs() < fine * 0.1) {
                marks.push((t, step));
            }
        }
    }
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    marks
}

/// A time-axis label: the date at midnight or when the view spans days, seconds when steps are.
pub fn time_label(t: f64, step: f64, span: f64) -> String {
    let d = local(t);
    if step >= 86_400.0 || d.format("%H:%M:%S").to_string() == "00:00:00" {
        d.format("%a %d %b").to_string()
    } else if span > 86_400.0 {
        d.format("%d %b %H:%M").to_string()
    } else if step < 60.0 {
        d.format("%H:%M:%S").to_string()
    } else {
        d.format("%H:%M").to_string()
    }
}

/// A value as an axis or hover label: no needless decimals.
pub fn value_label(v: f64, step: f64) -> String {
    // Decimals enough to tell steps apart, at most 6.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let decimals = if step >= 1.0 { 0 } else { (-step.log10()).ceil().min(6.0) as usize };
    format!("{v:.decimals$}")
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_round_and_cover_the_data() {
        let s = scale(0.3, 4.7, 5);
        assert_eq!((s.low, s.step, s.high()), (0.0, 1.0, 5.0));
        let s = scale(12.0, 87.0, 5);
        assert_eq!((s.low, s.step, s.high()), (0.0, 20.0, 100.0));
        let flat = scale(3.0, 3.0, 5);
        assert!(flat.low < 3.0 && flat.high() > 3.0, "a flat series still gets a range");
    }

    #[test]
    fn two_axes_share_grid_lines_and_map_onto_each_other() {
        let (kw, pct) = shared((0.0, 4.6), (0.0, 100.0), 5);
        assert_eq!(kw.ticks, pct.ticks);
        assert_eq!((kw.low, kw.high()), (0.0, 5.0));
        assert_eq!((pct.low, pct.high()), (0.0, 100.0));
        // 50 % sits where 2.5 kW does, and back.
        assert_eq!(kw.from_other(&pct, 50.0), 2.5);
        assert_eq!(pct.from_other(&kw, 2.5), 50.0);
    }

    #[test]
    fn time_steps_are_round_and_marks_fall_on_local_clock_multiples() {
        assert_eq!(time_step(45.0), 60.0);
        assert_eq!(time_step(2_000.0), 3_600.0);
        let from = 1_750_000_000.0;
        let marks = time_marks(from, from + 7_200.0, 3_600.0);
        assert_eq!(marks.len(), 2);
        for m in marks {
            assert_eq!(local(m).format("%M:%S").to_string(), "00:00");
        }
        let day = time_grid(from, from + 86_400.0, 800.0);
        let labelled = day.iter().filter(|(_, step)| *step == 10_800.0).count();
        assert!((7..=9).contains(&labelled), "a day at ~130 s a pixel: a label every 3 h: {labelled}");
        assert_eq!(value_label(2.5, 0.5), "2.5");
        assert_eq!(value_label(40.0, 20.0), "40");
    }
}
