//! `summarize`: medians of repeated runs per scenario and broker, and the ratios of ours to
//! every other broker, from the JSON lines of many runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::{Outcome, median};

/// The summary table of `outcomes`; `ours` names the broker the ratios are about.
pub fn summarize(outcomes: &[Outcome], ours: &str) -> String {
    // Scenario key -> label -> runs.
    let mut groups: BTreeMap<String, BTreeMap<String, Vec<&Outcome>>> = BTreeMap::new();
    for o in outcomes {
        let mut key = format!("{} q{} {}->{}", o.scenario, o.qos, o.publishers, o.subscribers);
        if !matches!(o.transport.as_str(), "tcp" | "") {
            key = format!("{key} {}", o.transport);
        }
        if o.mqtt_version == "5" {
            key.push_str(" v5");
        }
        groups.entry(key).or_default().entry(o.label.clone()).or_default().push(o);
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<22} {:<12} {:>4} {:>14} {:>11} {:>9}  ratios ({ours} / other)",
        "scenario", "broker", "runs", "median", "unit", "lost"
    );
    for (key, by_label) in &groups {
        let medians: BTreeMap<&str, (f64, bool)> = by_label
            .iter()
            .map(|(label, runs)| {
                let (_, _, higher) = runs[0].headline();
                let mut values: Vec<f64> = runs.iter().map(|o| o.headline().1).collect();
                (label.as_str(), (median(&mut values), higher))
            })
            .collect();
        for (label, runs) in by_label {
            let (unit, _, _) = runs[0].headline();
            let (value, higher) = medians[label.as_str()];
            let mut lost: Vec<f64> = runs.iter().map(|o| o.lost as f64).collect();
            let mut line =
                format!("{key:<22} {label:<12} {:>4} {value:>14.1} {unit:>11} {:>9.0}", runs.len(), median(&mut lost));
            if label == ours {
                for (other, (theirs, _)) in medians.iter().filter(|(l, _)| **l != ours) {
                    // "Better" reads the same way for every figure: > 1 means ours is ahead.
                    let ratio = if higher { value / theirs } else { theirs / value };
                    let _ = write!(line, "  {other}: {ratio:.2}x");
                }
            }
            let _ = writeln!(t, "{}", line.trim_end());
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(scenario: &str, label: &str, rate: f64, p99: Option<f64>) -> Outcome {
        Outcome {
            scenario: scenario.into(),
            label: label.into(),
            rate,
            p99_us: p99,
            publishers: 4,
            subscribers: 1,
            ..Outcome::default()
        }
    }

    #[test]
    fn medians_and_ratios_read_as_ahead_when_above_one() {
        let runs = [
            run("fanin", "ours", 300.0, None),
            run("fanin", "ours", 100.0, None),
            run("fanin", "ours", 200.0, None),
            run("fanin", "mosquitto", 100.0, None),
            run("latency", "ours", 0.0, Some(1000.0)),
            run("latency", "mosquitto", 0.0, Some(3000.0)),
        ];
        let t = summarize(&runs, "ours");
        let fanin = t.lines().find(|l| l.starts_with("fanin") && l.contains(" ours ")).unwrap();
        assert!(fanin.contains("200.0") && fanin.contains("mosquitto: 2.00x"), "{t}");
        let latency = t.lines().find(|l| l.starts_with("latency") && l.contains(" ours ")).unwrap();
        assert!(latency.contains("mosquitto: 3.00x"), "{t}");
    }
}
