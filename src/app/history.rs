//! The app's side of the history: each received message is recorded under the connected
//! profile's name; a profile's newest messages are reloaded when the app starts and when the
//! profile is chosen while disconnected. Reading runs off the UI thread.

use std::time::{Duration, Instant};

use super::{App, Background};
use crate::connection::ReceivedMessage;
use crate::history::{self, HistoryWriter, Record, Report};
use crate::model::{PAGE, StoredKey};
use crate::ui::{HistoryForm, HistoryIntent};

/// Messages reloaded into the list from history.
pub(super) const RELOAD: usize = 10_000;

/// The history file, its writer and what the app knows of it.
pub(super) struct HistoryState {
    /// The database; `None`: history is off (tests, or no data folder).
    pub path: Option<std::path::PathBuf>,
    /// The writer thread, once started; `None` when the file could not be opened.
    writer: Option<HistoryWriter>,
    /// The writer's last figures (size on disk, messages per profile, retention).
    pub stats: Option<history::Stats>,
    /// The retention fields as typed and the clear confirmation.
    pub form: HistoryForm,
    /// A count of stored rows is under way (one at a time: a new key waits for it).
    counting: bool,
    /// When the list's boundary between memory and history was last checked.
    checked: Option<Instant>,
}

impl HistoryState {
    pub fn new(path: Option<std::path::PathBuf>) -> Self {
        Self { path, writer: None, stats: None, form: HistoryForm::default(), counting: false, checked: None }
    }

    /// Asks the writer to commit what it holds; the receiver hears when it has (a read must see
    /// what was received a moment ago).
    pub fn flush(&self) -> Option<std::sync::mpsc::Receiver<()>> {
        self.writer.as_ref().map(HistoryWriter::flush)
    }

    /// A stored-rows count came back: the next one may go.
    pub fn counted(&mut self) {
        self.counting = false;
    }
}

impl App {
    pub(super) fn apply_history(&mut self, intent: HistoryIntent) {
        match intent {
            HistoryIntent::SetRetention(r) => self.set_retention(r),
            HistoryIntent::Clear => self.clear_history(),
        }
    }

    pub(super) fn start_history(&mut self) {
        let Some(path) = self.history.path.clone() else { return };
        let report = self.io.reporter();
        match HistoryWriter::start(path, move |r: Report| report(Background::Writer(r))) {
            Ok(writer) => self.history.writer = Some(writer),
            Err(e) => self.sessions.shown_mut().model.note(format!("History is off: {e}")),
        }
        self.reload_history();
    }

    /// Records a message session `i` received, under its profile.
    pub(super) fn record(&self, i: usize, message: &ReceivedMessage) {
        let session = &self.sessions.list()[i];
        // The status panel's $SYS figures stay out of the history, as out of the list.
        if !session.model.subscriptions.listed(&message.topic) {
            return;
        }
        if let (Some(writer), Some(c)) = (&self.history.writer, &session.connection) {
            writer.record(Record::new(c.profile.name.as_str(), c.client_id.as_str(), message.clone()));
        }
    }

    /// Reads the selected profile's newest messages on the blocking pool.
    pub(super) fn reload_history(&self) {
        let Some(path) = self.history.path.clone() else { return };
        let profile = self.profiles.current().name.clone();
        // What was received a moment ago may still wait in the writer's batch.
        let flushed = self.history.flush();
        self.io.off_thread(move || {
            await_flush(flushed.as_ref());
            match history::open(&path).and_then(|db| history::newest(&db, &profile, RELOAD)) {
                Ok(messages) => Background::Reloaded { profile, messages },
                Err(e) => Background::Note(format!("The history of {profile} could not be read: {e}")),
            }
        });
    }

    /// Shows reloaded messages, unless the user has moved on (another profile, or connected).
    pub(super) fn history_loaded(&mut self, profile: &str, messages: Vec<ReceivedMessage>) {
        if profile != self.profiles.current().name || self.sessions.shown().connection.is_some() {
            return;
        }
        let model = &mut self.sessions.shown_mut().model;
        model.messages.clear();
        // The boundary between memory and history moved: count the stored rows again now.
        self.history.checked = None;
        let n = messages.len();
        for m in messages.into_iter().rev() {
            model.messages.push(m);
        }
        if n > 0 {
            model.note(format!("Reloaded the newest {n} message(s) of {profile} from history."));
        }
    }
}

impl App {
    /// What the history writer reports: log lines, figures, a cleared profile.
    pub(super) fn writer_report(&mut self, report: Report) {
        match report {
            Report::Note(text) => self.sessions.shown_mut().model.note(text),
            Report::Stats(stats) => self.history.stats = Some(stats),
            Report::Cleared(profile) => {
                // Every session showing that profile's messages: the blank one shows the selected's.
                let selected = self.profiles.current().name.clone();
                for i in 0..self.sessions.len() {
                    let s = self.sessions.at_mut(i);
                    if s.profile_name().unwrap_or(&selected) == profile {
                        s.model.messages.clear();
                        s.model.stored.reset();
                    }
                }
                if self.view_profile().name == profile {
                    self.reset_plot();
                }
            }
        }
    }

    fn set_retention(&mut self, retention: history::Retention) {
        match &self.history.writer {
            Some(writer) => writer.set_retention(retention),
            None => self.sessions.shown_mut().model.note("History is off: there is nothing to limit."),
        }
    }

    fn clear_history(&mut self) {
        if let Some(writer) = &self.history.writer {
            writer.clear(&self.profiles.current().name);
        }
    }
}

/// Waits (off the UI thread) for the writer's commit asked for by `HistoryState::flush`: a
/// stopped writer answers at once; a stuck one is not waited for forever.
pub(super) fn await_flush(flushed: Option<&std::sync::mpsc::Receiver<()>>) {
    if let Some(flushed) = flushed {
        let _ = flushed.recv_timeout(Duration::from_secs(5));
    }
}

/// How often the list's boundary between memory and history is checked while messages arrive.
const STORED_RECHECK: Duration = Duration::from_secs(2);

impl App {
    /// Keeps the list's stored rows in step: received before the oldest message in memory, of the
    /// profile on view (the connection's), matching the search. A changed key is counted again
    /// off the UI thread.
    pub(super) fn stored_logic(&mut self) {
        let Some(path) = self.history.path.clone() else { return };
        let search = self.view.messages.search.clone();
        let profile = self.view_profile().name.clone();
        let session = self.sessions.shown().id;
        let client = self.sessions.history_client(self.sessions.shown_index());
        let model = &mut self.sessions.shown_mut().model;
        let before_ms = model.messages.oldest().map_or(i64::MAX, |m| history::millis(m.at));
        // A boundary later than the oldest message in memory (taken while memory was empty) would
        // list the messages that came since twice: that is checked at once, not in 2 s.
        let changed = model.stored.key().is_none_or(|k| {
            k.search != search || k.profile != profile || k.client != client || k.before_ms > before_ms
        });
        if self.history.counting || !changed && self.history.checked.is_some_and(|t| t.elapsed() < STORED_RECHECK) {
            return;
        }
        self.history.checked = Some(Instant::now());
        let key = StoredKey { profile, client, before_ms, search };
        if !model.stored.set_key(key.clone()) {
            return;
        }
        self.history.counting = true;
        self.io.off_thread(move || {
            let count = history::open(&path)
                .and_then(|db| history::count_before(&db, whose(&key), key.before_ms, &key.search))
                .map_err(|e| format!("The stored messages could not be counted: {e}"));
            Background::StoredCount(session, key, count)
        });
    }

    /// Reads pages of stored rows that came into view.
    pub(super) fn read_pages(&mut self, pages: Vec<u64>) {
        let (Some(path), Some(key)) = (self.history.path.clone(), self.sessions.shown().model.stored.key().cloned())
        else {
            return;
        };
        let session = self.sessions.shown().id;
        for page in pages {
            self.sessions.shown_mut().model.stored.asked(page);
            let (path, key) = (path.clone(), key.clone());
            self.io.off_thread(move || {
                let rows = history::open(&path).and_then(|db| {
                    history::page_before(&db, whose(&key), key.before_ms, &key.search, (page * PAGE, PAGE))
                });
                match rows {
                    Ok(rows) => Background::StoredPage(session, key, page, rows),
                    Err(e) => Background::Note(format!("Stored messages could not be read: {e}")),
                }
            });
        }
    }
}

/// Whose rows a stored-rows key reads.
fn whose(key: &StoredKey) -> history::Whose<'_> {
    history::Whose { profile: &key.profile, client: key.client.as_deref() }
}
