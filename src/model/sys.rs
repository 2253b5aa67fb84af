//! The broker's own figures from `$SYS/#` (Mosquitto and our broker publish the same topics,
//! retained, every `sys_interval` seconds), as the status panel lists them.

use std::collections::BTreeMap;

/// The figures shown, in order: label, topic under `$SYS/broker/`.
pub const FIGURES: [(&str, &str); 11] = [
    ("Version", "version"),
    ("Uptime", "uptime"),
    ("Clients connected", "clients/connected"),
    ("Clients known", "clients/total"),
    ("Subscriptions", "subscriptions/count"),
    ("Retained messages", "retained messages/count"),
    ("Messages received", "messages/received"),
    ("Messages sent", "messages/sent"),
    ("Messages in per minute (1 min average)", "load/messages/received/1min"),
    ("Messages out per minute (1 min average)", "load/messages/sent/1min"),
    ("Bytes in per minute (1 min average)", "load/bytes/received/1min"),
];

/// The filter the status panel subscribes to.
pub const WATCH_FILTER: &str = "$SYS/#";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SysStatus {
    /// Every `$SYS` topic seen, with its last payload.
    pub values: BTreeMap<String, String>,
}

impl SysStatus {
    /// Keeps a message if it is a `$SYS` one; true when kept.
    pub fn offer(&mut self, topic: &str, payload: &[u8]) -> bool {
        if !topic.starts_with("$SYS/") {
            return false;
        }
        self.values.insert(topic.to_owned(), String::from_utf8_lossy(payload).into_owned());
        true
    }

    /// The figures known so far: label and value.
    pub fn figures(&self) -> Vec<(&'static str, &str)> {
        FIGURES
            .iter()
            .filter_map(|(label, topic)| self.values.get(&format!("$SYS/broker/{topic}")).map(|v| (*label, v.as_str())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_topics_are_kept_and_listed_by_label() {
        let mut sys = SysStatus::default();
        assert!(!sys.offer("PV/data", b"3"));
        assert!(sys.offer("$SYS/broker/version", b"mosquitto version 2.0.11"));
        assert!(sys.offer("$SYS/broker/clients/connected", b"2"));
        assert!(sys.offer("$SYS/broker/clients/connected", b"3"));
        assert_eq!(sys.figures(), [("Version", "mosquitto version 2.0.11"), ("Clients connected", "3")]);
    }
}
