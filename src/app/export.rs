//! Exporting the message list: what the list shows (the search applied, muted subscriptions left
//! out of the recent ones), oldest first, the older messages streamed from the history file, written
//! on the blocking pool with a progress bar.
//!
//! Each message is written once, however recent: the cut between the history file and memory is
//! taken when the export starts (not the list's, which is only re-checked every few seconds), and
//! the writer's batch is committed before the file is read. The cut is a time: messages received
//! before the millisecond after the oldest one in memory come from the file, the rest from memory.
//! Memory may lack part of its oldest millisecond (the bound dropped some, or a reload stopped
//! inside it), so that millisecond is read from the file, which holds all of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;

use super::reports::{self, Notice};
use super::{App, Background};
use crate::connection::ReceivedMessage;
use crate::history;
use crate::model::export::{ExportFormat, Writer};

/// How far an export is.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicU64,
    pub total: AtomicU64,
}

/// The part of an export read from the history file.
struct Stored {
    db_path: std::path::PathBuf,
    profile: String,
    /// The connection's own rows only, when its profile is open more than once.
    client: Option<String>,
    search: String,
    /// Rows received before this (Unix ms) come from the file.
    cut_ms: i64,
    /// The oldest millisecond in memory: its rows come from the file, but those of muted
    /// subscriptions are left out as they are from memory.
    from_memory_ms: i64,
    /// Commits the writer's batch; answered when done.
    flushed: Option<std::sync::mpsc::Receiver<()>>,
}

impl App {
    /// (done, total) of the export under way.
    pub(super) fn export_progress(&self) -> Option<(u64, u64)> {
        self.reports.export.as_ref().map(|p| (p.done.load(Ordering::Relaxed), p.total.load(Ordering::Relaxed)))
    }

    pub(super) fn export_messages(&mut self, format: ExportFormat) {
        if self.reports.export.is_some() {
            return;
        }
        let profile = self.view_profile().name.clone();
        let client = self.sessions.history_client(self.sessions.shown_index());
        let model = &mut self.sessions.shown_mut().model;
        let subscriptions = model.subscriptions.clone();
        let search = self.view.messages.search.clone();
        let oldest_ms = model.messages.oldest().map_or(i64::MAX, |m| history::millis(m.at));
        let stored = self.history.path.clone().map(|db_path| Stored {
            db_path,
            profile,
            client,
            search: search.clone(),
            cut_ms: oldest_ms.saturating_add(1),
            from_memory_ms: oldest_ms,
            flushed: self.history.flush(),
        });
        // The recent messages as listed, oldest first, after the cut.
        let cut_ms = stored.as_ref().map_or(i64::MIN, |s| s.cut_ms);
        let listed: Vec<usize> = model.messages.search(&search, |m| subscriptions.is_hidden(&m.topic)).to_vec();
        let recent: Vec<_> = listed
            .iter()
            .rev()
            .filter_map(|i| model.messages.get(*i))
            .filter(|m| history::millis(m.at) >= cut_ms)
            .cloned()
            .collect();
        let progress = Arc::new(Progress::default());
        progress.total.store(recent.len() as u64 + model.stored.len(), Ordering::Relaxed);
        self.reports.export = Some(progress.clone());
        let name = reports::file_name(&chrono::Local::now(), &self.view_label(), "messages", format.extension());
        let folder = self.reports_folder();
        let notices = self.notice_sender();
        let repaint = self.io.repaint.clone();
        self.io.off_thread(move || {
            let path = match reports::create_unique(&folder, &name) {
                Ok(path) => path,
                Err(e) => return failed(&notices, &e),
            };
            let result = (|| -> Result<u64, String> {
                let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let mut writer = Writer::new(std::io::BufWriter::new(file), format).map_err(|e| e.to_string())?;
                let step = |writer: &mut Writer<_>, m: &ReceivedMessage| {
                    writer.write(m)?;
                    if progress.done.fetch_add(1, Ordering::Relaxed) % 1_000 == 0 {
                        repaint();
                    }
                    Ok(())
                };
                if let Some(stored) = stored {
                    super::history::await_flush(stored.flushed.as_ref());
                    let db = history::open(&stored.db_path).map_err(|e| e.to_string())?;
                    let Stored { profile, client, search, cut_ms, from_memory_ms, .. } = &stored;
                    let whose = history::Whose { profile, client: client.as_deref() };
                    let older = history::count_before(&db, whose, *cut_ms, search).map_err(|e| e.to_string())?;
                    progress.total.store(older + recent.len() as u64, Ordering::Relaxed);
                    history::each_before(&db, whose, *cut_ms, search, |m| {
                        if history::millis(m.at) >= *from_memory_ms && subscriptions.is_hidden(&m.topic) {
                            return Ok(());
                        }
                        step(&mut writer, &m)
                    })?;
                }
                for m in &recent {
                    step(&mut writer, m).map_err(|e: std::io::Error| e.to_string())?;
                }
                writer.finish().map_err(|e| e.to_string())
            })();
            match result {
                Ok(n) => {
                    let _ = notices.send(Notice::saved(&path, format!("{n} message(s)")));
                    Background::Exported(format!("Exported {n} message(s) to {}.", path.display()))
                }
                Err(e) => {
                    reports::discard(&path);
                    failed(&notices, &e)
                }
            }
        });
    }
}

/// An export that wrote nothing: the reason in the Log and the notice.
fn failed(notices: &Sender<Notice>, why: &str) -> Background {
    let line = format!("The export failed: {why}");
    let _ = notices.send(Notice::Failed(line.clone()));
    Background::Exported(line)
}
