//! Turning a payload into a number to plot: a plain number ("3.7"), a switch ("yes"/"no",
//! "on"/"off", "true"/"false", 1/0) as a step series, or a field of a JSON payload named by a JSON
//! pointer (`/value`) or a simple JSON path (`$.data.kw`, `$.readings[0]`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Extractor {
    /// The payload is a number (surrounding spaces allowed), or a JSON number.
    #[default]
    Number,
    /// yes/on/true/1 -> 1, no/off/false/0 -> 0, any case.
    Switch,
    /// A JSON pointer (`/value`) or path (`$.data.kw`) to a number, a numeric string or a switch word.
    Json { path: String },
}

/// `$.data.kw` or `$.readings[0]` as the JSON pointer `/data/kw` or `/readings/0`; a pointer is kept.
pub fn to_pointer(path: &str) -> Result<String, String> {
    if path.is_empty() || path.starts_with('/') {
        return Ok(path.to_owned());
    }
    let rest =
        path.strip_prefix('$').ok_or_else(|| format!("{path:?}: start a JSON path with $ or a pointer with /"))?;
    let mut pointer = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => pointer.push('/'),
            '[' => {
                let index: String = chars.by_ref().take_while(|c| *c != ']').collect();
                let index = index.trim_matches(|c| c == '\'' || c == '"');
                if index.is_empty() {
                    return Err(format!("{path:?}: an empty [] index"));
                }
                pointer.push('/');
                pointer.push_str(index);
            }
            // A pointer escapes ~ and / inside names.
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
    Ok(pointer)
}

fn switch(word: &str) -> Option<f64> {
    match word.trim().to_ascii_lowercase().as_str() {
        "yes" | "on" | "true" | "1" => Some(1.0),
        "no" | "off" | "false" | "0" => Some(0.0),
        _ => None,
    }
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

impl Extractor {
    /// The payload's value, or `None` when it holds none (such messages are skipped, not zero).
    pub fn extract(&self, payload: &[u8]) -> Option<f64> {
        let text = std::str::from_utf8(payload).ok()?;
        match self {
            Self::Number => number(text),
            Self::Switch => switch(text),
            Self::Json { path } => {
                let json: serde_json::Value = serde_json::from_str(text).ok()?;
                let value = json.pointer(&to_pointer(path).ok()?)?;
                match value {
                    serde_json::Value::Number(n) => n.as_f64(),
                    serde_json::Value::Bool(b) => Some(f64::from(u8::from(*b))),
                    serde_json::Value::String(s) => number(s).or_else(|| switch(s)),
                    _ => None,
                }
            }
        }
    }

    /// A switch draws as steps: the value holds until the next message.
    pub const fn is_step(&self) -> bool {
        matches!(self, Self::Switch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(path: &str) -> Extractor {
        Extractor::Json { path: path.into() }
    }

    #[test]
    fn every_payload_kind_of_the_course_gives_its_value() {
        assert_eq!(Extractor::Number.extract(b"3.7"), Some(3.7));
        assert_eq!(Extractor::Number.extract(b" 12 \n"), Some(12.0));
        assert_eq!(Extractor::Number.extract(b"-0.5e1"), Some(-5.0));
        assert_eq!(Extractor::Number.extract(b"NaN"), None);
        assert_eq!(Extractor::Number.extract(b"kW"), None);
        assert_eq!(Extractor::Number.extract(&[0xff, 0x00]), None, "binary payloads are skipped");
        for (word, v) in [("yes", 1.0), ("no", 0.0), ("ON", 1.0), ("off", 0.0), ("true", 1.0), ("0", 0.0), ("1", 1.0)] {
            assert_eq!(Extractor::Switch.extract(word.as_bytes()), Some(v), "{word}");
        }
        assert_eq!(Extractor::Switch.extract(b"maybe"), None);
        let lum = br#"{"sensor":"ldr","value":63.5,"unit":"%"}"#;
        assert_eq!(json("/value").extract(lum), Some(63.5));
        assert_eq!(json("$.value").extract(lum), Some(63.5));
        let pv = br#"{"data":{"kw":4.25,"sunshine":"yes","ok":true},"readings":[1.5,2.5]}"#;
        assert_eq!(json("$.data.kw").extract(pv), Some(4.25));
        assert_eq!(json("$.data.sunshine").extract(pv), Some(1.0));
        assert_eq!(json("/data/ok").extract(pv), Some(1.0));
        assert_eq!(json("$.readings[1]").extract(pv), Some(2.5));
        assert_eq!(json("$.data").extract(pv), None, "an object is not a value");
        assert_eq!(json("$.missing").extract(pv), None);
        assert_eq!(json("/value").extract(b"{broken"), None);
        assert_eq!(json("/value").extract(br#"{"value":"17.5"}"#), Some(17.5), "numeric strings count");
    }

    #[test]
    fn json_paths_become_pointers_and_bad_ones_are_named() {
        assert_eq!(to_pointer("$.data.kw").unwrap(), "/data/kw");
        assert_eq!(to_pointer("$['data']['kw']").unwrap(), "/data/kw");
        assert_eq!(to_pointer("$.a[0].b").unwrap(), "/a/0/b");
        assert_eq!(to_pointer("/value").unwrap(), "/value");
        assert_eq!(to_pointer("$").unwrap(), "");
        assert!(to_pointer("value").unwrap_err().contains("start a JSON path with $"));
        assert!(to_pointer("$.a[]").unwrap_err().contains("empty [] index"));
    }
}
