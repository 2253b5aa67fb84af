//! The app's own settings across restarts: the theme and the window's size and position, in
//! `settings.json` next to the profiles (the OS config directory), written as profiles are
//! (atomically, readable by the owner only).
//!
//! Our own small JSON file rather than eframe's "persistence" feature: that feature adds RON and
//! serde to egui and egui-winit, saves egui's whole memory (every header's and window's state) in
//! eframe's data directory rather than beside the profiles, and restores it silently when it
//! cannot be read. We keep two values, in a file a student can read, and a broken file is said
//! in the log.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The file's name in the config directory (the profiles are in `profiles/` beside it).
pub const FILE_NAME: &str = "settings.json";

/// Window sizes outside this range are ignored (a corrupt or hand-edited file).
const SIZE_RANGE: std::ops::RangeInclusive<f32> = 200.0..=16_384.0;

/// How long the settings must hold still before they are written: a window being resized
/// changes size every frame.
pub const SETTLE: Duration = Duration::from_millis(500);

/// The theme choice of the top bar's picker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn preference(self) -> egui::ThemePreference {
        match self {
            Self::System => egui::ThemePreference::System,
            Self::Light => egui::ThemePreference::Light,
            Self::Dark => egui::ThemePreference::Dark,
        }
    }

    pub fn of(preference: egui::ThemePreference) -> Self {
        match preference {
            egui::ThemePreference::System => Self::System,
            egui::ThemePreference::Light => Self::Light,
            egui::ThemePreference::Dark => Self::Dark,
        }
    }
}

/// The window's last size and position, in logical pixels (what `ViewportBuilder` takes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowGeometry {
    pub size: [f32; 2],
    /// Not known on Wayland, where windows cannot place themselves.
    #[serde(default)]
    pub position: Option<[f32; 2]>,
    #[serde(default)]
    pub maximized: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: Theme,
    pub window: Option<WindowGeometry>,
}

/// What `load` found: the settings to use, and a line for the log when the file was unusable.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub settings: Settings,
    pub note: Option<String>,
}

/// `settings.json` in the OS config directory (e.g. ~/.config/mqtt-lab on Linux).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "MQTT Lab", "mqtt-lab").map(|d| d.config_dir().join(FILE_NAME))
}

/// Reads the settings; a missing file gives the defaults quietly, an unreadable or broken one
/// gives the defaults and says why (never an error: the app starts in any case).
pub fn load(path: &Path) -> Loaded {
    let fallback = |why: String| Loaded {
        settings: Settings::default(),
        note: Some(format!(
            "The settings file {} {why}: the default theme and window size are used, and the file is \
             written again when either changes.",
            path.display()
        )),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Loaded { settings: Settings::default(), note: None };
        }
        Err(e) => return fallback(format!("could not be read ({e})")),
    };
    match serde_json::from_str::<Settings>(&text) {
        Ok(mut settings) => {
            settings.window = settings.window.and_then(sane);
            Loaded { settings, note: None }
        }
        Err(e) => fallback(format!("is not valid settings JSON ({e})")),
    }
}

/// Keeps a window geometry only if a window could have it.
fn sane(mut w: WindowGeometry) -> Option<WindowGeometry> {
    if !w.size.iter().all(|v| SIZE_RANGE.contains(v)) {
        return None;
    }
    // A position off to the left or top (a monitor since unplugged) could hide the window.
    w.position = w.position.filter(|p| p.iter().all(|v| v.is_finite() && *v >= 0.0));
    Some(w)
}

/// Writes the settings (creating the config directory if needed).
pub fn save(path: &Path, settings: &Settings) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {} ({e})", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(settings).map_err(|e| e.to_string())?;
    crate::profile::write_private(path, &text).map_err(|e| e.to_string())
}

/// The settings as the window shows them now; `previous` fills what the frame does not tell (a
/// maximised or minimised window keeps its last normal size).
pub fn observed(ctx: &egui::Context, previous: &Settings) -> Settings {
    let theme = Theme::of(ctx.options(|o| o.theme_preference));
    // egui's points shrink with Ctrl+plus; the window's logical pixels do not.
    let zoom = ctx.zoom_factor();
    let window = ctx.input(|i| {
        let v = i.viewport();
        if v.minimized == Some(true) || v.fullscreen == Some(true) {
            return previous.window;
        }
        if v.maximized == Some(true) {
            return previous.window.map(|w| WindowGeometry { maximized: true, ..w });
        }
        let size = v.inner_rect?.size() * zoom;
        let position = v.outer_rect.map(|r| [r.min.x * zoom, r.min.y * zoom]);
        sane(WindowGeometry { size: [size.x.round(), size.y.round()], position, maximized: false })
    });
    Settings { theme, window: window.or(previous.window) }
}

/// Decides when to write: after a change that held still for [`SETTLE`].
#[derive(Debug, Clone)]
pub struct Keeper {
    saved: Settings,
    changed_at: Option<(Settings, Instant)>,
}

impl Keeper {
    pub fn new(saved: Settings) -> Self {
        Self { saved, changed_at: None }
    }

    /// The settings last written (or read at startup).
    pub fn saved(&self) -> &Settings {
        &self.saved
    }

    /// Called each frame with the settings seen; returns the ones to write now, if any.
    pub fn observe(&mut self, now: Settings, at: Instant) -> Option<Settings> {
        if now == self.saved {
            self.changed_at = None;
            return None;
        }
        match self.changed_at {
            Some((seen, since)) if seen == now => {
                if at.duration_since(since) < SETTLE {
                    return None;
                }
                self.saved = now;
                self.changed_at = None;
                Some(now)
            }
            _ => {
                self.changed_at = Some((now, at));
                None
            }
        }
    }

    /// A change still waiting to settle (written at exit).
    pub fn unsaved(&self) -> Option<Settings> {
        self.changed_at.map(|(s, _)| s)
    }
}

#[cfg(test)]
mod tests;
