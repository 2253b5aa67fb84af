//! Series definitions (saved in the profile) and the traces they produce: a definition is a topic
//! filter plus an extractor; a wildcard filter with `split` set makes one trace per matching topic.

use mqtt_lab_broker::codec::matches;
use serde::{Deserialize, Serialize};

use super::{Extractor, Point, to_pointer};
use crate::mqtt::validate_filter;

/// Which y axis a series is read against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    #[default]
    Left,
    Right,
}

/// One series of the plot, as the user defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeriesDef {
    pub filter: String,
    pub extractor: Extractor,
    /// Shown on the axis, in the legend and in exports ("kW", "%").
    pub unit: String,
    pub color: [u8; 3],
    pub side: Side,
    /// With a wildcard filter: one trace per matching topic instead of one for all.
    pub split: bool,
}

impl Default for SeriesDef {
    fn default() -> Self {
        Self {
            filter: String::new(),
            extractor: Extractor::Number,
            unit: String::new(),
            color: crate::palette::PALETTE[0],
            side: Side::Left,
            split: true,
        }
    }
}

impl SeriesDef {
    /// The filter and the JSON path checked; the error names the series and the rule.
    pub fn validate(&self) -> Result<(), String> {
        validate_filter(&self.filter).map_err(|e| format!("series {:?}: {e}", self.filter))?;
        if let Extractor::Json { path } = &self.extractor {
            to_pointer(path).map_err(|e| format!("series {:?}: {e}", self.filter))?;
        }
        Ok(())
    }

    /// The trace a message on `topic` belongs to: the filter itself, or the topic when split.
    fn trace_topic(&self, topic: &str) -> String {
        if self.split && self.filter.contains(['+', '#']) { topic.to_owned() } else { self.filter.clone() }
    }
}

/// The points of one line on the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Index of the definition it comes from.
    pub series: usize,
    /// The filter, or the topic of a split series.
    pub topic: String,
    /// Time-ordered (Unix seconds, value).
    pub points: Vec<Point>,
}

impl Trace {
    /// The legend's name: "PV/data (kW)".
    pub fn name(&self, def: &SeriesDef) -> String {
        if def.unit.is_empty() { self.topic.clone() } else { format!("{} ({})", self.topic, def.unit) }
    }
}

/// All traces of a plot; messages are added as they are loaded or received.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traces {
    pub list: Vec<Trace>,
}

impl Traces {
    /// Adds the value of a message to every series whose filter matches its topic; a payload
    /// without a value for a series is skipped for that series. Returns whether any point was added.
    pub fn add(&mut self, defs: &[SeriesDef], topic: &str, payload: &[u8], at: f64) -> bool {
        let mut added = false;
        for (i, def) in defs.iter().enumerate() {
            added |= matches(&def.filter, topic) && self.add_to(i, def, topic, payload, at);
        }
        added
    }

    /// Adds a message's value to series `i` (whose filter matches `topic`).
    pub fn add_to(&mut self, i: usize, def: &SeriesDef, topic: &str, payload: &[u8], at: f64) -> bool {
        {
            let Some(value) = def.extractor.extract(payload) else { return false };
            let key = def.trace_topic(topic);
            // Kept sorted by (series, topic): the legend's order does not depend on arrival.
            let k = match self.list.binary_search_by(|t| (t.series, t.topic.as_str()).cmp(&(i, key.as_str()))) {
                Ok(k) => k,
                Err(k) => {
                    self.list.insert(k, Trace { series: i, topic: key, points: Vec::new() });
                    k
                }
            };
            let trace = &mut self.list[k];
            // Messages arrive in time order; a late one (clock step) is placed where it belongs.
            match trace.points.last() {
                Some(last) if last[0] > at => {
                    let k = trace.points.partition_point(|p| p[0] <= at);
                    trace.points.insert(k, [at, value]);
                }
                _ => trace.points.push([at, value]),
            }
        }
        true
    }

    /// Drops points before `from` (the live window moved on).
    pub fn drop_before(&mut self, from: f64) {
        for t in &mut self.list {
            let k = t.points.partition_point(|p| p[0] < from);
            t.points.drain(..k);
        }
    }

    /// The first and last time of any point: what "Fit data" shows.
    pub fn extent(&self) -> Option<(f64, f64)> {
        self.list
            .iter()
            .filter_map(|t| Some((t.points.first()?[0], t.points.last()?[0])))
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    }

    /// Forgets every point, keeping the lines (a time-lapse started its day again).
    pub fn clear_points(&mut self) {
        for t in &mut self.list {
            t.points.clear();
        }
    }

    pub fn points(&self) -> usize {
        self.list.iter().map(|t| t.points.len()).sum()
    }
}

/// The points a switch series draws: the value holds until the next message, so each change
/// becomes a vertical step.
pub fn steps(points: &[Point]) -> Vec<Point> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            out.push([p[0], points[i - 1][1]]);
        }
        out.push(*p);
    }
    out
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    fn def(filter: &str, extractor: Extractor, split: bool) -> SeriesDef {
        SeriesDef { filter: filter.into(), extractor, split, ..SeriesDef::default() }
    }

    #[test]
    fn a_wildcard_series_splits_by_topic_unless_told_not_to() {
        let defs = [def("plant/+/kw", Extractor::Number, true), def("plant/#", Extractor::Number, false)];
        let mut traces = Traces::default();
        assert!(traces.add(&defs, "plant/east/kw", b"1.5", 10.0));
        assert!(traces.add(&defs, "plant/west/kw", b"2.5", 11.0));
        assert!(traces.add(&defs, "plant/east/kw", b"1.7", 12.0));
        let names: Vec<(usize, &str, usize)> =
            traces.list.iter().map(|t| (t.series, t.topic.as_str(), t.points.len())).collect();
        assert_eq!(names, [(0, "plant/east/kw", 2), (0, "plant/west/kw", 1), (1, "plant/#", 3)]);
        assert_eq!(traces.list[0].points, [[10.0, 1.5], [12.0, 1.7]]);
    }

    #[test]
    fn payloads_without_a_value_are_skipped_and_late_messages_are_placed_in_time() {
        let defs = [def("PV/data", Extractor::Number, true)];
        let mut traces = Traces::default();
        assert!(!traces.add(&defs, "PV/data", b"n/a", 1.0));
        assert!(!traces.add(&defs, "PV/other", b"3", 1.0));
        assert!(traces.add(&defs, "PV/data", b"3", 5.0));
        assert!(traces.add(&defs, "PV/data", b"2", 3.0));
        assert_eq!(traces.list[0].points, [[3.0, 2.0], [5.0, 3.0]]);
        traces.drop_before(4.0);
        assert_eq!(traces.points(), 1);
    }

    #[test]
    fn switch_series_hold_their_value_until_the_next_message() {
        assert_eq!(
            steps(&[[0.0, 1.0], [10.0, 0.0], [20.0, 1.0]]),
            [[0.0, 1.0], [10.0, 1.0], [10.0, 0.0], [20.0, 0.0], [20.0, 1.0]]
        );
    }

    #[test]
    fn definitions_are_checked_with_the_rule_named() {
        assert!(def("PV/#", Extractor::Number, true).validate().is_ok());
        assert!(def("PV/#/x", Extractor::Number, true).validate().unwrap_err().contains("[MQTT-4.7.1-2]"));
        let bad_path = def("lamp/luminosity", Extractor::Json { path: "value".into() }, true);
        assert!(bad_path.validate().unwrap_err().contains("start a JSON path with $"));
    }
}
