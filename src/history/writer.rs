//! The history writer: a named thread that owns the database's write connection and commits what
//! the UI hands it in batches, one transaction at most every `FLUSH_EVERY`, so a day at hundreds
//! of messages a second costs a few commits a second, and a kill loses at most the last second.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use super::db::{self, Record};

/// Longest a received message waits before it is committed.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// A batch this large is committed at once.
const BATCH_MAX: usize = 5_000;

enum Job {
    Record(Record),
    /// Commit now and answer (tests, and before reading what was just written).
    Flush(Sender<()>),
}

/// The UI's handle; sending never blocks. Dropping it commits what is left and ends the thread.
pub struct HistoryWriter {
    jobs: Option<Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HistoryWriter {
    /// Opens the file on the writer thread; a failure is reported through `report` (in words), and
    /// the app goes on without history.
    pub fn start(path: PathBuf, report: impl Fn(String) + Send + 'static) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel();
        let thread =
            std::thread::Builder::new().name("mqtt-lab-history".into()).spawn(move || match db::open(&path) {
                Ok(conn) => run(conn, &rx, &report),
                Err(e) => report(format!("History is off: cannot open {}: {e}", path.display())),
            })?;
        Ok(Self { jobs: Some(jobs), thread: Some(thread) })
    }

    pub fn record(&self, record: Record) {
        if let Some(jobs) = &self.jobs {
            // After a failed open the thread is gone and records are dropped: history is off.
            let _ = jobs.send(Job::Record(record));
        }
    }

    /// Asks for a commit now; the receiver hears when it is done (or the writer has stopped).
    pub fn flush(&self) -> Receiver<()> {
        let (tx, rx) = mpsc::channel();
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::Flush(tx));
        }
        rx
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

fn run(mut conn: rusqlite::Connection, jobs: &Receiver<Job>, report: &impl Fn(String)) {
    let mut batch: Vec<Record> = Vec::new();
    let mut oldest: Option<Instant> = None;
    let mut commit = |batch: &mut Vec<Record>, oldest: &mut Option<Instant>| {
        if !batch.is_empty()
            && let Err(e) = db::insert(&mut conn, batch)
        {
            report(format!("History: {} message(s) could not be stored: {e}", batch.len()));
        }
        batch.clear();
        *oldest = None;
    };
    loop {
        // Under a steady stream a receive never times out: the deadline is checked first.
        if oldest.is_some_and(|since| since.elapsed() >= FLUSH_EVERY) {
            commit(&mut batch, &mut oldest);
        }
        let job = match oldest {
            Some(since) => jobs.recv_timeout(FLUSH_EVERY.saturating_sub(since.elapsed())),
            None => jobs.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match job {
            Ok(Job::Record(record)) => {
                batch.push(record);
                oldest.get_or_insert_with(Instant::now);
                if batch.len() >= BATCH_MAX {
                    commit(&mut batch, &mut oldest);
                }
            }
            Ok(Job::Flush(done)) => {
                commit(&mut batch, &mut oldest);
                let _ = done.send(());
            }
            Err(RecvTimeoutError::Timeout) => commit(&mut batch, &mut oldest),
            Err(RecvTimeoutError::Disconnected) => {
                commit(&mut batch, &mut oldest);
                return;
            }
        }
    }
}
