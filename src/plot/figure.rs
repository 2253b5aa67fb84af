//! One figure as both the screen and the PNG export draw it: the traces cut to the time range,
//! decimated to a pixel width, broken where data is missing, switch series as steps, and the y
//! scales of the two axes.

use super::{Point, Scale, SeriesDef, Side, Traces, decimate_split, gap_threshold, scale, shared, steps};

/// One line of the figure, borrowing its points.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub name: String,
    pub topic: &'a str,
    pub unit: &'a str,
    pub color: [u8; 3],
    pub side: Side,
    pub step: bool,
    /// The exact points within the range (what CSV export writes).
    pub points: &'a [Point],
}

/// The lines of a plot over `range`.
#[derive(Debug, Clone)]
pub struct Figure<'a> {
    pub range: (f64, f64),
    pub lines: Vec<Line<'a>>,
}

/// A line ready to draw: decimated, steps made, in the coordinates of its axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    pub points: Vec<Point>,
    /// Indices of `points` that start a new segment: the line is not drawn across a gap.
    pub breaks: Vec<usize>,
}

impl Drawn {
    /// The pieces of the line, each drawn on its own.
    pub fn segments(&self) -> impl Iterator<Item = &[Point]> {
        let starts = std::iter::once(0).chain(self.breaks.iter().copied());
        let ends = self.breaks.iter().copied().chain(std::iter::once(self.points.len()));
        starts.zip(ends).map(|(a, b)| &self.points[a..b]).filter(|s| !s.is_empty())
    }
}

/// The y scales: `left` always; `right` when series are on both sides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scales {
    pub left: Scale,
    pub right: Option<Scale>,
}

impl Scales {
    /// Where a value of a line on `side` is drawn, in left-axis coordinates.
    pub fn to_left(&self, side: Side, v: f64) -> f64 {
        match (side, self.right) {
            (Side::Right, Some(right)) => self.left.from_other(&right, v),
            _ => v,
        }
    }

    /// The value a line on `side` has at left-axis height `y`.
    pub fn from_left(&self, side: Side, y: f64) -> f64 {
        match (side, self.right) {
            (Side::Right, Some(right)) => right.from_other(&self.left, y),
            _ => y,
        }
    }
}

/// About this many grid steps on the y axes.
const Y_STEPS: u32 = 5;

impl<'a> Figure<'a> {
    pub fn new(traces: &'a Traces, defs: &'a [SeriesDef], range: (f64, f64)) -> Self {
        let lines = traces
            .list
            .iter()
            .filter_map(|t| {
                let def = defs.get(t.series)?;
                let from = t.points.partition_point(|p| p[0] < range.0);
                let to = t.points.partition_point(|p| p[0] <= range.1);
                Some(Line {
                    name: t.name(def),
                    topic: &t.topic,
                    unit: &def.unit,
                    color: def.color,
                    side: def.side,
                    step: def.extractor.is_step(),
                    points: &t.points[from..to],
                })
            })
            .collect();
        Self { range, lines }
    }

    /// Each line decimated to `columns` pixel columns (switches as steps), in its own units,
    /// broken where two points are more than `GAP_FACTOR` sampling intervals apart. A switch is
    /// not broken: it is published when it changes, so silence means "unchanged".
    pub fn decimated(&self, columns: usize) -> Vec<Drawn> {
        self.lines
            .iter()
            .map(|l| {
                let gap = if l.step { f64::INFINITY } else { gap_threshold(l.points) };
                let (points, breaks) = decimate_split(l.points, self.range.0, self.range.1, columns, gap);
                if l.step { Drawn { points: steps(&points), breaks } } else { Drawn { points, breaks } }
            })
            .collect()
    }

    /// Round scales covering what is drawn; the right axis only when both sides have lines.
    pub fn scales(&self, drawn: &[Drawn]) -> Scales {
        let extent =
            |side: Side| {
                self.lines.iter().zip(drawn).filter(|(l, _)| l.side == side).flat_map(|(_, d)| d.points.iter()).fold(
                    None,
                    |acc: Option<(f64, f64)>, p| {
                        Some(acc.map_or((p[1], p[1]), |(lo, hi)| (lo.min(p[1]), hi.max(p[1]))))
                    },
                )
            };
        match (extent(Side::Left), extent(Side::Right)) {
            (Some(l), Some(r)) => {
                let (left, right) = shared(l, r, Y_STEPS);
                Scales { left, right: Some(right) }
            }
            (Some(only), None) | (None, Some(only)) => Scales { left: scale(only.0, only.1, Y_STEPS), right: None },
            (None, None) => Scales { left: scale(0.0, 1.0, Y_STEPS), right: None },
        }
    }

    /// The units shown on an axis: those of its lines, joined.
    pub fn units(&self, side: Side) -> String {
        let mut units: Vec<&str> =
            self.lines.iter().filter(|l| l.side == side && !l.unit.is_empty()).map(|l| l.unit).collect();
        units.dedup();
        units.join(", ")
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::plot::Extractor;

    #[test]
    fn a_day_of_kw_and_percent_draws_on_two_round_axes() {
        let defs = vec![
            SeriesDef { filter: "PV/data".into(), unit: "kW".into(), ..SeriesDef::default() },
            SeriesDef {
                filter: "lamp/luminosity".into(),
                extractor: Extractor::Json { path: "/value".into() },
                unit: "%".into(),
                side: Side::Right,
                ..SeriesDef::default()
            },
        ];
        let mut traces = Traces::default();
        for s in 0..86_400 {
            let t = f64::from(s);
            traces.add(
                &defs,
                "PV/data",
                format!("{:.2}", 4.5 * (t / 86_400.0 * std::f64::consts::PI).sin()).as_bytes(),
                t,
            );
            traces.add(&defs, "lamp/luminosity", format!("{{\"value\":{}}}", s % 101).as_bytes(), t);
        }
        let figure = Figure::new(&traces, &defs, (0.0, 86_400.0));
        let drawn = figure.decimated(800);
        assert!(drawn.iter().all(|d| d.points.len() <= 800 * 4 + 2));
        let scales = figure.scales(&drawn);
        let right = scales.right.expect("a right axis");
        assert_eq!((scales.left.low, scales.left.high()), (0.0, 5.0));
        assert_eq!((right.low, right.high()), (0.0, 100.0));
        assert_eq!(scales.to_left(Side::Right, 100.0), 5.0);
        assert_eq!(scales.from_left(Side::Right, 2.5), 50.0);
        assert_eq!((figure.units(Side::Left), figure.units(Side::Right)), ("kW".into(), "%".into()));
        let noon = Figure::new(&traces, &defs, (43_000.0, 44_000.0));
        assert_eq!(noon.lines[0].points.len(), 1_001, "the exact points in range");
    }
}
