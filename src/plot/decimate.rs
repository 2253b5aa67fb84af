//! Min/max decimation: a day at 1 Hz is 86,400 points, a plot is a few hundred pixels wide. Each
//! pixel column keeps the first, smallest, largest and last point that fall in it, in time order,
//! so every peak and dip is drawn where it happened and no data is dropped from view.

/// A point: time in seconds (Unix, as f64) and value.
pub type Point = [f64; 2];

/// Decimates `points` (sorted by time) to at most 4 per column over `[start, end]` in `columns`
/// columns; points outside the range are left out, except one on each side so lines reach the edges.
pub fn decimate(points: &[Point], start: f64, end: f64, columns: usize) -> Vec<Point> {
    let columns = columns.max(1);
    let from = points.partition_point(|p| p[0] < start).saturating_sub(1);
    let to = (points.partition_point(|p| p[0] <= end) + 1).min(points.len());
    let visible = &points[from..to];
    if visible.len() <= columns * 4 || end <= start {
        return visible.to_vec();
    }
    // A pixel count is far below 2^52: exact as f64.
    #[allow(clippy::cast_precision_loss)]
    let width = (end - start) / columns as f64;
    let column_of = |t: f64| -> i64 {
        // Truncation is the point: a column index. The edge points fall in columns -1 and `columns`.
        #[allow(clippy::cast_possible_truncation)]
        let c = ((t - start) / width).floor() as i64;
        c
    };
    let mut out = Vec::with_capacity(columns * 4 + 2);
    let mut i = 0;
    while i < visible.len() {
        let column = column_of(visible[i][0]);
        let mut j = i;
        let (mut min, mut max) = (i, i);
        while j < visible.len() && column_of(visible[j][0]) == column {
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
    out
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
