//! The `$SYS/broker/...` tree with Mosquitto 2.0's topic names and payload formats,
//! published retained every `sys_interval` seconds (a value only when it changed, as Mosquitto
//! does; `uptime` every time).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::session::Message;
use super::{Shared, Stats};
use crate::codec::{QoS, TopicName};

pub(crate) async fn publish_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>, _done: mpsc::Sender<()>) {
    publish(&shared, "$SYS/broker/version", format!("mqtt-lab-broker version {}", shared.version));
    if shared.config.sys_interval == 0 {
        let _ = stop.changed().await;
        return;
    }
    let mut ticker = tokio::time::interval(Duration::from_secs(shared.config.sys_interval));
    let mut tree = SysTree::default();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = ticker.tick() => tree.update(&shared),
        }
    }
}

fn publish(shared: &Shared, topic: &str, payload: String) {
    let Ok(topic) = TopicName::new(topic) else { return };
    let message = Message::new(topic, Bytes::from(payload), QoS::AtMostOnce, true);
    let routed = shared.router().publish(&message);
    Stats::add(&shared.stats.publish_dropped, routed.dropped);
}

/// Exponentially smoothed per-minute rates over 1, 5 and 15 minutes, as Mosquitto's `load/...`.
#[derive(Default)]
struct Load {
    previous_count: u64,
    averages: [f64; 3],
}

const LOAD_PERIODS: [(&str, f64); 3] = [("1min", 60.0), ("5min", 300.0), ("15min", 900.0)];

#[derive(Default)]
struct SysTree {
    last_update: Option<Instant>,
    /// The payload last published on each topic.
    published: HashMap<String, String>,
    loads: HashMap<&'static str, Load>,
}

impl SysTree {
    fn set(&mut self, shared: &Shared, topic: &str, value: String) {
        if self.published.get(topic) != Some(&value) {
            self.published.insert(topic.to_owned(), value.clone());
            publish(shared, topic, value);
        }
    }

    fn update(&mut self, shared: &Shared) {
        let now = Instant::now();
        publish(shared, "$SYS/broker/uptime", format!("{} seconds", now.duration_since(shared.started).as_secs()));
        let figures = shared.router().figures();
        let s = &shared.stats;
        let counters = [
            ("bytes/received", Stats::get(&s.bytes_received)),
            ("bytes/sent", Stats::get(&s.bytes_sent)),
            ("messages/received", Stats::get(&s.messages_received)),
            ("messages/sent", Stats::get(&s.messages_sent)),
            ("publish/messages/received", Stats::get(&s.publish_received)),
            ("publish/messages/sent", Stats::get(&s.publish_sent)),
            ("publish/messages/dropped", Stats::get(&s.publish_dropped)),
            ("publish/bytes/received", Stats::get(&s.publish_bytes_received)),
            ("publish/bytes/sent", Stats::get(&s.publish_bytes_sent)),
        ];
        for (name, value) in counters {
            self.set(shared, &format!("$SYS/broker/{name}"), value.to_string());
        }
        let disconnected = figures.clients_total - figures.clients_connected;
        let gauges = [
            ("clients/total", figures.clients_total),
            ("clients/connected", figures.clients_connected),
            ("clients/active", figures.clients_connected),
            ("clients/disconnected", disconnected),
            ("clients/inactive", disconnected),
            ("clients/maximum", figures.clients_maximum),
            ("clients/expired", 0),
            ("messages/stored", figures.stored_messages),
            ("store/messages/count", figures.stored_messages),
            ("store/messages/bytes", figures.stored_bytes),
            ("subscriptions/count", figures.subscriptions),
            ("shared_subscriptions/count", 0),
            ("retained messages/count", figures.retained),
        ];
        for (name, value) in gauges {
            self.set(shared, &format!("$SYS/broker/{name}"), value.to_string());
        }
        let elapsed = self.last_update.map_or(0.0, |t| now.duration_since(t).as_secs_f64());
        self.last_update = Some(now);
        let load_sources = [
            ("messages/received", Stats::get(&s.messages_received)),
            ("messages/sent", Stats::get(&s.messages_sent)),
            ("publish/received", Stats::get(&s.publish_received)),
            ("publish/sent", Stats::get(&s.publish_sent)),
            ("publish/dropped", Stats::get(&s.publish_dropped)),
            ("bytes/received", Stats::get(&s.bytes_received)),
            ("bytes/sent", Stats::get(&s.bytes_sent)),
            ("sockets", Stats::get(&s.sockets)),
            ("connections", Stats::get(&s.connections)),
        ];
        for (name, count) in load_sources {
            let load = self.loads.entry(name).or_default();
            let values = load.advance(count, elapsed);
            for ((period, _), value) in LOAD_PERIODS.iter().zip(values) {
                self.set(shared, &format!("$SYS/broker/load/{name}/{period}"), format!("{value:.2}"));
            }
        }
    }
}

impl Load {
    /// Folds the count since the last update into the averages.
    fn advance(&mut self, count: u64, elapsed: f64) -> [f64; 3] {
        let delta = count.saturating_sub(self.previous_count);
        self.previous_count = count;
        if elapsed > 0.0 {
            #[allow(clippy::cast_precision_loss)]
            let per_minute = delta as f64 * 60.0 / elapsed;
            for (avg, (_, period)) in self.averages.iter_mut().zip(LOAD_PERIODS) {
                let decay = (-elapsed / period).exp();
                *avg = per_minute + decay * (*avg - per_minute);
            }
        }
        self.averages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_rate_converges_to_its_per_minute_value() {
        let mut load = Load::default();
        load.advance(0, 0.0);
        let mut last = [0.0; 3];
        for i in 1..=600 {
            last = load.advance(i * 10, 10.0); // 10 messages every 10 s = 60 per minute
        }
        assert!((last[0] - 60.0).abs() < 0.01, "{last:?}");
        assert!((last[2] - 60.0).abs() < 0.5, "{last:?}");
    }
}
