//! The history writer: a named thread that owns the database's write connection and commits what
//! the UI hands it in batches, one transaction at most every `FLUSH_EVERY`, so a day at hundreds
//! of messages a second costs a few commits a second, and a kill loses at most the last second.
//! It also applies the retention settings (at start, when they change, and every minute) and
//! reports the figures the History panel shows.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

use super::db::{self, Record};
use super::retention::{self, Retention, Stats};

/// Longest a received message waits before it is committed.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// A batch this large is committed at once. Each commit writes every index page the batch
/// touched, and with many topics the `(profile, topic, at_ms)` index is touched all over: over a
/// file of 1,000,000 rows and 100,000 topics a row cost 46 µs in batches of 5,000 and 27 µs in
/// batches of 25,000 (3 µs without that index). 25,000 is also what `FLUSH_EVERY` gathers at
/// 50,000 messages a second.
const BATCH_MAX: usize = 25_000;
/// How often retention is applied and the figures refreshed.
const MAINTAIN_EVERY: Duration = Duration::from_mins(1);

enum Job {
    Record(Box<Record>),
    /// Commit now and answer (tests, and before reading what was just written).
    Flush(Sender<()>),
    SetRetention(Retention),
    /// Delete one profile's history.
    Clear(String),
}

/// What the writer tells the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A line for the log (failures, what retention or a clear removed).
    Note(String),
    Stats(Stats),
    /// A profile's history was deleted.
    Cleared(String),
}

/// The UI's handle; sending never blocks. Dropping it commits what is left and ends the thread.
pub struct HistoryWriter {
    jobs: Option<Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HistoryWriter {
    /// Opens the file on the writer thread; a failure is reported through `report` (in words), and
    /// the app goes on without history.
    pub fn start(path: PathBuf, report: impl Fn(Report) + Send + 'static) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel();
        let thread = std::thread::Builder::new().name("mqtt-lab-history".into()).spawn(move || {
            // Below the UI thread: on a machine of 2 cores shared with the built-in broker,
            // a frame waited for a core the writer held (docs/PERFORMANCE.md, "Issue 22").
            // The writer only lags, and catches up when the burst is over. Refused (some
            // platforms ask for privileges): it runs as before.
            let _ = thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min);
            write(&path, &report, &rx);
        })?;
        Ok(Self { jobs: Some(jobs), thread: Some(thread) })
    }
}

fn write(path: &std::path::Path, report: &impl Fn(Report), rx: &Receiver<Job>) {
    match db::open(path) {
        Ok(conn) => Writer { conn, path, report, stats: Stats::default() }.run(rx),
        Err(e) => report(Report::Note(format!("History is off: cannot open {}: {e}", path.display()))),
    }
}

impl HistoryWriter {
    fn send(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            // After a failed open the thread is gone and jobs are dropped: history is off.
            let _ = jobs.send(job);
        }
    }

    pub fn record(&self, record: Record) {
        self.send(Job::Record(Box::new(record)));
    }

    /// Asks for a commit now; the receiver hears when it is done (or the writer has stopped).
    pub fn flush(&self) -> Receiver<()> {
        let (tx, rx) = mpsc::channel();
        self.send(Job::Flush(tx));
        rx
    }

    /// Saves the settings in the file and applies them now.
    pub fn set_retention(&self, retention: Retention) {
        self.send(Job::SetRetention(retention));
    }

    /// Deletes a profile's history (after what is waiting is committed, so nothing comes back).
    pub fn clear(&self, profile: &str) {
        self.send(Job::Clear(profile.to_owned()));
    }
}

impl Drop for HistoryWriter {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            // One last commit of at most FLUSH_EVERY's worth of messages.
            let _ = thread.join();
        }
    }
}

struct Writer<'a, F: Fn(Report)> {
    conn: rusqlite::Connection,
    path: &'a Path,
    report: &'a F,
    /// The last figures, kept up to date by each commit without counting the whole table.
    stats: Stats,
}

impl<F: Fn(Report)> Writer<'_, F> {
    fn commit(&mut self, batch: &mut Vec<Record>) {
        if batch.is_empty() {
            return;
        }
        match db::insert(&mut self.conn, batch) {
            Ok(()) => {
                for r in batch.iter() {
                    match self.stats.per_profile.iter_mut().find(|(p, _)| *p == r.profile) {
                        Some((_, n)) => *n += 1,
                        None => self.stats.per_profile.push((r.profile.clone(), 1)),
                    }
                }
                self.stats.file_bytes = retention::file_bytes(self.path);
                (self.report)(Report::Stats(self.stats.clone()));
            }
            Err(e) => {
                (self.report)(Report::Note(format!("History: {} message(s) could not be stored: {e}", batch.len())));
            }
        }
        batch.clear();
    }

    /// Applies retention and reports the figures.
    fn maintain(&mut self, changed: Option<Retention>) {
        let result = (|| {
            if let Some(r) = changed {
                retention::save(&self.conn, r)?;
            }
            let r = retention::load(&self.conn)?;
            let removed = retention::apply(&self.conn, r, SystemTime::now())?;
            if removed > 0 {
                (self.report)(Report::Note(format!(
                    "History: {removed} old message(s) removed by the retention settings."
                )));
            }
            retention::stats(&self.conn, self.path)
        })();
        match result {
            Ok(stats) => {
                self.stats = stats;
                (self.report)(Report::Stats(self.stats.clone()));
            }
            Err(e) => (self.report)(Report::Note(format!("History: retention could not be applied: {e}"))),
        }
    }

    fn clear(&mut self, profile: String) {
        match db::clear(&self.conn, &profile) {
            Ok(n) => {
                let _ = retention::give_back_space(&self.conn);
                (self.report)(Report::Note(format!("History: {n} message(s) of {profile} deleted.")));
                (self.report)(Report::Cleared(profile));
            }
            Err(e) => (self.report)(Report::Note(format!("History: {profile} could not be cleared: {e}"))),
        }
        self.maintain(None);
    }

    fn run(mut self, jobs: &Receiver<Job>) {
        let mut batch: Vec<Record> = Vec::new();
        let mut oldest: Option<Instant> = None;
        self.maintain(None);
        let mut next_maintenance = Instant::now() + MAINTAIN_EVERY;
        loop {
            // Under a steady stream a receive never times out: the deadlines are checked first.
            if oldest.is_some_and(|since| since.elapsed() >= FLUSH_EVERY) {
                self.commit(&mut batch);
                oldest = None;
            }
            if Instant::now() >= next_maintenance {
                self.maintain(None);
                next_maintenance = Instant::now() + MAINTAIN_EVERY;
            }
            let deadline = oldest.map_or(next_maintenance, |since| (since + FLUSH_EVERY).min(next_maintenance));
            match jobs.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Job::Record(record)) => {
                    batch.push(*record);
                    oldest.get_or_insert_with(Instant::now);
                    if batch.len() >= BATCH_MAX {
                        self.commit(&mut batch);
                        oldest = None;
                    }
                }
                Ok(Job::Flush(done)) => {
                    self.commit(&mut batch);
                    oldest = None;
                    let _ = done.send(());
                }
                Ok(Job::SetRetention(r)) => {
                    self.commit(&mut batch);
                    oldest = None;
                    self.maintain(Some(r));
                }
                Ok(Job::Clear(profile)) => {
                    self.commit(&mut batch);
                    oldest = None;
                    self.clear(profile);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.commit(&mut batch);
                    return;
                }
            }
        }
    }
}
