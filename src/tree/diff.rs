//! A payload against the previous one, for the detail pane: for two JSON objects or arrays the
//! fields that changed, were added or removed, by path; for anything else the two values as text.
//! Also the numeric fields of a JSON payload (the "Plot this" field picker) and the value a
//! sparkline draws, both through [`Extractor`] so what is offered is what the plot extracts.
//!
//! Paths are JSON paths as [`crate::plot::to_pointer`] reads them: `$.data.kw`, `$.readings[0]`,
//! `$['a.b']` for a name with a dot; a name no path can spell (`]` with `/`, quotes at its ends)
//! makes the whole path a JSON pointer (`/a]b~1c`), which `to_pointer` keeps as is.

use std::fmt::Write as _;

use serde_json::Value;

use crate::plot::Extractor;

/// At most this many numeric fields are offered (a payload can be a long array of numbers).
const MAX_FIELDS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diff {
    /// The same bytes, or the same JSON value written differently.
    Unchanged,
    /// Two JSON objects or arrays: what differs (object keys in serde_json's order).
    Json(Vec<Change>),
    /// Anything else: both values as one line each (`0x…` hex for a non-UTF-8 payload).
    Text { before: String, after: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Changed,
    Added,
    Removed,
}

/// One field that differs: its value before and after as compact JSON (`None` when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The steps as a JSON path (or a pointer when a name cannot be spelled in a path).
fn path(steps: &[Step<'_>]) -> String {
    let dotted = |k: &str| !k.contains(['.', '[']);
    let bracketed = |k: &str| {
        !k.is_empty() && !k.contains([']', '/', '~']) && !k.starts_with(['\'', '"']) && !k.ends_with(['\'', '"'])
    };
    if steps.iter().all(|s| matches!(s, Step::Index(_)) || matches!(s, Step::Key(k) if dotted(k) || bracketed(k))) {
        let mut out = String::from("$");
        for step in steps {
            match step {
                Step::Index(i) => _ = write!(out, "[{i}]"),
                Step::Key(k) if dotted(k) => _ = write!(out, ".{k}"),
                Step::Key(k) => _ = write!(out, "['{k}']"),
            }
        }
        return out;
    }
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Index(i) => _ = write!(out, "/{i}"),
            Step::Key(k) => _ = write!(out, "/{}", k.replace('~', "~0").replace('/', "~1")),
        }
    }
    out
}

fn text(payload: &[u8]) -> String {
    match std::str::from_utf8(payload) {
        Ok(text) => text.to_owned(),
        Err(_) => format!("0x{}", crate::mqtt::to_hex(payload)),
    }
}

fn container(payload: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(payload).ok().filter(|v| v.is_object() || v.is_array())
}

/// `after` against `before`.
pub fn diff(before: &[u8], after: &[u8]) -> Diff {
    if before == after {
        return Diff::Unchanged;
    }
    match (container(before), container(after)) {
        (Some(a), Some(b)) if a == b => Diff::Unchanged,
        (Some(a), Some(b)) => {
            let mut changes = Vec::new();
            walk(&a, &b, &mut Vec::new(), &mut changes);
            Diff::Json(changes)
        }
        _ => Diff::Text { before: text(before), after: text(after) },
    }
}

fn walk<'a>(a: &'a Value, b: &'a Value, steps: &mut Vec<Step<'a>>, out: &mut Vec<Change>) {
    let change = |steps: &[Step<'_>], kind, before: Option<&Value>, after: Option<&Value>| Change {
        path: path(steps),
        kind,
        before: before.map(Value::to_string),
        after: after.map(Value::to_string),
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, old) in x {
                steps.push(Step::Key(key));
                match y.get(key) {
                    Some(new) => walk(old, new, steps, out),
                    None => out.push(change(steps, ChangeKind::Removed, Some(old), None)),
                }
                steps.pop();
            }
            for (key, new) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                steps.push(Step::Key(key));
                out.push(change(steps, ChangeKind::Added, None, Some(new)));
                steps.pop();
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                steps.push(Step::Index(i));
                match (x.get(i), y.get(i)) {
                    (Some(old), Some(new)) => walk(old, new, steps, out),
                    (Some(old), None) => out.push(change(steps, ChangeKind::Removed, Some(old), None)),
                    (None, new) => out.push(change(steps, ChangeKind::Added, None, new)),
                }
                steps.pop();
            }
        }
        _ if a != b => out.push(change(steps, ChangeKind::Changed, Some(a), Some(b))),
        _ => {}
    }
}

/// Paths of the leaves of a JSON object or array that [`Extractor::Json`] turns into a number
/// (numbers, booleans, numeric strings, switch words), at most 200.
pub fn numeric_fields(payload: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(json) = container(payload) {
        leaves(&json, &mut Vec::new(), &mut out);
    }
    out
}

fn leaves<'a>(value: &'a Value, steps: &mut Vec<Step<'a>>, out: &mut Vec<String>) {
    if out.len() >= MAX_FIELDS {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                steps.push(Step::Key(key));
                leaves(v, steps, out);
                steps.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                steps.push(Step::Index(i));
                leaves(v, steps, out);
                steps.pop();
            }
        }
        Value::Number(_) | Value::Bool(_) => out.push(path(steps)),
        Value::String(s) => {
            if Extractor::Number.extract(s.as_bytes()).or_else(|| Extractor::Switch.extract(s.as_bytes())).is_some() {
                out.push(path(steps));
            }
        }
        Value::Null => {}
    }
}

/// How to plot this payload by default: a plain number, a switch word, or the first numeric
/// field of a JSON payload; `None` when it holds no value.
pub fn default_extractor(payload: &[u8]) -> Option<Extractor> {
    if Extractor::Number.extract(payload).is_some() {
        return Some(Extractor::Number);
    }
    if Extractor::Switch.extract(payload).is_some() {
        return Some(Extractor::Switch);
    }
    numeric_fields(payload).into_iter().next().map(|path| Extractor::Json { path })
}

/// The value a sparkline draws for a payload: the chosen JSON `field`, or else the payload as a
/// number or a switch word.
pub fn sparkline_value(payload: &[u8], field: Option<&str>) -> Option<f64> {
    match field {
        Some(path) => Extractor::Json { path: path.to_owned() }.extract(payload),
        None => Extractor::Number.extract(payload).or_else(|| Extractor::Switch.extract(payload)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_json_field_is_named_by_path_with_before_and_after() {
        let before = br#"{"value":21.5,"unit":"C","data":{"kw":4.2,"ok":true},"old":1,"list":[1,2]}"#;
        let after = br#"{"value":22.0,"unit":"C","data":{"kw":4.25,"ok":true},"new":"x","list":[1]}"#;
        let Diff::Json(changes) = diff(before, after) else { panic!("two objects give a JSON diff") };
        let find = |p: &str| changes.iter().find(|c| c.path == p).unwrap_or_else(|| panic!("{p} in {changes:?}"));
        assert_eq!(find("$.value").before.as_deref(), Some("21.5"));
        assert_eq!(find("$.value").after.as_deref(), Some("22.0"));
        assert_eq!(find("$.data.kw").kind, ChangeKind::Changed);
        assert_eq!((find("$.old").kind, find("$.old").after.clone()), (ChangeKind::Removed, None));
        assert_eq!((find("$.new").kind, find("$.new").after.as_deref()), (ChangeKind::Added, Some("\"x\"")));
        assert_eq!(find("$.list[1]").kind, ChangeKind::Removed);
        assert_eq!(changes.len(), 5, "unchanged fields are not listed: {changes:?}");
        assert_eq!(diff(br#"{"a": 1}"#, br#"{"a":1}"#), Diff::Unchanged, "same JSON, other spacing");
    }

    #[test]
    fn other_payloads_compare_as_text() {
        assert_eq!(diff(b"on", b"on"), Diff::Unchanged);
        assert_eq!(diff(b"21.5", b"22"), Diff::Text { before: "21.5".into(), after: "22".into() });
        assert_eq!(diff(&[0xff], b"{}"), Diff::Text { before: "0xff".into(), after: "{}".into() });
    }

    #[test]
    fn numeric_fields_round_trip_through_the_extractor() {
        let payload = br#"{"value":63.5,"unit":"%","data":{"kw":4.25,"sunshine":"yes","ok":true,"n":"17"},
            "readings":[1.5,{"t":2}],"a.b":3,"x/y~z":4,"p.q/r":5,"null":null}"#;
        let fields = numeric_fields(payload);
        for expected in ["$.value", "$.data.kw", "$.data.sunshine", "$.data.ok", "$.data.n", "$.readings[0]"] {
            assert!(fields.iter().any(|f| f == expected), "{expected} in {fields:?}");
        }
        assert!(fields.contains(&"$.readings[1].t".to_owned()));
        assert!(fields.contains(&"$['a.b']".to_owned()), "{fields:?}");
        assert!(fields.contains(&"$.x/y~z".to_owned()), "{fields:?}");
        assert!(fields.contains(&"/p.q~1r".to_owned()), "a name no path spells is a pointer: {fields:?}");
        assert!(!fields.iter().any(|f| f.contains("unit") || f.contains("null")));
        assert_eq!(fields.len(), 10, "{fields:?}");
        let json: Value = serde_json::from_slice(payload).unwrap();
        for field in &fields {
            let extracted = Extractor::Json { path: field.clone() }.extract(payload);
            assert!(extracted.is_some(), "{field} extracts");
            let pointer = crate::plot::to_pointer(field).unwrap();
            assert!(json.pointer(&pointer).is_some_and(|v| !v.is_object()), "{field} names a leaf");
        }
        assert!(numeric_fields(b"21.5").is_empty(), "a plain number has no fields");
        assert!(numeric_fields(b"{broken").is_empty());
    }

    #[test]
    fn sparkline_values_and_default_extractors() {
        assert_eq!(sparkline_value(b" 21.5 ", None), Some(21.5));
        assert_eq!(sparkline_value(b"ON", None), Some(1.0));
        assert_eq!(sparkline_value(br#"{"data":{"kw":4.25}}"#, Some("$.data.kw")), Some(4.25));
        assert_eq!(sparkline_value(b"hello", None), None);
        assert_eq!(default_extractor(b"3"), Some(Extractor::Number));
        assert_eq!(default_extractor(b"off"), Some(Extractor::Switch));
        assert_eq!(default_extractor(br#"{"s":"x","v":2}"#), Some(Extractor::Json { path: "$.v".into() }));
        assert_eq!(default_extractor(b"text"), None);
    }
}
