//! One result per run: a JSON line for scripts and a table for people.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// What result lines without a transport were measured over.
fn tcp() -> String {
    "tcp".into()
}

/// What result lines without a version were measured with.
fn v311() -> String {
    "3.1.1".into()
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The result of one scenario run. Rates count deliveries: for fan-out, one message to 50
/// subscribers is 50.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Outcome {
    pub scenario: String,
    pub label: String,
    pub qos: u8,
    pub publishers: u32,
    pub subscribers: u32,
    pub payload: usize,
    /// "tcp", "tls", "tls-psk", or over WebSocket "ws", "wss", "ws-psk" (lines written before
    /// TLS existed are TCP).
    #[serde(default = "tcp")]
    pub transport: String,
    /// "3.1.1" or "5" (lines written before MQTT 5 existed are 3.1.1).
    #[serde(default = "v311")]
    pub mqtt_version: String,
    /// Messages published.
    pub sent: u64,
    /// Deliveries expected (published x subscribers).
    pub expected: u64,
    /// Unique deliveries.
    pub received: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// MQTT 5: publishes the broker answered with a failure reason code (0x80 or above in
    /// PUBACK, PUBREC or PUBCOMP): sent, not acknowledged.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refused: u64,
    pub seconds: f64,
    /// Deliveries per second (pub: acknowledged publishes per second; conn: connections per second).
    pub rate: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_us: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_us: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_us: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_us: Option<f64>,
    /// Latency: deliveries that took over 1 ms. A p99 flips between the floor and a time slice
    /// when this count crosses 1 % of the messages; the count itself moves less.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_1ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_before_kb: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_after_kb: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_connection: Option<f64>,
    /// Throughput: the broker's processor time per delivery (with `--pid`), in microseconds,
    /// from the first publish to the last subscriber's end (its idle wait included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_cpu_us: Option<f64>,
    /// Throughput: the load generator's own processor time per delivery, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_cpu_us: Option<f64>,
    /// Retained: how many arrived with RETAIN=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained: Option<u64>,
    /// Subscribers that never read after subscribing (`--stuck`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck: Option<u32>,
    /// Soak: connections held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u64>,
    /// Soak: seconds to open them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp_seconds: Option<f64>,
    /// Soak: connections the broker closed or that failed, not counting the end of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnects: Option<u64>,
    /// Soak: the run over time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
}

/// One moment of a soak run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Sample {
    pub seconds: f64,
    /// The broker's resident memory, with `--pid`.
    pub rss_kb: Option<u64>,
    /// Connections alive (opened and not lost).
    pub connected: u64,
    pub disconnects: u64,
    pub published: u64,
    pub delivered: u64,
}

impl Outcome {
    /// The figure a scenario is judged by, and whether more is better.
    pub fn headline(&self) -> (&'static str, f64, bool) {
        match self.scenario.as_str() {
            "conn" => ("bytes/conn", self.bytes_per_connection.unwrap_or(f64::NAN), false),
            "latency" => ("p99 us", self.p99_us.unwrap_or(f64::NAN), false),
            "retained" => ("ms", self.seconds * 1000.0, false),
            "soak" => ("disconnects", self.disconnects.unwrap_or(0) as f64, false),
            _ => ("msg/s", self.rate, true),
        }
    }

    /// A readable table of every figure present.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let mut over = if matches!(self.transport.as_str(), "tcp" | "") {
            String::new()
        } else {
            format!(" over {}", self.transport)
        };
        if self.mqtt_version == "5" {
            over.push_str(" in MQTT 5");
        }
        let _ = writeln!(
            t,
            "{} against {}{over} (QoS {}, {} B payload)",
            self.scenario, self.label, self.qos, self.payload
        );
        let mut row = |k: &str, v: String| {
            let _ = writeln!(t, "  {k:<22} {v}");
        };
        if self.scenario == "conn" {
            row("connections", self.sent.to_string());
        } else {
            row("publishers/subscribers", format!("{}/{}", self.publishers, self.subscribers));
            row("sent", self.sent.to_string());
            row("received/expected", format!("{}/{}", self.received, self.expected));
            row("lost", self.lost.to_string());
            row("duplicated", self.duplicated.to_string());
            if self.refused > 0 {
                row("refused (reason >= 0x80)", self.refused.to_string());
            }
        }
        row("seconds", format!("{:.3}", self.seconds));
        row("rate", format!("{:.0} /s", self.rate));
        for (k, v) in [("p50", self.p50_us), ("p90", self.p90_us), ("p99", self.p99_us), ("max", self.max_us)] {
            if let Some(v) = v {
                row(k, format!("{:.3} ms", v / 1000.0));
            }
        }
        if let Some(n) = self.over_1ms {
            row("over 1 ms", format!("{n} of {}", self.received));
        }
        if let (Some(a), Some(b)) = (self.rss_before_kb, self.rss_after_kb) {
            row("broker RSS", format!("{a} KiB -> {b} KiB"));
        }
        if let Some(b) = self.bytes_per_connection {
            row("per connection", format!("{b:.0} B"));
        }
        if let Some(us) = self.broker_cpu_us {
            row("broker CPU", format!("{us:.3} us per delivery"));
        }
        if let Some(us) = self.load_cpu_us {
            row("load generator CPU", format!("{us:.3} us per delivery"));
        }
        if let Some(s) = self.stuck {
            row("stuck subscribers", format!("{s} (never read)"));
        }
        if let Some(r) = self.retained {
            row("with RETAIN=1", r.to_string());
        }
        if let (Some(c), Some(d)) = (self.connections, self.disconnects) {
            row("connections", format!("{c} (opened in {:.1} s), {d} lost", self.ramp_seconds.unwrap_or(0.0)));
        }
        let rss: Vec<u64> = self.samples.iter().filter_map(|s| s.rss_kb).collect();
        if let (Some(lo), Some(hi)) = (rss.iter().min(), rss.iter().max()) {
            row("broker RSS over time", format!("{lo} to {hi} KiB in {} samples", rss.len()));
        }
        t
    }
}

/// Percentile of sorted values (nearest rank).
pub fn percentile(sorted: &[u64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1] as f64)
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => f64::midpoint(values[n / 2 - 1], values[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_medians() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert!((median(&mut [3.0, 1.0, 2.0]) - 2.0).abs() < f64::EPSILON);
        assert!((median(&mut [4.0, 1.0, 2.0, 3.0]) - 2.5).abs() < f64::EPSILON);
    }

    #[test]
    fn json_line_round_trips_and_skips_absent_figures() {
        let o = Outcome { scenario: "fanin".into(), label: "ours".into(), rate: 1.5, ..Outcome::default() };
        let line = serde_json::to_string(&o).unwrap();
        assert!(!line.contains("p99_us"), "{line}");
        assert_eq!(serde_json::from_str::<Outcome>(&line).unwrap(), o);
        assert!(o.table().contains("rate                   2 /s"), "{}", o.table());
    }
}
