//! The topics of the course and their schema files, compiled once. A payload on a known topic is
//! checked and every broken rule is named with where it broke ("/value: 150 is greater than the
//! maximum of 100").

use std::sync::OnceLock;

use serde::Deserialize;

/// The schema files, embedded: the app checks payloads without the assets folder at hand.
pub const SCHEMA_FILES: [(&str, &str); 4] = [
    ("pv-data.schema.json", include_str!("../../assets/schema/pv-data.schema.json")),
    ("pv-sunshine.schema.json", include_str!("../../assets/schema/pv-sunshine.schema.json")),
    ("luminosity.schema.json", include_str!("../../assets/schema/luminosity.schema.json")),
    ("led-command.schema.json", include_str!("../../assets/schema/led-command.schema.json")),
];
const TOPICS: &str = include_str!("../../assets/schema/topics.json");

/// How a payload becomes the JSON instance its schema checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadKind {
    /// The payload is a JSON document.
    Json,
    /// The payload is plain text, checked as a JSON string.
    Text,
}

/// One entry of `topics.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KnownTopic {
    pub topic: String,
    pub schema: String,
    pub payload: PayloadKind,
    pub direction: String,
}

#[derive(Deserialize)]
struct Topics {
    topics: Vec<KnownTopic>,
}

/// What checking a payload found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// No schema for this topic.
    Unknown,
    /// The payload matches the topic's schema (named).
    Valid(String),
    /// What is wrong, one line per broken rule, each naming the schema.
    Invalid(Vec<String>),
}

pub struct Catalogue {
    pub topics: Vec<KnownTopic>,
    validators: Vec<(String, jsonschema::Validator)>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue").field("topics", &self.topics).finish_non_exhaustive()
    }
}

/// Course messages are tens of bytes; a payload beyond this is not parsed to be checked.
const MAX_CHECKED: usize = 4096;

impl Catalogue {
    /// The embedded catalogue, compiled on first use.
    pub fn get() -> &'static Self {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| Self::from_files(TOPICS, &SCHEMA_FILES).expect("the embedded schema files compile"))
    }

    /// Compiles a catalogue from `topics.json` text and `(file name, schema text)` pairs.
    pub fn from_files(topics: &str, schemas: &[(&str, &str)]) -> Result<Self, String> {
        let topics: Topics = serde_json::from_str(topics).map_err(|e| format!("topics.json: {e}"))?;
        let mut validators = Vec::new();
        for (name, text) in schemas {
            let schema: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
            let validator = jsonschema::validator_for(&schema).map_err(|e| format!("{name}: {e}"))?;
            validators.push(((*name).to_owned(), validator));
        }
        if let Some(t) = topics.topics.iter().find(|t| !validators.iter().any(|(n, _)| *n == t.schema)) {
            return Err(format!("topics.json: {} names {}, which is not there", t.topic, t.schema));
        }
        Ok(Self { topics: topics.topics, validators })
    }

    pub fn topic(&self, topic: &str) -> Option<&KnownTopic> {
        self.topics.iter().find(|t| t.topic == topic)
    }

    /// Checks `payload` against the schema of `topic`.
    pub fn check(&self, topic: &str, payload: &[u8]) -> Check {
        let Some(known) = self.topic(topic) else { return Check::Unknown };
        let Some((name, validator)) = self.validators.iter().find(|(n, _)| *n == known.schema) else {
            return Check::Unknown;
        };
        // The list checks every visible row each frame: a huge payload is refused unread.
        if payload.len() > MAX_CHECKED {
            return Check::Invalid(vec![format!(
                "{} bytes, far more than a course message holds ({name})",
                payload.len()
            )]);
        }
        let Ok(text) = std::str::from_utf8(payload) else {
            return Check::Invalid(vec![format!("not UTF-8 text ({name})")]);
        };
        let instance = match known.payload {
            PayloadKind::Text => serde_json::Value::String(text.to_owned()),
            PayloadKind::Json => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => v,
                Err(e) => return Check::Invalid(vec![format!("not JSON: {e} ({name})")]),
            },
        };
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| {
                let at = e.instance_path().to_string();
                let at = if at.is_empty() { String::new() } else { format!("{at}: ") };
                format!("{at}{e} ({name})")
            })
            .collect();
        if errors.is_empty() { Check::Valid(name.clone()) } else { Check::Invalid(errors) }
    }
}
