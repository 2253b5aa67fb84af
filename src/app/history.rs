//! The app's side of the history: each received message is recorded under the connected
//! profile's name; a profile's newest messages are reloaded when the app starts and when the
//! profile is chosen while disconnected. Reading runs off the UI thread.

use std::time::Duration;

use super::{App, Background};
use crate::connection::ReceivedMessage;
use crate::history::{self, HistoryWriter, Record, Report};

/// Messages reloaded into the list from history.
pub(super) const RELOAD: usize = 10_000;

impl App {
    pub(super) fn start_history(&mut self) {
        let Some(path) = self.history_path.clone() else { return };
        let (tx, repaint) = (self.background_tx.clone(), self.repaint.clone());
        let report = move |r: Report| {
            let _ = tx.send(Background::Writer(r));
            repaint();
        };
        match HistoryWriter::start(path, report) {
            Ok(writer) => self.history = Some(writer),
            Err(e) => self.model.note(format!("History is off: {e}")),
        }
        self.reload_history();
    }

    pub(super) fn record(&self, message: &ReceivedMessage) {
        if let (Some(writer), Some(profile)) = (&self.history, &self.connected_profile) {
            writer.record(Record { profile: profile.clone(), message: message.clone() });
        }
    }

    /// Reads the selected profile's newest messages on the blocking pool.
    pub(super) fn reload_history(&self) {
        let Some(path) = self.history_path.clone() else { return };
        let profile = self.profile().name.clone();
        // What was received a moment ago may still wait in the writer's batch.
        let flushed = self.history.as_ref().map(HistoryWriter::flush);
        self.off_thread(move || {
            if let Some(flushed) = flushed {
                let _ = flushed.recv_timeout(Duration::from_secs(5));
            }
            match history::open(&path).and_then(|db| history::newest(&db, &profile, RELOAD)) {
                Ok(messages) => Background::Reloaded { profile, messages },
                Err(e) => Background::Note(format!("The history of {profile} could not be read: {e}")),
            }
        });
    }

    /// Shows reloaded messages, unless the user has moved on (another profile, or connected).
    pub(super) fn history_loaded(&mut self, profile: &str, messages: Vec<ReceivedMessage>) {
        if profile != self.profile().name || self.connection.is_some() {
            return;
        }
        self.model.messages.clear();
        let n = messages.len();
        for m in messages.into_iter().rev() {
            self.model.messages.push(m);
        }
        if n > 0 {
            self.model.note(format!("Reloaded the newest {n} message(s) of {profile} from history."));
        }
    }
}

impl App {
    /// What the history writer reports: log lines, figures, a cleared profile.
    pub(super) fn writer_report(&mut self, report: Report) {
        match report {
            Report::Note(text) => self.model.note(text),
            Report::Stats(stats) => self.history_stats = Some(stats),
            Report::Cleared(profile) => {
                if profile == self.profile().name {
                    self.model.messages.clear();
                    self.reset_plot();
                }
            }
        }
    }

    pub(super) fn set_retention(&mut self, retention: history::Retention) {
        match &self.history {
            Some(writer) => writer.set_retention(retention),
            None => self.model.note("History is off: there is nothing to limit."),
        }
    }

    pub(super) fn clear_history(&mut self) {
        if let Some(writer) = &self.history {
            writer.clear(&self.profiles[self.selected].name);
        }
    }
}
