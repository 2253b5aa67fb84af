//! Profiles brought along from other clients: MQTT.fx 1.7's configuration file
//! (`mqttfx-config.xml`, its connection profiles) and MQTTX's connection export (JSON, one
//! connection or all of them). Each field the file holds is either mapped onto our [`Profile`]
//! or listed in the report with its value (secrets as "(hidden)") and why: nothing is dropped
//! unseen. Passwords come along only when the file has them; the profiles are saved by
//! [`ProfileStore::save`], so they are readable by their owner only, like ours.
//!
//! - `tree`: both formats as one tree of fields that remembers which were used.
//! - `mqttfx`, `mqttx`: the mapping of each format.

mod mqttfx;
mod mqttx;
mod tree;

use std::fmt::Write as _;
use std::path::Path;

use super::{Profile, ProfileStore, StoreError, file_stem};

/// The client a file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    MqttFx,
    Mqttx,
}

impl Source {
    pub const fn name(self) -> &'static str {
        match self {
            Self::MqttFx => "MQTT.fx",
            Self::Mqttx => "MQTTX",
        }
    }
}

/// A field of the file that is not in the imported profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    /// Its path in the file (`connectionOptions.maxInflight`, `subscriptions.0.topic`).
    pub field: String,
    /// Its value, or "(hidden)" for a password or key.
    pub value: String,
    pub reason: String,
}

impl Unmapped {
    pub(super) fn new(field: &str, value: &str, reason: String) -> Self {
        let value = if is_secret(field) { "(hidden)".to_owned() } else { value.to_owned() };
        Self { field: field.to_owned(), value, reason }
    }
}

/// Field names whose values are never shown: passwords, passphrases, keys and auth data.
fn is_secret(field: &str) -> bool {
    let last = field.rsplit('.').next().unwrap_or(field).to_ascii_lowercase();
    ["password", "passphrase", "secret", "psk", "authenticationdata", "token"].iter().any(|s| last.contains(s))
}

/// One profile of the file, mapped.
#[derive(Debug, Clone)]
pub struct ImportedProfile {
    pub profile: Profile,
    pub unmapped: Vec<Unmapped>,
    /// What the editor will ask to fix before it connects (from [`Profile::validate`]).
    pub problems: Vec<String>,
}

/// What a file holds, mapped.
#[derive(Debug, Clone)]
pub struct Import {
    pub source: Source,
    pub profiles: Vec<ImportedProfile>,
    /// Fields of the file outside any profile (application settings).
    pub unmapped: Vec<Unmapped>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("not an MQTT.fx configuration file: the XML is broken {0}")]
    Xml(String),
    #[error("not an MQTTX export: the JSON is broken: {0}")]
    Json(String),
    #[error("{0}")]
    Unknown(String),
}

/// Reads and maps the file at `path` (MQTT.fx XML or MQTTX JSON, told apart by content).
pub fn read_file(path: &Path) -> Result<Import, ImportError> {
    let text =
        std::fs::read_to_string(path).map_err(|error| ImportError::Io { path: path.display().to_string(), error })?;
    parse(&text)
}

/// Maps a file's text: XML is MQTT.fx, JSON is MQTTX.
pub fn parse(text: &str) -> Result<Import, ImportError> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    match text.chars().next() {
        Some('<') => mqttfx::parse(text),
        Some('{' | '[') => mqttx::parse(text),
        _ => Err(ImportError::Unknown(
            "neither an MQTT.fx configuration (XML) nor an MQTTX export (JSON): choose mqttfx-config.xml or the .json MQTTX's Export wrote".into(),
        )),
    }
}

/// What the profile editor's Import reads: MQTT.fx's configuration, an MQTTX export, or one
/// profile of ours (JSON). The profiles, and the report's lines for the log (empty for ours).
pub fn read_any(path: &Path) -> Result<(Vec<Profile>, Vec<String>), String> {
    match read_file(path) {
        Ok(import) => {
            let lines = import.report(&[]).lines().map(str::to_owned).collect();
            Ok((import.profiles.into_iter().map(|p| p.profile).collect(), lines))
        }
        Err(e @ ImportError::Io { .. }) => Err(e.to_string()),
        Err(foreign) => match ProfileStore::import(path) {
            Ok(profile) => Ok((vec![profile], Vec::new())),
            Err(ours) => Err(format!("{ours}; {foreign}")),
        },
    }
}

/// A name no profile of the store has (by file name, which is what would be overwritten):
/// `name`, else "name (imported)", "name (imported 2)", ...
fn free_name(name: &str, taken: &[String]) -> String {
    let clash = |candidate: &str| taken.iter().any(|t| file_stem(t) == file_stem(candidate));
    let mut candidate = name.to_owned();
    let mut n = 1;
    while clash(&candidate) {
        candidate = if n == 1 { format!("{name} (imported)") } else { format!("{name} (imported {n})") };
        n += 1;
    }
    candidate
}

impl Import {
    /// Saves every profile into `store` (0600, as ours), renamed when the name is taken so
    /// that no profile is overwritten; returns the profiles as saved.
    pub fn save(&self, store: &ProfileStore) -> Result<Vec<Profile>, StoreError> {
        let mut taken: Vec<String> = store.load_all().0.into_iter().map(|p| p.name).collect();
        let mut saved = Vec::new();
        for imported in &self.profiles {
            let mut profile = imported.profile.clone();
            profile.name = free_name(&profile.name, &taken);
            store.save(&profile)?;
            taken.push(profile.name.clone());
            saved.push(profile);
        }
        Ok(saved)
    }

    /// The report, in words: each profile (and the name it was saved under), what was not
    /// imported and why, and what to fix.
    pub fn report(&self, saved: &[Profile]) -> String {
        let mut out = String::new();
        let n = self.profiles.len();
        let _ = writeln!(out, "{n} profile{} from {}:", if n == 1 { "" } else { "s" }, self.source.name());
        for (i, imported) in self.profiles.iter().enumerate() {
            let _ = write!(out, "- {:?}", imported.profile.name);
            if let Some(as_saved) = saved.get(i).filter(|p| p.name != imported.profile.name) {
                let _ = write!(out, ", saved as {:?}", as_saved.name);
            }
            out.push('\n');
            for u in &imported.unmapped {
                let _ = writeln!(out, "    not imported: {} = {} ({})", u.field, u.value, u.reason);
            }
            for p in &imported.problems {
                let _ = writeln!(out, "    to fix: {p}");
            }
        }
        for u in &self.unmapped {
            let _ = writeln!(out, "not imported: {} = {} ({})", u.field, u.value, u.reason);
        }
        out
    }
}

/// The profile's problems in words, for the report.
fn problems(profile: &Profile) -> Vec<String> {
    profile.validate().into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect()
}

/// Reads a number field, reporting it when it does not fit.
fn number<T: std::str::FromStr>(node: &tree::Node, path: &str, unmapped: &mut Vec<Unmapped>) -> Option<T> {
    let text = node.take(path)?;
    let value = text.parse().ok();
    if value.is_none() {
        unmapped.push(Unmapped::new(path, text, "not a number MQTT Lab can use here".into()));
    }
    value
}

/// Reads a true/false field (`true`, `false`, `1`, `0`).
fn flag(node: &tree::Node, path: &str, unmapped: &mut Vec<Unmapped>) -> Option<bool> {
    let text = node.take(path)?;
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => {
            unmapped.push(Unmapped::new(path, text, "neither true nor false".into()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_gets_a_suffix_and_nothing_is_overwritten() {
        let taken = vec!["Pi".to_owned(), "Pi (imported)".to_owned()];
        assert_eq!(free_name("pi", &taken), "pi (imported 2)");
        assert_eq!(free_name("New", &taken), "New");
    }

    #[test]
    fn secrets_are_hidden_by_field_name() {
        assert_eq!(Unmapped::new("connectionOptions.clientKeyPassword", "s3cret", String::new()).value, "(hidden)");
        assert_eq!(Unmapped::new("password", "pw", String::new()).value, "(hidden)");
        assert_eq!(Unmapped::new("key", "/home/a/client.key", String::new()).value, "/home/a/client.key");
    }

    #[test]
    fn other_files_are_refused_in_words() {
        let e = parse("port=1883").unwrap_err().to_string();
        assert!(e.contains("neither an MQTT.fx"), "{e}");
        assert!(parse("{ not json").unwrap_err().to_string().contains("MQTTX"));
    }
}
