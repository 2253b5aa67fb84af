//! Profile work of the app: loading at start, new, duplicate, delete, save, export and import.
//! Every file operation runs off the UI thread and reports back through `Background`.

use super::{App, AppOptions, Background};
use crate::model::Model;
use crate::mqtt::generated_client_id;
use crate::profile::{Profile, ProfileStore};
use crate::ui::FileTarget;

/// Opens the profile store, offers the examples on first start, and loads the profiles.
pub(super) fn load_profiles(options: &AppOptions, model: &mut Model) -> (Option<ProfileStore>, Vec<Profile>) {
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
        if p.client_id.is_empty() {
            p.client_id = generated_client_id();
        }
    }
    (store, profiles)
}

impl App {
    /// Runs a profile file operation off the UI thread; its outcome comes back as a log line.
    pub(super) fn in_background(&self, job: impl FnOnce(&ProfileStore) -> String + Send + 'static) {
        let Some(store) = self.store.clone() else { return };
        self.off_thread(move || Background::Note(job(&store)));
    }

    pub(super) fn off_thread(&self, job: impl FnOnce() -> Background + Send + 'static) {
        let (done, repaint) = (self.background_tx.clone(), self.repaint.clone());
        self.runtime.spawn_blocking(move || {
            let _ = done.send(job());
            repaint();
        });
    }

    pub(super) fn export_profile(&self) {
        let (profile, include) = (self.profile().clone(), self.transfer.include_secrets);
        let path = std::path::PathBuf::from(self.transfer.path.trim());
        self.off_thread(move || {
            Background::Note(match ProfileStore::export(&profile, &path, include) {
                Ok(()) if include => format!("Exported {} to {}, with its secrets.", profile.name, path.display()),
                Ok(()) => format!("Exported {} to {} (without password and PSK key).", profile.name, path.display()),
                Err(e) => format!("Could not export: {e}"),
            })
        });
    }

    pub(super) fn import_profile(&self) {
        let path = std::path::PathBuf::from(self.transfer.path.trim());
        self.off_thread(move || match ProfileStore::import(&path) {
            Ok(profile) => Background::Imported(Box::new(profile)),
            Err(e) => Background::Note(format!("Could not import: {e}")),
        });
    }

    /// A native file dialog, run by the I/O runtime; when none can open (no desktop portal),
    /// the File field still works.
    pub(super) fn choose_file(&self, target: FileTarget) {
        let (done, repaint) = (self.background_tx.clone(), self.repaint.clone());
        self.runtime.spawn(async move {
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
            let _ = done.send(result);
            repaint();
        });
    }

    /// Applies the port field to the profile; false (with a log line) when it is not a port.
    pub(super) fn apply_port(&mut self) -> bool {
        if self.profile().builtin_broker {
            return true;
        }
        match self.port_text.trim().parse::<u16>() {
            Ok(port) if port > 0 => {
                self.profile_mut().port = port;
                true
            }
            _ => {
                let text = self.port_text.clone();
                self.model.note(format!("The port {text:?} is not a number from 1 to 65535."));
                false
            }
        }
    }

    pub(super) fn save_profile(&mut self) {
        if self.apply_port() {
            self.save_profile_at(self.selected);
        }
    }

    /// Saves `profiles[i]` as it is (its port field applied already).
    pub(super) fn save_profile_at(&mut self, i: usize) {
        let profile = self.profiles[i].clone();
        self.in_background(move |store| match store.save(&profile) {
            Ok(()) => format!("Saved profile {}.", profile.name),
            Err(e) => format!("Could not save the profile: {e}"),
        });
    }

    pub(super) fn new_profile(&mut self) {
        let taken = |name: &str| self.profiles.iter().any(|p| p.name == name);
        let name = (1..=self.profiles.len() + 1)
            .map(|n| if n == 1 { "New profile".to_owned() } else { format!("New profile {n}") })
            .find(|n| !taken(n))
            .unwrap_or_default();
        self.profiles.push(Profile { name, client_id: generated_client_id(), ..Profile::default() });
        self.selected = self.profiles.len() - 1;
        self.port_text = self.profile().port.to_string();
    }

    pub(super) fn imported(&mut self, mut profile: Profile) {
        while self.profiles.iter().any(|p| p.name == profile.name) {
            profile.name.push_str(" (imported)");
        }
        self.model.note(format!("Imported profile {}.", profile.name));
        self.profiles.push(profile);
        self.selected = self.profiles.len() - 1;
        self.port_text = self.profile().port.to_string();
        self.save_profile();
    }

    pub(super) fn duplicate_profile(&mut self) {
        let base = self.profile().name.clone();
        // Among len + 1 candidate names at least one is free.
        let name = (1..=self.profiles.len() + 1)
            .map(|n| if n == 1 { format!("{base} (copy)") } else { format!("{base} (copy {n})") })
            .find(|candidate| !self.profiles.iter().any(|p| &p.name == candidate))
            .unwrap_or_default();
        let copy = Profile { name, ..self.profile().clone() };
        self.profiles.push(copy);
        self.selected = self.profiles.len() - 1;
        self.save_profile();
    }

    pub(super) fn delete_profile(&mut self) {
        if self.profiles.len() == 1 {
            self.model.note("The last profile cannot be deleted.");
            return;
        }
        let removed = self.profiles.remove(self.selected);
        self.in_background(move |store| match store.delete(&removed.name) {
            Ok(()) => format!("Deleted profile {}.", removed.name),
            Err(e) => format!("Could not delete the profile file: {e}"),
        });
        self.selected = 0;
        self.port_text = self.profile().port.to_string();
    }
}
