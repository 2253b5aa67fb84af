//! The app's replay: the Replay section's form, the recording read off the UI thread (a file, or
//! a range of history after the writer's batch is committed), then a `Replayer` on the I/O
//! runtime against the selected profile's broker or an open connection's, as the simulators
//! run; its progress and end drained with the other events.

use std::sync::mpsc::{Receiver, Sender, channel};

use super::App;
use crate::connection::{ConnectSettings, ReceivedMessage};
use crate::replay::{HistoryRange, Pace, Progress, Repeat, ReplayEvent, ReplayOptions, Replayer, Rewrite};
use crate::ui::{ReplayAsk, ReplayForm, ReplayShown};

/// What work off the UI thread hands back to the replay.
enum Loaded {
    /// The file dialog's answer.
    Chosen(Option<std::path::PathBuf>),
    /// The recording, or why it could not be read.
    Messages(Result<Vec<ReceivedMessage>, String>),
}

/// The Replay section's state: its form, the replay under way and what it last said.
pub(super) struct ReplayPart {
    pub form: ReplayForm,
    /// The replay running; `None` when stopped.
    replayer: Option<Replayer>,
    /// Where and how, while the recording is being read.
    starting: Option<(ConnectSettings, ReplayOptions, String)>,
    progress: Option<Progress>,
    /// The last thing the replay said, shown under its buttons.
    status: String,
    /// Results of the file dialog and the reads, drained with the events.
    tx: Sender<Loaded>,
    rx: Receiver<Loaded>,
}

impl Default for ReplayPart {
    fn default() -> Self {
        let (tx, rx) = channel();
        Self {
            form: ReplayForm::default(),
            replayer: None,
            starting: None,
            progress: None,
            status: String::new(),
            tx,
            rx,
        }
    }
}

/// A local time typed in the form ("YYYY-MM-DD HH:MM[:SS]" or RFC 3339) as Unix ms; empty: `or`.
fn local_ms(text: &str, or: i64) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(or);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .and_then(|naive| naive.and_local_timezone(chrono::Local).earliest())
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| format!("{text:?} is not a time: YYYY-MM-DD HH:MM, local"))
}

impl ReplayForm {
    /// The options as typed, or what is wrong with them.
    fn options(&self) -> Result<ReplayOptions, String> {
        let factor: f64 = self.speed.trim().parse().map_err(|_| format!("speed {:?} is not a number", self.speed))?;
        Ok(ReplayOptions {
            pace: Pace::from_factor(factor)?,
            repeat: if self.looping { Repeat::Forever } else { Repeat::Once },
            rewrite: Rewrite { remove: self.remove_prefix.clone(), add: self.add_prefix.clone() },
            qos: self.qos,
            retain: self.retain,
            properties: true,
        })
    }
}

impl App {
    /// The Replay section in the sidebar.
    pub(super) fn replay_section(&mut self, ui: &mut egui::Ui) {
        egui::CollapsingHeader::new("Replay").show(ui, |ui| {
            let open: Vec<(u64, String)> =
                (self.sessions.list().iter()).filter(|s| s.connection.is_some()).map(|s| (s.id, s.label())).collect();
            let r = &mut self.replay;
            let shown = ReplayShown {
                running: r.replayer.is_some() || r.starting.is_some(),
                progress: r.progress,
                status: &r.status,
            };
            match crate::ui::replay_panel(ui, &mut r.form, shown, &open) {
                Some(ReplayAsk::Start) => self.start_replay(),
                Some(ReplayAsk::Stop) => self.stop_replay(),
                Some(ReplayAsk::ChooseFile) => self.choose_recording(),
                None => {}
            }
        });
    }

    fn choose_recording(&self) {
        let (tx, repaint) = (self.replay.tx.clone(), self.io.repaint.clone());
        self.io.runtime.spawn(async move {
            let dialog = rfd::AsyncFileDialog::new().add_filter("JSON lines", &["jsonl", "json", "txt"]);
            let chosen = dialog.pick_file().await.map(|f| f.path().to_path_buf());
            let _ = tx.send(Loaded::Chosen(chosen));
            repaint();
        });
    }

    /// Reads the recording off the UI thread; the replay starts when it is read.
    fn start_replay(&mut self) {
        if self.replay.replayer.is_some() || self.replay.starting.is_some() {
            return;
        }
        let options = match self.replay.form.options() {
            Ok(o) => o,
            Err(e) => return self.replay.status = e,
        };
        let target = self.replay.form.target.and_then(|id| self.sessions.index_of(id));
        let open = target.and_then(|i| self.sessions.list()[i].connection.as_ref()).map(|c| c.profile.clone());
        let profile = match open {
            Some(p) => p,
            None if self.apply_port() => self.profiles.current().clone(),
            None => return,
        };
        let settings = match profile.connect_settings(self.builtin.port()) {
            Ok(s) => s,
            Err(e) => return self.replay.status = format!("Replay: {e}"),
        };
        let into = target.map_or(profile.name, |i| self.sessions.list()[i].label());
        let form = &self.replay.form;
        let load: Box<dyn FnOnce() -> Result<Vec<ReceivedMessage>, String> + Send> = if form.from_file {
            let path = std::path::PathBuf::from(form.file.trim());
            if form.file.trim().is_empty() {
                return self.replay.status = "Replay: choose a recording file (Export JSON lines) first.".into();
            }
            Box::new(move || crate::replay::from_file(&path))
        } else {
            let Some(db_path) = self.history.path.clone() else {
                return self.replay.status = "Replay: no history file is in use.".into();
            };
            let i = form.source.and_then(|id| self.sessions.index_of(id)).unwrap_or(self.sessions.shown_index());
            let Some(profile) = self.sessions.list()[i].profile_name().map(str::to_owned) else {
                return self.replay.status = "Replay: the connection on view has no history; open one.".into();
            };
            let now = crate::history::millis(std::time::SystemTime::now());
            let (from_ms, to_ms) = match (local_ms(&form.from, i64::MIN), local_ms(&form.to, now)) {
                (Ok(f), Ok(t)) => (f, t),
                (Err(e), _) | (_, Err(e)) => return self.replay.status = format!("Replay: {e}"),
            };
            let range = HistoryRange {
                db_path,
                profile,
                client: self.sessions.history_client(i),
                filter: form.filter.clone(),
                from_ms,
                to_ms,
            };
            let flushed = self.history.flush();
            Box::new(move || {
                super::history::await_flush(flushed.as_ref());
                crate::replay::from_history(&range)
            })
        };
        self.replay.status = "Replay: reading the recording…".into();
        self.replay.progress = None;
        self.replay.starting = Some((settings, options, into));
        let (tx, repaint) = (self.replay.tx.clone(), self.io.repaint.clone());
        self.io.runtime.spawn_blocking(move || {
            let _ = tx.send(Loaded::Messages(load()));
            repaint();
        });
    }

    fn stop_replay(&mut self) {
        if let Some(r) = &mut self.replay.replayer {
            r.stop();
        }
    }

    /// Whether a replay runs (test API: its section says so on screen too).
    pub fn replay_running(&self) -> bool {
        self.replay.replayer.is_some() || self.replay.starting.is_some()
    }

    /// (sent, total) of the replay under way or last run (test API).
    pub fn replay_progress(&self) -> Option<(u64, Option<u64>)> {
        self.replay.progress.map(|p| (p.sent, p.total))
    }

    /// Applies what the dialog, the reads and the replay report.
    pub(super) fn drain_replay(&mut self) {
        while let Ok(loaded) = self.replay.rx.try_recv() {
            match loaded {
                Loaded::Chosen(Some(path)) => self.replay.form.file = path.display().to_string(),
                Loaded::Chosen(None) => {
                    self.replay.status = "No file chosen (or no file dialog here): type its path instead.".into();
                }
                Loaded::Messages(read) => self.recording_read(read),
            }
        }
        let r = &mut self.replay;
        while let Some(event) = r.replayer.as_ref().and_then(Replayer::try_event) {
            match event {
                ReplayEvent::Status(text) => r.status = text,
                ReplayEvent::Progress(p) => r.progress = Some(p),
                ReplayEvent::Ended { text, .. } => {
                    r.status.clone_from(&text);
                    r.replayer = None;
                    self.sessions.shown_mut().model.note(text);
                    return;
                }
            }
        }
    }

    fn recording_read(&mut self, read: Result<Vec<ReceivedMessage>, String>) {
        let Some((settings, options, into)) = self.replay.starting.take() else { return };
        match read {
            Ok(messages) if messages.is_empty() => {
                self.replay.status = "Replay: the recording holds no message.".into();
            }
            Ok(messages) => {
                let line = format!("Replay of {} message(s) started into {into}'s broker.", messages.len());
                self.sessions.shown_mut().model.note(line.clone());
                self.replay.status = line;
                let repaint = self.io.repaint.clone();
                self.replay.replayer = Some(Replayer::start(&self.io.runtime, settings, messages, options, repaint));
            }
            Err(e) => self.replay.status = format!("Replay: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_times_are_local_and_errors_say_the_format() {
        assert_eq!(local_ms("", 7), Ok(7));
        assert_eq!(local_ms("2025-11-24T16:00:00Z", 0), Ok(1_764_000_000_000));
        let local = local_ms("2025-11-24 16:00", 0).unwrap();
        let seconds = local_ms("2025-11-24 16:00:30", 0).unwrap();
        assert_eq!(seconds - local, 30_000);
        assert!(local_ms("yesterday", 0).unwrap_err().contains("YYYY-MM-DD HH:MM"));
        let form = ReplayForm { speed: "fast".into(), ..ReplayForm::default() };
        assert!(form.options().unwrap_err().contains("not a number"));
        let form = ReplayForm { speed: "0".into(), looping: true, ..ReplayForm::default() };
        let options = form.options().unwrap();
        assert_eq!((options.pace, options.repeat), (Pace::AsFastAsPossible, Repeat::Forever));
    }
}
