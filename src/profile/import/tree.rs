//! Both formats read into one tree of named fields, so that every field of the file is either
//! mapped (and marked as used) or listed in the import report: nothing is dropped unseen.
//! MQTT.fx's XML becomes elements and their text; MQTTX's JSON becomes keys (array items are
//! named by their index).

use std::cell::Cell;
use std::fmt::Write as _;

use super::{ImportError, Unmapped};

/// One element (XML) or key (JSON) and what it holds.
#[derive(Debug, Default)]
pub(super) struct Node {
    pub name: String,
    /// The text (XML) or scalar value (JSON), trimmed; empty for objects and missing values.
    pub text: String,
    pub children: Vec<Node>,
    /// Set when the mapping has used the field (or judged it on purpose): not reported.
    used: Cell<bool>,
}

impl Node {
    fn named(name: &str) -> Self {
        Self { name: name.to_owned(), ..Self::default() }
    }

    /// The first node at the dotted `path` below this one.
    pub fn get(&self, path: &str) -> Option<&Self> {
        path.split('.').try_fold(self, |node, name| node.children.iter().find(|c| c.name == name))
    }

    /// The children called `name` (an XML element repeated, or every item of a JSON array).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Self> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Marks this field and everything in it as dealt with.
    pub fn mark(&self) {
        self.used.set(true);
    }

    /// The text at `path`, marked as used; `None` when missing or empty.
    pub fn take(&self, path: &str) -> Option<&str> {
        let node = self.get(path)?;
        node.mark();
        Some(node.text.as_str()).filter(|t| !t.is_empty())
    }

    /// Marks every path given as used: the same value written twice by the exporting app.
    pub fn mark_all(&self, paths: &[&str]) {
        for path in paths {
            if let Some(node) = self.get(path) {
                node.mark();
            }
        }
    }

    /// Every field with a value that nothing used, as `prefix.path`. Repeated names get their
    /// position (`topic[2]`). `reason` says why, from the field's path.
    pub fn leftovers(&self, prefix: &str, reason: &dyn Fn(&str) -> String, out: &mut Vec<Unmapped>) {
        if self.used.get() {
            return;
        }
        if self.children.is_empty() {
            if !self.text.is_empty() {
                out.push(Unmapped::new(prefix, &self.text, reason(prefix)));
            }
            return;
        }
        for (i, child) in self.children.iter().enumerate() {
            let repeated = self.children.iter().filter(|c| c.name == child.name).count() > 1;
            let position = self.children[..i].iter().filter(|c| c.name == child.name).count();
            let mut path = if prefix.is_empty() { child.name.clone() } else { format!("{prefix}.{}", child.name) };
            if repeated {
                let _ = write!(path, "[{position}]");
            }
            child.leftovers(&path, reason, out);
        }
    }
}

/// The XML document as a tree under an unnamed root; attributes are children too.
pub(super) fn from_xml(text: &str) -> Result<Node, ImportError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack = vec![Node::named("")];
    let bad = |reader: &quick_xml::Reader<&[u8]>, e: &dyn std::fmt::Display| {
        ImportError::Xml(format!("at byte {}: {e}", reader.error_position()))
    };
    loop {
        let event = reader.read_event().map_err(|e| bad(&reader, &e))?;
        match event {
            Event::Start(e) => stack.push(element(&e).map_err(|m| bad(&reader, &m))?),
            Event::Empty(e) => {
                let node = element(&e).map_err(|m| bad(&reader, &m))?;
                attach(&mut stack, node);
            }
            Event::End(_) => {
                let mut node = stack.pop().ok_or_else(|| ImportError::Xml("an end tag without a start".into()))?;
                node.text = trimmed(&node.text);
                if stack.is_empty() {
                    return Err(ImportError::Xml("an end tag without a start".into()));
                }
                attach(&mut stack, node);
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content().map_err(|e| bad(&reader, &e))?),
            Event::CData(t) => push_text(&mut stack, &t.decode().map_err(|e| bad(&reader, &e))?),
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| bad(&reader, &e))?;
                let resolved = match r.resolve_char_ref().map_err(|e| bad(&reader, &e))? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| bad(&reader, &format!("unknown entity &{name};")))?
                        .to_owned(),
                };
                push_text(&mut stack, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match (stack.pop(), stack.is_empty()) {
        (Some(root), true) => Ok(root),
        _ => Err(ImportError::Xml("the file ends inside an element".into())),
    }
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> Result<Node, String> {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut node = Node::named(&name);
    for attribute in e.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let mut child = Node::named(&String::from_utf8_lossy(attribute.key.local_name().as_ref()));
        child.text =
            trimmed(&attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|e| e.to_string())?);
        node.children.push(child);
    }
    Ok(node)
}

fn attach(stack: &mut [Node], node: Node) {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(node);
    }
}

/// Values are compared and shown without the layout's spaces and line breaks around them.
fn trimmed(text: &str) -> String {
    text.trim().to_owned()
}

fn push_text(stack: &mut [Node], text: &str) {
    if let Some(top) = stack.last_mut() {
        top.text.push_str(text);
    }
}

/// The JSON value as a tree under a root called `name`.
pub(super) fn from_json(name: &str, value: &serde_json::Value) -> Node {
    use serde_json::Value;
    let mut node = Node::named(name);
    match value {
        Value::Null => {}
        Value::String(s) => node.text = trimmed(s),
        Value::Bool(_) | Value::Number(_) => node.text = value.to_string(),
        Value::Array(items) => {
            node.children = items.iter().enumerate().map(|(i, v)| from_json(&i.to_string(), v)).collect();
        }
        Value::Object(map) => node.children = map.iter().map(|(k, v)| from_json(k, v)).collect(),
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_entities_and_attributes_are_read() {
        let root = from_xml(r#"<?xml version="1.0"?><a x="1"><b>R&amp;D &#233;</b><c/><b>two</b></a>"#).unwrap();
        let a = root.get("a").unwrap();
        assert_eq!(a.get("x").unwrap().text, "1");
        assert_eq!(a.take("b"), Some("R&D é"));
        assert_eq!(a.all("b").count(), 2);
        let mut out = Vec::new();
        root.leftovers("", &|_| "r".into(), &mut out);
        let fields: Vec<_> = out.iter().map(|u| (u.field.as_str(), u.value.as_str())).collect();
        assert_eq!(fields, [("a.x", "1"), ("a.b[1]", "two")], "used and empty fields are not listed");
    }

    #[test]
    fn broken_xml_is_an_error_that_says_where() {
        let e = from_xml("<a><b></a>").unwrap_err().to_string();
        assert!(e.contains("at byte"), "{e}");
    }

    #[test]
    fn json_arrays_are_numbered_and_secrets_hidden() {
        let value: serde_json::Value = serde_json::from_str(r#"{"s":[{"t":"a"}],"password":"pw","n":null}"#).unwrap();
        let root = from_json("", &value);
        let mut out = Vec::new();
        root.leftovers("", &|_| "r".into(), &mut out);
        let fields: Vec<_> = out.iter().map(|u| (u.field.as_str(), u.value.as_str())).collect();
        assert_eq!(fields, [("password", "(hidden)"), ("s.0.t", "a")]);
    }
}
