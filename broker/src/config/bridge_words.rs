//! The words of two bridge options: `address host[:port]` and `topic PATTERN [in|out|both]
//! [QOS] [LOCAL_PREFIX REMOTE_PREFIX]`, checked as Mosquitto 2.0.11 checks them.

use super::bridge::{BridgeTopic, Direction};
use crate::codec::QoS;

/// `host[:port]`, port 1883 when none is given; `[v6]:port` for IPv6.
pub(super) fn address(word: &str) -> Result<(String, u16), String> {
    let (host, port) = match word.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.ends_with(']') => (host, Some(port)),
        _ => (word, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = match port {
        None => 1883,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("invalid port value ({p}) in address {word:?}")),
        },
    };
    Ok((host.to_owned(), port))
}

/// `topic PATTERN [in|out|both [QOS [LOCAL_PREFIX REMOTE_PREFIX]]]`; `""` is an empty word.
pub(super) fn topic(value: &str) -> Result<BridgeTopic, String> {
    let words: Vec<&str> = value.split_whitespace().collect();
    let unquote = |w: &str| if w == "\"\"" { String::new() } else { w.to_owned() };
    let pattern = unquote(words.first().ok_or("topic needs a pattern")?);
    let direction = match words.get(1).copied() {
        None | Some("out") => Direction::Out,
        Some("in") => Direction::In,
        Some("both") => Direction::Both,
        Some(other) => return Err(format!("invalid bridge topic direction {other:?}: use in, out or both")),
    };
    // A number, as Mosquitto reads it (`01` is 1).
    let qos = match words.get(2).map(|w| w.parse::<u8>()) {
        None | Some(Ok(0)) => QoS::AtMostOnce,
        Some(Ok(1)) => QoS::AtLeastOnce,
        Some(Ok(2)) => QoS::ExactlyOnce,
        Some(_) => return Err(format!("invalid bridge QoS level {:?}: use 0, 1 or 2", words[2])),
    };
    let local_prefix = words.get(3).map(|w| unquote(w)).unwrap_or_default();
    let remote_prefix = words.get(4).map(|w| unquote(w)).unwrap_or_default();
    for (which, prefix) in [("local", &local_prefix), ("remote", &remote_prefix)] {
        if prefix.contains(['+', '#', '\0']) {
            return Err(format!("invalid bridge topic {which} prefix {prefix:?}: a prefix cannot hold wildcards"));
        }
    }
    if pattern.is_empty() && (local_prefix.is_empty() || remote_prefix.is_empty()) {
        return Err(
            "invalid bridge remapping: topic \"\" needs a local and a remote prefix (the topics it maps)".into()
        );
    }
    let t = BridgeTopic { pattern, direction, qos, local_prefix, remote_prefix };
    for filter in [t.local_filter(), t.remote_filter()] {
        crate::codec::TopicFilter::new(filter.as_str()).map_err(|e| format!("invalid bridge topic {filter:?}: {e}"))?;
    }
    Ok(t)
}
