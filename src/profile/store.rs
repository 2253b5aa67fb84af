//! Profiles on disk: one JSON file each in the OS config directory, written atomically (a
//! temporary file, then a rename) and readable by their owner only, because they hold
//! passwords and PSK keys.

use std::path::{Path, PathBuf};

use super::Profile;

/// The example profiles in `profiles/`, offered on first start.
pub const EXAMPLES: [(&str, &str); 5] = [
    ("builtin.json", include_str!("../../profiles/builtin.json")),
    ("mqtt5-builtin.json", include_str!("../../profiles/mqtt5-builtin.json")),
    ("raspberry-pi.json", include_str!("../../profiles/raspberry-pi.json")),
    ("raspberry-pi-psk.json", include_str!("../../profiles/raspberry-pi-psk.json")),
    ("public-test-broker.json", include_str!("../../profiles/public-test-broker.json")),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no configuration directory could be found for this user")]
    NoConfigDir,
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path} is not a valid profile: {error}")]
    Parse { path: String, error: serde_json::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |error| StoreError::Io { path: path.display().to_string(), error }
}

/// A file name from a profile name: letters, digits and dashes.
pub fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if stem.is_empty() { "profile".into() } else { stem }
}

/// Writes `text` to `path` through a temporary file and a rename, readable by the owner only.
pub fn write_private(path: &Path, text: &str) -> Result<(), StoreError> {
    use std::io::Write as _;
    let tmp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io(&tmp))?;
    file.write_all(text.as_bytes()).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

#[derive(Debug, Clone)]
pub struct ProfileStore {
    dir: PathBuf,
}

impl ProfileStore {
    /// The store in the OS config directory (e.g. ~/.config/mqtt-lab/profiles on Linux).
    pub fn in_config_dir() -> Result<Self, StoreError> {
        let dirs = directories::ProjectDirs::from("org", "MQTT Lab", "mqtt-lab").ok_or(StoreError::NoConfigDir)?;
        Ok(Self::at(dirs.config_dir().join("profiles")))
    }

    pub fn at(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}.json", file_stem(name)))
    }

    /// Every profile, by name; files that do not parse are reported and left untouched.
    pub fn load_all(&self) -> (Vec<Profile>, Vec<StoreError>) {
        let mut profiles = Vec::new();
        let mut errors = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return (profiles, errors) };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            match std::fs::read_to_string(&path).map_err(io(&path)).and_then(|text| {
                serde_json::from_str::<Profile>(&text)
                    .map_err(|error| StoreError::Parse { path: path.display().to_string(), error })
            }) {
                Ok(p) => profiles.push(p),
                Err(e) => errors.push(e),
            }
        }
        profiles.sort_by(|a, b| a.name.cmp(&b.name));
        (profiles, errors)
    }

    /// Writes the examples when the store is empty (first start); returns how many.
    pub fn seed_examples(&self) -> Result<usize, StoreError> {
        let (existing, errors) = self.load_all();
        if !existing.is_empty() || !errors.is_empty() {
            return Ok(0);
        }
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        for (_, text) in EXAMPLES {
            let profile: Profile =
                serde_json::from_str(text).map_err(|error| StoreError::Parse { path: "example".into(), error })?;
            self.save(&profile)?;
        }
        Ok(EXAMPLES.len())
    }

    pub fn save(&self, profile: &Profile) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let text = serde_json::to_string_pretty(profile)
            .map_err(|error| StoreError::Parse { path: profile.name.clone(), error })?;
        write_private(&self.path_of(&profile.name), &text)
    }

    pub fn delete(&self, name: &str) -> Result<(), StoreError> {
        let path = self.path_of(name);
        std::fs::remove_file(&path).map_err(io(&path))
    }

    /// Saves a copy named "<name> (copy)" (or "(copy 2)", ...) and returns it.
    pub fn duplicate(&self, profile: &Profile) -> Result<Profile, StoreError> {
        let (existing, _) = self.load_all();
        let mut copy = profile.clone();
        let mut n = 1;
        loop {
            copy.name =
                if n == 1 { format!("{} (copy)", profile.name) } else { format!("{} (copy {n})", profile.name) };
            if !existing.iter().any(|p| file_stem(&p.name) == file_stem(&copy.name)) {
                break;
            }
            n += 1;
        }
        self.save(&copy)?;
        Ok(copy)
    }

    /// Writes a profile for sharing; secrets only when `include_secrets`.
    pub fn export(profile: &Profile, path: &Path, include_secrets: bool) -> Result<(), StoreError> {
        let profile = if include_secrets { profile.clone() } else { profile.without_secrets() };
        let text = serde_json::to_string_pretty(&profile)
            .map_err(|error| StoreError::Parse { path: path.display().to_string(), error })?;
        write_private(path, &text)
    }

    pub fn import(path: &Path) -> Result<Profile, StoreError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        serde_json::from_str(&text).map_err(|error| StoreError::Parse { path: path.display().to_string(), error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store(name: &str) -> ProfileStore {
        let dir = std::env::temp_dir().join(format!("mqtt-lab-profiles-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        ProfileStore::at(dir)
    }

    #[test]
    fn first_start_offers_the_examples_and_they_round_trip() {
        let store = temp_store("seed");
        assert_eq!(store.seed_examples().unwrap(), EXAMPLES.len());
        assert_eq!(store.seed_examples().unwrap(), 0, "only on first start");
        let (profiles, errors) = store.load_all();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(profiles.len(), EXAMPLES.len());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for entry in std::fs::read_dir(store.dir()).unwrap() {
                let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "profiles hold secrets");
            }
        }
        std::fs::remove_dir_all(store.dir()).unwrap();
    }

    #[test]
    fn save_duplicate_delete_and_a_broken_file_is_reported_not_lost() {
        let store = temp_store("edit");
        let p = Profile {
            name: "Pi at home".into(),
            password: Some("secret".into()),
            username: Some("u".into()),
            ..Profile::default()
        };
        store.save(&p).unwrap();
        let copy = store.duplicate(&p).unwrap();
        assert_eq!(copy.name, "Pi at home (copy)");
        assert_eq!(store.duplicate(&p).unwrap().name, "Pi at home (copy 2)");
        std::fs::write(store.dir().join("broken.json"), "{ not json").unwrap();
        let (profiles, errors) = store.load_all();
        assert_eq!(profiles.len(), 3);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("broken.json"), "{}", errors[0]);
        assert!(store.dir().join("broken.json").exists(), "never deleted behind the user's back");
        store.delete("Pi at home (copy)").unwrap();
        assert_eq!(store.load_all().0.len(), 2);
        std::fs::remove_dir_all(store.dir()).unwrap();
    }

    #[test]
    fn export_without_secrets_and_import() {
        let store = temp_store("export");
        std::fs::create_dir_all(store.dir()).unwrap();
        let p = Profile {
            name: "Pi".into(),
            username: Some("btsiot1".into()),
            password: Some("btsiotpass1".into()),
            ..Profile::default()
        };
        let out = store.dir().join("shared.json");
        ProfileStore::export(&p, &out, false).unwrap();
        assert!(!std::fs::read_to_string(&out).unwrap().contains("btsiotpass1"));
        let back = ProfileStore::import(&out).unwrap();
        assert_eq!(back.username.as_deref(), Some("btsiot1"));
        assert_eq!(back.password, None);
        ProfileStore::export(&p, &out, true).unwrap();
        assert_eq!(ProfileStore::import(&out).unwrap().password.as_deref(), Some("btsiotpass1"), "when the user asks");
        std::fs::remove_dir_all(store.dir()).unwrap();
    }
}
