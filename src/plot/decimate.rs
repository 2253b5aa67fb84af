//! Min/max decimation: a day at 1 Hz is 86,400 points, a plot is a few hundred pixels wide. Each
//! pixel column keeps the first, smallest, largest and last point that fall in it, in time order,
//! so every peak and dip is drawn where it happened and no data is dropped from view. A line
//! breaks where data is missing: a gap longer than a few of the trace's sampling intervals.

/// A point: time in seconds (Unix, as f64) and value.
pub type Point = [f64; 2];

/// A line is broken where two points are further apart than this many times the trace's median
/// sampling interval: a disconnection, a device that stopped.
pub const GAP_FACTOR: f64 = 5.0;

/// At most this many intervals are looked at to find the median: a fixed cost (and no heap) per
/// trace and frame, however many points the trace has.
const SAMPLES: usize = 255;

/// The interval above which `points` (sorted by time) are not joined: `GAP_FACTOR` times the
/// median interval (of up to 255 evenly spread ones; equal times left out), or infinity when
/// there are too few points to tell.
pub fn gap_threshold(points: &[Point]) -> f64 {
    let pairs = points.len().saturating_sub(1);
    let stride = pairs.div_ceil(SAMPLES).max(1);
    let mut sample = [0.0f64; SAMPLES];
    let mut n = 0;
    for k in (0..pairs).step_by(stride) {
        let dt = points[k + 1][0] - points[k][0];
        if dt > 0.0 && n < SAMPLES {
            sample[n] = dt;
            n += 1;
        }
    }
    if n < 2 {
        return f64::INFINITY;
    }
    let (_, median, _) = sample[..n].select_nth_unstable_by(n / 2, f64::total_cmp);
    *median * GAP_FACTOR
}

/// Decimates `points` (sorted by time) to at most 4 per column over `[start, end]` in `columns`
/// columns; points outside the range are left out, except one on each side so lines reach the edges.
pub fn decimate(points: &[Point], start: f64, end: f64, columns: usize) -> Vec<Point> {
    decimate_split(points, start, end, columns, f64::INFINITY).0
}

/// `decimate`, and where the line breaks: the indices of the output that start a new segment,
/// after two neighbouring points more than `gap` seconds (and more than a pixel column) apart.
/// A gap narrower than a column would not show: it is not broken, which also bounds the number
/// of segments by the plot's width.
pub fn decimate_split(points: &[Point], start: f64, end: f64, columns: usize, gap: f64) -> (Vec<Point>, Vec<usize>) {
    let columns = columns.max(1);
    let from = points.partition_point(|p| p[0] < start).saturating_sub(1);
    let to = (points.partition_point(|p| p[0] <= end) + 1).min(points.len());
    let visible = &points[from..to];
    // A pixel count is far below 2^52: exact as f64.
    #[allow(clippy::cast_precision_loss)]
    let width = (end - start) / columns as f64;
    let gap = gap.max(width);
    let broken = |k: usize| k > 0 && visible[k][0] - visible[k - 1][0] > gap;
    if visible.len() <= columns * 4 || end <= start {
        let breaks = if gap.is_finite() { (1..visible.len()).filter(|k| broken(*k)).collect() } else { Vec::new() };
        return (visible.to_vec(), breaks);
    }
    let column_of = |t: f64| -> i64 {
        // Truncation is the point: a column index. The edge points fall in columns -1 and `columns`.
        #[allow(clippy::cast_possible_truncation)]
        let c = ((t - start) / width).floor() as i64;
        c
    };
    let mut out = Vec::with_capacity(columns * 4 + 2);
    let mut breaks = Vec::new();
    let mut i = 0;
    while i < visible.len() {
        if broken(i) {
            breaks.push(out.len());
        }
        // A column's points, up to a gap: points on both sides of a gap are never merged.
        let column = column_of(visible[i][0]);
        let mut j = i;
        let (mut min, mut max) = (i, i);
        while j < visible.len() && column_of(visible[j][0]) == column && (j == i || !broken(j)) {
            if visible[j][1] < visible[min][1] {
                min = j;
            }
            if visible[j][1] > visible[max][1] {
                max = j;
            }
            j += 1;
        }
        let last = j - 1;
        let mut keep = [i, min, max, last];
        keep.sort_unstable();
        let mut previous = None;
        for k in keep {
            if previous != Some(k) {
                out.push(visible[k]);
                previous = Some(k);
            }
        }
        i = j;
    }
    (out, breaks)
}

#[cfg(test)]
// Values are copied, never computed: exact comparison is the check.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::float_cmp)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn day_at_1hz() -> Vec<Point> {
        (0..86_400).map(|s| [f64::from(s), (f64::from(s) / 3_600.0).sin() * 5.0 + f64::from(s % 7)]).collect()
    }

    #[test]
    fn a_day_at_1_hz_becomes_at_most_four_points_a_column() {
        let points = day_at_1hz();
        let out = decimate(&points, 0.0, 86_400.0, 800);
        assert!(out.len() <= 800 * 4 + 2, "{}", out.len());
        assert!(out.len() >= 800 * 2, "every column has its min and max: {}", out.len());
        assert!(out.windows(2).all(|w| w[0][0] <= w[1][0]), "in time order");
        let global_max = points.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        assert!(out.iter().any(|p| p[1] == global_max), "the day's peak is kept");
    }

    #[test]
    fn few_points_pass_untouched_and_the_range_keeps_one_point_beyond_each_edge() {
        let points: Vec<Point> = (0..10).map(|i| [f64::from(i), f64::from(i)]).collect();
        assert_eq!(decimate(&points, 0.0, 9.0, 100), points);
        assert_eq!(decimate(&points, 3.5, 5.5, 100), vec![[3.0, 3.0], [4.0, 4.0], [5.0, 5.0], [6.0, 6.0]]);
        assert!(decimate(&[], 0.0, 1.0, 10).is_empty());
    }

    #[test]
    fn the_gap_threshold_is_five_median_intervals_and_needs_a_few_points() {
        let every_2s: Vec<Point> = (0..100).map(|i| [f64::from(i) * 2.0, 0.0]).collect();
        assert_eq!(gap_threshold(&every_2s), 10.0);
        let mut with_gap = every_2s.clone();
        with_gap.extend((0..100).map(|i| [1_000.0 + f64::from(i) * 2.0, 0.0]));
        assert_eq!(gap_threshold(&with_gap), 10.0, "one long gap does not move the median");
        assert_eq!(gap_threshold(&every_2s[..2]), f64::INFINITY, "one interval tells nothing");
        let day: Vec<Point> = (0..86_400).map(|s| [f64::from(s), 0.0]).collect();
        assert_eq!(gap_threshold(&day), 5.0, "sampled, same answer");
    }

    #[test]
    fn a_gap_breaks_the_line_with_and_without_decimation() {
        // 1 Hz, then nothing for 10 minutes, then 1 Hz again.
        let mut points: Vec<Point> = (0..600).map(|s| [f64::from(s), 1.0]).collect();
        points.extend((1_200..1_800).map(|s| [f64::from(s), 2.0]));
        let gap = gap_threshold(&points);
        let (out, breaks) = decimate_split(&points, 0.0, 1_800.0, 100, gap);
        assert_eq!(breaks.len(), 1, "{breaks:?}");
        assert_eq!(out[breaks[0] - 1], [599.0, 1.0], "the last point before the gap ends a segment");
        assert_eq!(out[breaks[0]], [1_200.0, 2.0], "the first after it starts one");
        let (few, breaks) = decimate_split(&points, 0.0, 1_800.0, 1_000, gap);
        assert_eq!(few.len(), points.len(), "not decimated");
        assert_eq!(breaks, [600]);
        assert!(decimate_split(&points, 0.0, 1_800.0, 100, f64::INFINITY).1.is_empty(), "no gap rule, no break");
        // Seen from far (a column is wider than the gap), the gap does not show and is not broken.
        assert!(decimate_split(&points, 0.0, 86_400.0, 50, gap).1.is_empty());
    }

    proptest! {
        /// Every column's smallest and largest value appear in the output: no peak is lost.
        #[test]
        fn every_columns_min_and_max_are_kept(values in prop::collection::vec(-1000.0f64..1000.0, 50..2000), columns in 1usize..60) {
            let points: Vec<Point> = values.iter().enumerate().map(|(i, v)| [i as f64, *v]).collect();
            let end = points.len() as f64;
            let out = decimate(&points, 0.0, end, columns);
            let width = end / columns as f64;
            for c in 0..columns {
                let in_column: Vec<Point> = points.iter().copied().filter(|p| ((p[0] / width).floor() as usize).min(columns) == c).collect();
                if in_column.is_empty() { continue; }
                let min = in_column.iter().map(|p| p[1]).fold(f64::MAX, f64::min);
                let max = in_column.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
                prop_assert!(out.iter().any(|p| p[1] == min && (p[0] / width).floor() as usize == c));
                prop_assert!(out.iter().any(|p| p[1] == max && (p[0] / width).floor() as usize == c));
            }
            prop_assert!(out.len() <= columns * 4 + 2 || out.len() == points.len());
        }
    }
}
