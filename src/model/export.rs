//! The message list as CSV or JSON, for lab reports and spreadsheets: one row or object per
//! message with local time, Unix milliseconds, topic, QoS, retain and the payload (UTF-8 text as
//! is, anything else as hex, said in an `encoding` column), then its MQTT 5 properties: in CSV a
//! last `properties` column (their JSON, empty for none), in JSON a `properties` object when
//! there are any. New columns go at the end, so what read the older files still reads these.
//! JSON lines (`replay::lines`): one object per line, binary payloads as base64, the format a
//! replay reads back.

use std::fmt::Write as _;
use std::io::Write;

use crate::connection::ReceivedMessage;

/// Which format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
    /// One message per line (`replay::lines`).
    JsonLines,
}

impl ExportFormat {
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::JsonLines => "jsonl",
        }
    }
}

fn payload(m: &ReceivedMessage) -> (String, &'static str) {
    if let Ok(text) = std::str::from_utf8(&m.payload) {
        return (text.to_owned(), "text");
    }
    let mut hex = String::with_capacity(m.payload.len() * 2);
    for b in &m.payload {
        let _ = write!(hex, "{b:02x}");
    }
    (hex, "hex")
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// Writes messages one by one; `finish` closes the document.
pub struct Writer<W: Write> {
    out: W,
    format: ExportFormat,
    rows: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(mut out: W, format: ExportFormat) -> std::io::Result<Self> {
        match format {
            ExportFormat::Csv => writeln!(out, "time,unix_ms,topic,qos,retain,encoding,payload,properties")?,
            ExportFormat::Json => write!(out, "[")?,
            ExportFormat::JsonLines => {}
        }
        Ok(Self { out, format, rows: 0 })
    }

    pub fn write(&mut self, m: &ReceivedMessage) -> std::io::Result<()> {
        if self.format == ExportFormat::JsonLines {
            self.rows += 1;
            return writeln!(self.out, "{}", crate::replay::to_line(m));
        }
        let at = chrono::DateTime::<chrono::Local>::from(m.at);
        let time = at.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string();
        let ms = crate::history::millis(m.at);
        let (payload, encoding) = payload(m);
        match self.format {
            ExportFormat::Csv => {
                let properties =
                    if m.properties.is_empty() { String::new() } else { serde_json::to_string(&m.properties)? };
                writeln!(
                    self.out,
                    "{time},{ms},{},{},{},{encoding},{},{}",
                    csv_field(&m.topic),
                    m.qos.level(),
                    u8::from(m.retain),
                    csv_field(&payload),
                    csv_field(&properties)
                )?;
            }
            ExportFormat::Json | ExportFormat::JsonLines => {
                let mut object = serde_json::json!({
                    "time": time, "unix_ms": ms, "topic": m.topic, "qos": m.qos.level(),
                    "retain": m.retain, "encoding": encoding, "payload": payload,
                });
                if !m.properties.is_empty() {
                    object["properties"] = serde_json::to_value(&m.properties)?;
                }
                write!(self.out, "{}\n  {object}", if self.rows == 0 { "" } else { "," })?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Closes the document; the number of messages written.
    pub fn finish(mut self) -> std::io::Result<u64> {
        if self.format == ExportFormat::Json {
            writeln!(self.out, "\n]")?;
        }
        self.out.flush()?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use bytes::Bytes;

    use super::*;
    use crate::connection::Qos;

    fn message(topic: &str, payload: &[u8]) -> ReceivedMessage {
        ReceivedMessage {
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload),
            qos: Qos::AtLeastOnce,
            retain: true,
            dup: false,
            at: UNIX_EPOCH + Duration::from_millis(1_764_000_000_123),
            properties: crate::mqtt::PublishProperties::default(),
        }
    }

    fn export(format: ExportFormat) -> String {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out, format).unwrap();
        let mut v5 = message("lamp/cmd", br#"{"control":"PWM","value":50,"unit":"%"}"#);
        v5.properties.content_type = Some("application/json".into());
        v5.properties.user_properties.push(crate::mqtt::UserProperty::new("room", "B204"));
        w.write(&v5).unwrap();
        w.write(&message("raw", &[0xff, 0x00])).unwrap();
        assert_eq!(w.finish().unwrap(), 2);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quotes_json_payloads_and_binary_ones_are_hex() {
        let csv = export(ExportFormat::Csv);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "time,unix_ms,topic,qos,retain,encoding,payload,properties");
        assert!(
            lines[1]
                .ends_with(r#",1764000000123,lamp/cmd,1,1,text,"{""control"":""PWM"",""value"":50,""unit"":""%""}","{""content_type"":""application/json"",""user_properties"":[{""name"":""room"",""value"":""B204""}]}""#),
            "{}",
            lines[1]
        );
        assert!(lines[2].ends_with(",raw,1,1,hex,ff00,"), "no properties: an empty last column: {}", lines[2]);
    }

    #[test]
    fn json_is_an_array_that_parses_back() {
        let json: serde_json::Value = serde_json::from_str(&export(ExportFormat::Json)).unwrap();
        let items = json.as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["payload"], r#"{"control":"PWM","value":50,"unit":"%"}"#);
        assert_eq!(items[0]["unix_ms"], 1_764_000_000_123_i64);
        assert_eq!(items[1]["encoding"], "hex");
        assert_eq!(
            items[0]["properties"],
            serde_json::json!({"content_type": "application/json", "user_properties": [{"name": "room", "value": "B204"}]})
        );
        assert!(items[1].get("properties").is_none(), "no properties, no key: {}", items[1]);
        let empty = {
            let mut out = Vec::new();
            Writer::new(&mut out, ExportFormat::Json).unwrap().finish().unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(serde_json::from_str::<serde_json::Value>(&empty).unwrap(), serde_json::json!([]));
    }

    /// Splits CSV text into records of fields as RFC 4180 reads them (quotes may hold newlines).
    fn csv_records(text: &str) -> Vec<Vec<String>> {
        let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
        let (mut quoted, mut chars) = (false, text.chars().peekable());
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (_, '"') => quoted = !quoted,
                (false, ',') => record.push(std::mem::take(&mut field)),
                (false, '\n') => {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                _ => field.push(c),
            }
        }
        records
    }

    #[test]
    fn csv_keeps_one_record_per_message_with_newlines_and_commas_in_payloads() {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out, ExportFormat::Csv).unwrap();
        let tricky = "line one, with a comma\nline \"two\"\r\nthree";
        w.write(&message("notes/a,b", tricky.as_bytes())).unwrap();
        w.write(&message("plain", b"1")).unwrap();
        w.finish().unwrap();
        let records = csv_records(&String::from_utf8(out).unwrap());
        assert_eq!(records.len(), 3, "a header and one record per message: {records:?}");
        assert!(records.iter().all(|r| r.len() == 8), "{records:?}");
        assert_eq!((records[1][2].as_str(), records[1][6].as_str()), ("notes/a,b", tricky));
        assert_eq!(records[2][6], "1");
    }

    #[test]
    fn json_lines_are_one_message_each_and_read_back() {
        let text = export(ExportFormat::JsonLines);
        assert_eq!(text.lines().count(), 2, "{text}");
        let back = crate::replay::parse_lines(&text).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].properties.content_type.as_deref(), Some("application/json"));
        assert_eq!(back[1].payload.as_ref(), [0xff, 0x00]);
        assert_eq!(ExportFormat::JsonLines.extension(), "jsonl");
    }
}
