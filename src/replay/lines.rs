//! JSON lines: one received message per line, the format a replay reads and the message list
//! exports. Each line is an object: `time` (RFC 3339, local offset, ms), `unix_ms`, `topic`,
//! `qos`, `retain`, `encoding` (`text` when the payload is valid UTF-8, else `base64`),
//! `payload`, and `properties` (MQTT 5, as the other exports write them) when there are any.
//!
//! One line per message, whatever the payload holds: JSON escapes newlines inside strings, so a
//! file can be read, cut, grepped or appended line by line, unlike a JSON array.

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;

use crate::connection::{Qos, ReceivedMessage};
use crate::mqtt::PublishProperties;

/// Files larger than this many messages are refused rather than read into memory.
pub const MAX_MESSAGES: usize = 1_000_000;

/// One message as one line of JSON (no newline at the end).
pub fn to_line(m: &ReceivedMessage) -> String {
    let at = chrono::DateTime::<chrono::Local>::from(m.at);
    let (encoding, payload) = match std::str::from_utf8(&m.payload) {
        Ok(text) => ("text", text.to_owned()),
        Err(_) => ("base64", base64::engine::general_purpose::STANDARD.encode(&m.payload)),
    };
    let mut object = serde_json::json!({
        "time": at.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
        "unix_ms": crate::history::millis(m.at),
        "topic": m.topic,
        "qos": m.qos.level(),
        "retain": m.retain,
        "encoding": encoding,
        "payload": payload,
    });
    if !m.properties.is_empty()
        && let Ok(properties) = serde_json::to_value(&m.properties)
    {
        object["properties"] = properties;
    }
    object.to_string()
}

/// A line as read: every field but the topic may be missing (a hand-written file).
#[derive(Deserialize)]
struct Line {
    topic: String,
    #[serde(default)]
    payload: String,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    qos: u8,
    #[serde(default)]
    retain: bool,
    #[serde(default)]
    unix_ms: Option<i64>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    properties: PublishProperties,
}

/// Reads one line back into a message; the error says which field is wrong.
pub fn parse_line(line: &str) -> Result<ReceivedMessage, String> {
    let l: Line = serde_json::from_str(line).map_err(|e| format!("not a message object: {e}"))?;
    let payload = match l.encoding.as_deref() {
        None | Some("text") => Bytes::from(l.payload),
        Some("base64") => Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(l.payload.as_bytes())
                .map_err(|e| format!("the payload is not base64: {e}"))?,
        ),
        // The other exports write hex for binary payloads: read those too.
        Some("hex") => Bytes::from(crate::mqtt::parse_hex(&l.payload)?),
        Some(other) => return Err(format!("unknown encoding {other:?} (text, base64 or hex)")),
    };
    let qos = Qos::from_level(l.qos).ok_or_else(|| format!("qos {} is not 0, 1 or 2", l.qos))?;
    let ms = match (l.unix_ms, l.time) {
        (Some(ms), _) => ms,
        (None, Some(time)) => chrono::DateTime::parse_from_rfc3339(&time)
            .map_err(|e| format!("time {time:?} is not RFC 3339: {e}"))?
            .timestamp_millis(),
        (None, None) => return Err("neither unix_ms nor time: a replay needs each message's time".into()),
    };
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).map_err(|_| format!("unix_ms {ms} is before 1970"))?);
    Ok(ReceivedMessage { topic: l.topic, payload, qos, retain: l.retain, dup: false, at, properties: l.properties })
}

/// Reads a whole JSON-lines text; blank lines are skipped; an error names its line (from 1).
pub fn parse_lines(text: &str) -> Result<Vec<ReceivedMessage>, String> {
    let mut messages = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if messages.len() == MAX_MESSAGES {
            return Err(format!("more than {MAX_MESSAGES} messages: cut the file into parts"));
        }
        messages.push(parse_line(line).map_err(|e| format!("line {}: {e}", i + 1))?);
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::UserProperty;

    fn message(topic: &str, payload: &[u8], ms: u64) -> ReceivedMessage {
        ReceivedMessage {
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload),
            qos: Qos::AtLeastOnce,
            retain: true,
            dup: false,
            at: UNIX_EPOCH + Duration::from_millis(ms),
            properties: PublishProperties::default(),
        }
    }

    #[test]
    fn text_binary_and_properties_survive_a_round_trip_one_line_each() {
        let mut v5 = message("lamp/cmd", b"line one\nline two, \"quoted\"", 1_764_000_000_123);
        v5.properties.content_type = Some("text/plain".into());
        v5.properties.correlation_data = Some(Bytes::from_static(&[0, 1, 2]));
        v5.properties.user_properties.push(UserProperty::new("room", "B204"));
        let binary = message("raw", &[0xff, 0x00, 0x80], 1_764_000_000_300);
        let text = format!("{}\n\n{}\n", to_line(&v5), to_line(&binary));
        assert_eq!(text.lines().filter(|l| !l.is_empty()).count(), 2, "a newline in a payload stays escaped: {text}");
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["encoding"], "text");
        assert_eq!(first["unix_ms"], 1_764_000_000_123_i64);
        assert_eq!(first["properties"]["user_properties"][0]["value"], "B204");
        assert!(chrono::DateTime::parse_from_rfc3339(first["time"].as_str().unwrap()).is_ok());
        let second: serde_json::Value = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
        assert_eq!(second["encoding"], "base64");
        assert_eq!(second["payload"], "/wCA");
        assert!(second.get("properties").is_none());
        assert_eq!(parse_lines(&text).unwrap(), vec![v5, binary]);
    }

    #[test]
    fn a_hand_written_line_needs_a_topic_and_a_time_and_errors_name_the_line() {
        let m = parse_line(r#"{"topic":"a","payload":"1","time":"2025-11-24T16:00:00.5Z"}"#).unwrap();
        assert_eq!(crate::history::millis(m.at), 1_764_000_000_500);
        assert_eq!((m.qos, m.retain), (Qos::AtMostOnce, false));
        let hex = parse_line(r#"{"topic":"a","payload":"ff00","encoding":"hex","unix_ms":5}"#).unwrap();
        assert_eq!(hex.payload.as_ref(), [0xff, 0x00]);
        let e = parse_lines("{\"topic\":\"a\",\"unix_ms\":1}\n{\"topic\":\"b\"}").unwrap_err();
        assert!(e.starts_with("line 2: neither unix_ms nor time"), "{e}");
        assert!(parse_line(r#"{"topic":"a","unix_ms":1,"qos":3}"#).unwrap_err().contains("qos 3"));
        assert!(
            parse_line(r#"{"topic":"a","unix_ms":1,"encoding":"base64","payload":"!"}"#)
                .unwrap_err()
                .contains("not base64")
        );
        assert!(parse_line("[1]").unwrap_err().contains("not a message object"));
    }
}
