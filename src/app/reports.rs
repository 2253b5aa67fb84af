//! Files for the lab report: every save (screenshots, plot, packet, message export) goes to the
//! reports folder under a name that says when, which profile and what
//! (`2026-12-06_14-03-22_raspberry-pi_plot.png`) and never replaces a file already there; after
//! each save a notice at the top of the central panel names the file and offers to open its
//! folder, so nobody has to open the Log to find it.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Local};

use super::App;
use super::capture::{Capture, CaptureKind};
use crate::profile::file_stem;
use crate::ui::ReportIntent;

/// `-2` ... `-999`: more saves of one name in one second than anyone takes.
const MAX_SUFFIX: u32 = 999;

/// How long a notice of a saved file stays (an error stays until dismissed).
const SAVED_FOR: Duration = Duration::from_secs(10);

/// Screenshots and exports for the lab report, and the notice after each save.
pub(super) struct Reports {
    /// A screenshot asked for and not yet saved (one at a time).
    pub capture: Option<Capture>,
    /// A message export under way: how far it is, for the list's progress bar.
    pub export: Option<std::sync::Arc<super::export::Progress>>,
    /// The reports folder as typed or chosen ("" for the default one).
    pub folder: String,
    /// The notice after a save (file name, "Open folder") and the channel saves report on.
    pub notices: Notices,
    /// Screenshots carry a caption line (date, broker, client id): a report needs to say what.
    pub caption_on: bool,
}

impl Default for Reports {
    fn default() -> Self {
        Self {
            capture: None,
            export: None,
            folder: super::capture::default_folder(),
            notices: Notices::default(),
            caption_on: true,
        }
    }
}

/// `<date>_<time>_<profile>_<what>.<extension>`: sorted by name is sorted by time, and the
/// profile says which broker it was.
pub fn file_name(at: &DateTime<Local>, profile: &str, what: &str, extension: &str) -> String {
    format!("{}_{}_{what}.{extension}", at.format("%Y-%m-%d_%H-%M-%S"), file_stem(profile))
}

/// Creates `folder` and an empty file `name` in it, or `name-2`, `name-3`, ... (before the
/// extension) when taken, and returns its path: the empty file is the caller's to write. Creating
/// with `create_new` is atomic, so two saves in the same second never get the same file and no
/// existing file is overwritten.
pub fn create_unique(folder: &Path, name: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, Some(extension)),
        _ => (name, None),
    };
    for n in 1..=MAX_SUFFIX {
        let candidate = match (n, extension) {
            (1, _) => name.to_owned(),
            (_, Some(extension)) => format!("{stem}-{n}.{extension}"),
            (_, None) => format!("{stem}-{n}"),
        };
        let path = folder.join(candidate);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Err(format!("{}: {MAX_SUFFIX} files of that name exist already", folder.join(name).display()))
}

/// Removes the file `create_unique` made when writing it failed: no empty file is left behind.
pub fn discard(path: &Path) {
    // Nothing else to do if this fails too: the error that matters is reported already.
    let _ = std::fs::remove_file(path);
}

/// What a save ended with, sent from the blocking pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The file written, and what it holds ("1600 x 900 pixels", "12000 messages").
    Saved { path: PathBuf, detail: String },
    /// Why nothing was saved, in words.
    Failed(String),
}

impl Notice {
    pub fn saved(path: &Path, detail: impl Into<String>) -> Self {
        Self::Saved { path: path.to_path_buf(), detail: detail.into() }
    }
}

/// The notice shown, and the channel saves report on.
#[derive(Debug)]
pub struct Notices {
    tx: mpsc::Sender<Notice>,
    rx: mpsc::Receiver<Notice>,
    shown: Option<(Notice, Instant)>,
}

impl Default for Notices {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel();
        Self { tx, rx, shown: None }
    }
}

impl Notices {
    /// The latest notice replaces the one shown; a saved file's notice goes after `SAVED_FOR`.
    fn current(&mut self, now: Instant) -> Option<&Notice> {
        while let Ok(notice) = self.rx.try_recv() {
            self.shown = Some((notice, now));
        }
        if self
            .shown
            .as_ref()
            .is_some_and(|(n, at)| matches!(n, Notice::Saved { .. }) && now.saturating_duration_since(*at) >= SAVED_FOR)
        {
            self.shown = None;
        }
        self.shown.as_ref().map(|(n, _)| n)
    }
}

impl App {
    pub(super) fn apply_report(&mut self, intent: ReportIntent) {
        match intent {
            ReportIntent::Screenshot { tab } => {
                self.screenshot(if tab { CaptureKind::Tab } else { CaptureKind::Window });
            }
            ReportIntent::ExportPacket { seq, png } => self.export_packet(seq, png),
            ReportIntent::SavePcapng => self.save_pcapng(),
        }
    }

    /// Where files for the report go: the folder typed or chosen, else the default one.
    pub(super) fn reports_folder(&self) -> PathBuf {
        match self.reports.folder.trim() {
            "" => PathBuf::from(super::capture::default_folder()),
            folder => PathBuf::from(folder),
        }
    }

    /// The channel a save off the UI thread reports its notice on.
    pub(super) fn notice_sender(&self) -> mpsc::Sender<Notice> {
        self.reports.notices.tx.clone()
    }

    /// Saves a `what` ("screenshot", "packet", "plot") on the blocking pool: a new file `name` in
    /// `folder` (see `create_unique`) that `write` fills, returning what it holds ("" or "3
    /// point(s)"). The outcome shows in the notice and in the Log ("Plot saved to <path>.").
    pub(super) fn save_file(
        &self,
        what: &'static str,
        folder: PathBuf,
        name: String,
        write: impl FnOnce(&Path) -> Result<String, String> + Send + 'static,
    ) {
        let notices = self.notice_sender();
        self.io.off_thread(move || {
            let result = create_unique(&folder, &name).and_then(|path| match write(&path) {
                Ok(detail) => Ok((path, detail)),
                Err(e) => {
                    discard(&path);
                    Err(e)
                }
            });
            let (notice, line) = match result {
                Ok((path, detail)) => {
                    let shown = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
                    let line =
                        format!("{}{} saved to {}{shown}.", what[..1].to_uppercase(), &what[1..], path.display());
                    (Notice::saved(&path, detail), line)
                }
                Err(e) => {
                    let line = format!("The {what} could not be saved: {e}");
                    (Notice::Failed(line.clone()), line)
                }
            };
            let _ = notices.send(notice);
            super::Background::Note(line)
        });
    }

    /// The bar at the top of the central panel after a save: the file's name and "Open folder",
    /// or what went wrong; "Dismiss" closes it.
    pub(super) fn notice_bar(&mut self, ui: &mut egui::Ui) {
        let now = Instant::now();
        let Some(notice) = self.reports.notices.current(now).cloned() else { return };
        let mut open = None;
        let mut dismiss = false;
        egui::Frame::group(ui.style()).fill(ui.visuals().faint_bg_color).show(ui, |ui| {
            // Wrapped: a long folder path must not push the buttons out of a narrow window.
            ui.horizontal_wrapped(|ui| {
                match &notice {
                    Notice::Saved { path, detail } => {
                        let name =
                            path.file_name().map_or_else(|| path.display().to_string(), |n| n.display().to_string());
                        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
                        let detail = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
                        ui.label(format!("Saved {name}{detail} in {}", folder.display()));
                        if ui.button("Open folder").clicked() {
                            open = Some(folder);
                        }
                    }
                    Notice::Failed(why) => {
                        ui.add(egui::Label::new(egui::RichText::new(why).color(ui.visuals().error_fg_color)).wrap());
                    }
                }
                dismiss = ui.button("Dismiss").clicked();
            });
        });
        if let Some((Notice::Saved { .. }, at)) = &self.reports.notices.shown {
            // Repaint when the notice is due to go, even if nothing else happens.
            ui.ctx().request_repaint_after(SAVED_FOR.saturating_sub(now.saturating_duration_since(*at)));
        }
        if dismiss {
            self.reports.notices.shown = None;
        }
        if let Some(folder) = open {
            self.open_folder(folder);
        }
    }

    /// Opens `folder` in the file manager. Starting it may take a moment (xdg-open looks for
    /// a desktop), so it runs on the blocking pool; if none can start, the notice says so.
    fn open_folder(&self, folder: PathBuf) {
        let (tx, repaint) = (self.notice_sender(), self.io.repaint.clone());
        self.io.runtime.spawn_blocking(move || {
            if let Err(e) = open::that_detached(&folder) {
                let _ = tx.send(Notice::Failed(format!(
                    "The folder {} could not be opened ({e}): open it in your file manager.",
                    folder.display()
                )));
                repaint();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_name_says_when_which_profile_and_what() {
        let at = Local.with_ymd_and_hms(2026, 12, 6, 14, 3, 22).unwrap();
        assert_eq!(file_name(&at, "Raspberry Pi", "plot", "png"), "2026-12-06_14-03-22_raspberry-pi_plot.png");
        assert_eq!(
            file_name(&at, "Raspberry Pi (password, 1883)", "packets-connect-3", "txt"),
            "2026-12-06_14-03-22_raspberry-pi-password-1883_packets-connect-3.txt"
        );
    }

    #[test]
    fn a_taken_name_gets_a_number_and_nothing_is_overwritten() {
        let folder = std::env::temp_dir().join(format!("mqtt-lab-reports-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        let nested = folder.join("lab 3");
        let first = create_unique(&nested, "a_plot.png").unwrap();
        std::fs::write(&first, b"first").unwrap();
        let second = create_unique(&nested, "a_plot.png").unwrap();
        let third = create_unique(&nested, "a_plot.png").unwrap();
        let bare = create_unique(&nested, "notes").unwrap();
        let bare_again = create_unique(&nested, "notes").unwrap();
        assert_eq!(first, nested.join("a_plot.png"));
        assert_eq!(second, nested.join("a_plot-2.png"));
        assert_eq!(third, nested.join("a_plot-3.png"));
        assert_eq!((bare, bare_again), (nested.join("notes"), nested.join("notes-2")));
        assert_eq!(std::fs::read(&first).unwrap(), b"first", "the first file is untouched");
        discard(&third);
        assert!(!third.exists());
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn a_folder_that_cannot_be_made_is_an_error_in_words() {
        let file = std::env::temp_dir().join(format!("mqtt-lab-reports-file-{}", std::process::id()));
        std::fs::write(&file, b"not a folder").unwrap();
        let error = create_unique(&file.join("inside"), "x.png").unwrap_err();
        assert!(error.starts_with(&file.join("inside").display().to_string()), "{error}");
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn the_latest_notice_replaces_the_last_and_a_saved_one_goes_after_a_while() {
        let mut notices = Notices::default();
        let start = Instant::now();
        assert_eq!(notices.current(start), None);
        notices.tx.send(Notice::Failed("disk full".into())).unwrap();
        notices.tx.send(Notice::saved(Path::new("/r/a.png"), "")).unwrap();
        assert_eq!(notices.current(start), Some(&Notice::saved(Path::new("/r/a.png"), "")));
        assert!(notices.current(start + SAVED_FOR / 2).is_some());
        assert_eq!(notices.current(start + SAVED_FOR), None);
        notices.tx.send(Notice::Failed("disk full".into())).unwrap();
        assert!(notices.current(start).is_some());
        assert!(notices.current(start + SAVED_FOR * 100).is_some(), "an error stays until dismissed");
    }
}
