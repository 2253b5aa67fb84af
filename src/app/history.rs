//! The app's side of the history: each received message is recorded under the connected
//! profile's name; a profile's newest messages are reloaded when the app starts and when the
//! profile is chosen while disconnected. Reading runs off the UI thread.

use std::time::Duration;

use super::{App, Background};
use crate::connection::ReceivedMessage;
use crate::history::{self, HistoryWriter, Record, Report};
use crate::model::{PAGE, StoredKey};

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
        // The status panel's $SYS figures stay out of the history, as out of the list.
        if !self.model.subscriptions.listed(&message.topic) {
            return;
        }
        if let (Some(writer), Some(profile)) = (&self.history, self.connected_profile()) {
            writer.record(Record { profile: profile.to_owned(), message: message.clone() });
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
        // The boundary between memory and history moved: count the stored rows again now.
        self.stored_checked = None;
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
                    self.model.stored.reset();
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

/// How often the list's boundary between memory and history is checked while messages arrive.
const STORED_RECHECK: Duration = Duration::from_secs(2);

impl App {
    /// Keeps the list's stored rows in step: received before the oldest message in memory, of the
    /// profile on view (the connection's), matching the search. A changed key is counted again
    /// off the UI thread.
    pub(super) fn stored_logic(&mut self) {
        let Some(path) = self.history_path.clone() else { return };
        let search = self.messages_view.search.clone();
        let profile = self.view_profile().name.clone();
        let changed = self.model.stored.key().is_none_or(|k| k.search != search || k.profile != profile);
        if self.stored_counting || !changed && self.stored_checked.is_some_and(|t| t.elapsed() < STORED_RECHECK) {
            return;
        }
        self.stored_checked = Some(std::time::Instant::now());
        let before_ms = self.model.messages.oldest().map_or(i64::MAX, |m| history::millis(m.at));
        let key = StoredKey { profile, before_ms, search };
        if !self.model.stored.set_key(key.clone()) {
            return;
        }
        self.stored_counting = true;
        self.off_thread(move || {
            let count = history::open(&path)
                .and_then(|db| history::count_before(&db, &key.profile, key.before_ms, &key.search))
                .map_err(|e| format!("The stored messages could not be counted: {e}"));
            Background::StoredCount(key, count)
        });
    }

    /// Reads pages of stored rows that came into view.
    pub(super) fn read_pages(&mut self, pages: Vec<u64>) {
        let (Some(path), Some(key)) = (self.history_path.clone(), self.model.stored.key().cloned()) else { return };
        for page in pages {
            self.model.stored.asked(page);
            let (path, key) = (path.clone(), key.clone());
            self.off_thread(move || {
                let rows = history::open(&path).and_then(|db| {
                    history::page_before(&db, &key.profile, key.before_ms, &key.search, (page * PAGE, PAGE))
                });
                match rows {
                    Ok(rows) => Background::StoredPage(key, page, rows),
                    Err(e) => Background::Note(format!("Stored messages could not be read: {e}")),
                }
            });
        }
    }
}
