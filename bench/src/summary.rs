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
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    for (key, by_label) in &groups {
        for (label, runs) in by_label {
            if let Some(line) = processor_time(key, label, runs, cores) {
                let _ = writeln!(t, "{line}");
            }
        }
    }
    t
}

/// The medians of the processor time per delivery of the broker and the load generator, when
/// measured (with `--pid`), and for a run on one core (pinned, the load generator on another):
/// the most `cores` shared by both could give, as a multiple of that run's rate, were the
/// broker to spread its work over them perfectly. The pinned run used `(broker + load) x rate`
/// of a core in all; the shared cores hold `cores / that` times as much. (Not `cores / (1 +
/// load / broker)`: that assumes the broker kept its core busy, and a pinned fan-in QoS 1 is
/// bound by its in-flight windows at 0.83 of a core.)
fn processor_time(key: &str, label: &str, runs: &[&Outcome], cores: usize) -> Option<String> {
    let mut broker: Vec<f64> = runs.iter().filter_map(|o| o.broker_cpu_us).collect();
    let mut load: Vec<f64> = runs.iter().filter_map(|o| o.load_cpu_us).collect();
    if broker.is_empty() || load.is_empty() {
        return None;
    }
    let (b, l) = (median(&mut broker), median(&mut load));
    let mut rates: Vec<f64> = runs.iter().map(|o| o.rate).collect();
    let rate = median(&mut rates);
    let mut line = format!("{key:<22} {label:<12} cpu per delivery: broker {b:.3} us, load generator {l:.3} us");
    let pinned = !label.contains('@') || label.ends_with("@1core");
    let (broker_cores, load_cores) = (b * rate / 1e6, l * rate / 1e6);
    if pinned && broker_cores + load_cores > 0.0 && cores > 1 {
        let _ = write!(
            line,
            " (cores busy: broker {broker_cores:.2}, load generator {load_cores:.2}); {cores} shared cores allow at most {:.2}x",
            cores as f64 / (broker_cores + load_cores)
        );
    }
    Some(line)
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
        assert!(!t.contains("cpu per delivery"), "no figures, no line: {t}");
    }

    #[test]
    fn processor_time_gives_the_ceiling_of_shared_cores() {
        let timed = |label: &str, rate: f64, b: f64, l: f64| Outcome {
            broker_cpu_us: Some(b),
            load_cpu_us: Some(l),
            ..run("fanout", label, rate, None)
        };
        // Medians: 5 M deliveries/s at 0.16 + 0.04 us: one core busy in all, so two hold 2x.
        let one = [
            timed("ours@1core", 5e6, 0.16, 0.04),
            timed("ours@1core", 4e6, 0.3, 0.1),
            timed("ours@1core", 6e6, 0.1, 0.02),
        ];
        let refs: Vec<&Outcome> = one.iter().collect();
        let line = processor_time("fanout", "ours@1core", &refs, 2).unwrap();
        assert!(line.contains("broker 0.160 us, load generator 0.040 us"), "{line}");
        assert!(
            line.contains("(cores busy: broker 0.80, load generator 0.20); 2 shared cores allow at most 2.00x"),
            "{line}"
        );
        // A broker that did not keep its core busy (bound by its windows, not its CPU) and a
        // costly load generator: the ceiling is what the run used, not 2 / (1 + 3) = 0.5x.
        let window_bound = [timed("ours@1core", 2.5e6, 0.1, 0.3)];
        let refs: Vec<&Outcome> = window_bound.iter().collect();
        let line = processor_time("fanout", "ours@1core", &refs, 2).unwrap();
        assert!(line.contains("allow at most 2.00x"), "{line}");
        let two = [timed("ours@2cores", 5e6, 0.2, 0.05)];
        let refs: Vec<&Outcome> = two.iter().collect();
        let line = processor_time("fanout", "ours@2cores", &refs, 2).unwrap();
        assert!(!line.contains("allow"), "only a pinned run has a ceiling: {line}");
    }
}
