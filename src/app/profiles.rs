//! Profile work of the app: loading at start, new, duplicate, delete, save, export and import.
//! Every file operation runs off the UI thread and reports back through `Background`.

use super::{App, AppOptions, Background};
use crate::model::Model;
use crate::mqtt::generated_client_id;
use crate::profile::{Profile, ProfileStore};
use crate::ui::{FileTarget, ProfileIntent, TransferForm};

/// The profiles and the one being edited (which is not necessarily the connection's).
pub(super) struct Profiles {
    /// Where profiles are saved; `None` when no folder could be had (they live in memory only).
    pub store: Option<ProfileStore>,
    /// Every profile, never empty (a built-in broker profile is made when none loads).
    pub list: Vec<Profile>,
    /// The profile the editor shows and Connect uses.
    pub selected: usize,
    /// The port field as typed, checked when connecting (a typo must not become port 0).
    pub port_text: String,
    /// The import/export file field and whether secrets go with an export.
    pub transfer: TransferForm,
}

impl Profiles {
    /// Loads the profiles (see `load_profiles`) and selects the built-in broker's.
    pub fn load(options: &AppOptions, model: &mut Model) -> Self {
        let (store, list) = load_profiles(options, model);
        let selected = list.iter().position(|p| p.builtin_broker).unwrap_or(0);
        let port_text = list[selected].port.to_string();
        Self { store, list, selected, port_text, transfer: TransferForm::default() }
    }

    /// The selected profile.
    pub fn current(&self) -> &Profile {
        &self.list[self.selected]
    }

    pub fn current_mut(&mut self) -> &mut Profile {
        &mut self.list[self.selected]
    }

    /// Selects the last profile (just added) and shows its port.
    fn select_last(&mut self) {
        self.selected = self.list.len() - 1;
        self.port_text = self.current().port.to_string();
    }
}

/// Opens the profile store, offers the examples on first start, and loads the profiles.
fn load_profiles(options: &AppOptions, model: &mut Model) -> (Option<ProfileStore>, Vec<Profile>) {
    let store = match &options.profile_dir {
        Some(dir) => Ok(ProfileStore::at(dir.clone())),
        None => ProfileStore::in_config_dir(),
    };
    let (store, mut profiles) = match store {
        Ok(store) => {
            if let Err(e) = store.seed_examples() {
                model.note(format!("Could not write the example profiles: {e}"));
            }
            let (profiles, errors) = store.load_all();
            for e in errors {
                model.note(format!("A profile file was skipped: {e}"));
            }
            (Some(store), profiles)
        }
        Err(e) => {
            model.note(format!("Profiles cannot be saved: {e}"));
            (None, Vec::new())
        }
    };
    if profiles.is_empty() {
        profiles.push(Profile { name: "Built-in broker".into(), builtin_broker: true, ..Profile::default() });
    }
    for p in &mut profiles {
        // MQTT 5 with clean start: an empty id asks the broker to assign one [MQTT-3.1.3-6].
        if p.client_id.is_empty() && !(p.version.is_v5() && p.clean_session) {
            p.client_id = generated_client_id();
        }
    }
    (store, profiles)
}

impl App {
    pub(super) fn apply_profile(&mut self, intent: ProfileIntent) {
        match intent {
            ProfileIntent::Select(i) => {
                self.profiles.selected = i.min(self.profiles.list.len() - 1);
                self.profiles.port_text = self.profiles.current().port.to_string();
                // The blank session shows the selected profile; a connection keeps its own.
                if self.sessions.shown().connection.is_none() {
                    self.reload_history();
                    self.reset_plot();
                    self.seed_topics(self.sessions.shown_index());
                }
            }
            ProfileIntent::Save => self.save_profile(),
            ProfileIntent::New => self.new_profile(),
            ProfileIntent::Duplicate => self.duplicate_profile(),
            ProfileIntent::Delete => self.delete_profile(),
            ProfileIntent::Export => self.export_profile(),
            ProfileIntent::Import => self.import_profile(),
            ProfileIntent::AddFavourite => {
                // The form's message as it would be sent (properties, payload bytes), its
                // variables kept for each click.
                let version = self.view_profile().version;
                let favourite = self.sessions.shown().publish_form.favourite(version);
                self.profiles.current_mut().favourites.push(favourite);
                self.save_profile();
            }
        }
    }

    /// Runs a profile file operation off the UI thread; its outcome comes back as a log line.
    fn in_background(&self, job: impl FnOnce(&ProfileStore) -> String + Send + 'static) {
        let Some(store) = self.profiles.store.clone() else { return };
        self.io.off_thread(move || Background::Note(job(&store)));
    }

    fn export_profile(&self) {
        let (profile, include) = (self.profiles.current().clone(), self.profiles.transfer.include_secrets);
        let path = std::path::PathBuf::from(self.profiles.transfer.path.trim());
        self.io.off_thread(move || {
            Background::Note(match ProfileStore::export(&profile, &path, include) {
                Ok(()) if include => format!("Exported {} to {}, with its secrets.", profile.name, path.display()),
                Ok(()) => format!("Exported {} to {} (without password and PSK key).", profile.name, path.display()),
                Err(e) => format!("Could not export: {e}"),
            })
        });
    }

    /// A profile of ours, or every profile of an MQTT.fx configuration or MQTTX export, with
    /// the import report (what was not imported and why) in the log.
    fn import_profile(&self) {
        let path = std::path::PathBuf::from(self.profiles.transfer.path.trim());
        let report = self.io.reporter();
        self.io.runtime.spawn_blocking(move || match crate::profile::import::read_any(&path) {
            Ok((profiles, lines)) => {
                for profile in profiles {
                    report(Background::Imported(Box::new(profile)));
                }
                for line in lines {
                    report(Background::Note(line));
                }
            }
            Err(e) => report(Background::Note(format!("Could not import: {e}"))),
        });
    }

    /// A native file dialog, run by the I/O runtime; when none can open (no desktop portal),
    /// the File field still works.
    pub(super) fn choose_file(&self, target: FileTarget) {
        let report = self.io.reporter();
        self.io.runtime.spawn(async move {
            let dialog = match target {
                FileTarget::Profile => rfd::AsyncFileDialog::new().add_filter("MQTT Lab profile", &["json"]),
                FileTarget::PlotExport => {
                    rfd::AsyncFileDialog::new().add_filter("CSV or PNG", &["csv", "png"]).set_file_name("mqtt-lab-plot")
                }
                FileTarget::ReportsFolder => rfd::AsyncFileDialog::new(),
            };
            let chosen =
                if target == FileTarget::ReportsFolder { dialog.pick_folder().await } else { dialog.save_file().await };
            let result = match chosen {
                Some(file) => Background::Chosen(target, file.path().to_path_buf()),
                None => Background::Note(
                    "No file chosen (or no file dialog is available here): type the path into its field instead."
                        .into(),
                ),
            };
            report(result);
        });
    }

    /// Applies the port field to the profile; false (with a log line) when it is not a port.
    pub(super) fn apply_port(&mut self) -> bool {
        if self.profiles.current().builtin_broker {
            return true;
        }
        match self.profiles.port_text.trim().parse::<u16>() {
            Ok(port) if port > 0 => {
                self.profiles.current_mut().port = port;
                true
            }
            _ => {
                let text = self.profiles.port_text.clone();
                self.sessions.shown_mut().model.note(format!("The port {text:?} is not a number from 1 to 65535."));
                false
            }
        }
    }

    pub(super) fn save_profile(&mut self) {
        if self.apply_port() {
            self.save_profile_at(self.profiles.selected);
        }
    }

    /// Saves `profiles[i]` as it is (its port field applied already).
    pub(super) fn save_profile_at(&mut self, i: usize) {
        let profile = self.profiles.list[i].clone();
        self.in_background(move |store| match store.save(&profile) {
            Ok(()) => format!("Saved profile {}.", profile.name),
            Err(e) => format!("Could not save the profile: {e}"),
        });
    }

    fn new_profile(&mut self) {
        let list = &mut self.profiles.list;
        let taken = |name: &str| list.iter().any(|p| p.name == name);
        let name = (1..=list.len() + 1)
            .map(|n| if n == 1 { "New profile".to_owned() } else { format!("New profile {n}") })
            .find(|n| !taken(n))
            .unwrap_or_default();
        list.push(Profile { name, client_id: generated_client_id(), ..Profile::default() });
        self.profiles.select_last();
    }

    pub(super) fn imported(&mut self, mut profile: Profile) {
        // By file name, which is what saving would overwrite ("Pi" and "pi" share pi.json).
        let stem = |name: &str| crate::profile::file_stem(name);
        while self.profiles.list.iter().any(|p| stem(&p.name) == stem(&profile.name)) {
            profile.name.push_str(" (imported)");
        }
        self.sessions.shown_mut().model.note(format!("Imported profile {}.", profile.name));
        self.profiles.list.push(profile);
        self.profiles.select_last();
        self.save_profile();
    }

    fn duplicate_profile(&mut self) {
        let list = &self.profiles.list;
        let base = self.profiles.current().name.clone();
        // Among len + 1 candidate names at least one is free.
        let name = (1..=list.len() + 1)
            .map(|n| if n == 1 { format!("{base} (copy)") } else { format!("{base} (copy {n})") })
            .find(|candidate| !list.iter().any(|p| &p.name == candidate))
            .unwrap_or_default();
        let copy = Profile { name, ..self.profiles.current().clone() };
        self.profiles.list.push(copy);
        // The port field keeps its text, as before: the copy has the same port.
        self.profiles.selected = self.profiles.list.len() - 1;
        self.save_profile();
    }

    fn delete_profile(&mut self) {
        if self.profiles.list.len() == 1 {
            self.sessions.shown_mut().model.note("The last profile cannot be deleted.");
            return;
        }
        let removed = self.profiles.list.remove(self.profiles.selected);
        self.in_background(move |store| match store.delete(&removed.name) {
            Ok(()) => format!("Deleted profile {}.", removed.name),
            Err(e) => format!("Could not delete the profile file: {e}"),
        });
        self.profiles.selected = 0;
        self.profiles.port_text = self.profiles.current().port.to_string();
    }
}
