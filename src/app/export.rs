//! Exporting the message list: what the list shows (the search applied, muted subscriptions left
//! out of the recent ones), oldest first, the older messages streamed from the history file, written
//! on the blocking pool with a progress bar.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;

use super::reports::{self, Notice};
use super::{App, Background};
use crate::history;
use crate::model::export::{ExportFormat, Writer};

/// How far an export is.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicU64,
    pub total: AtomicU64,
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
        let model = &mut self.session.model;
        let subscriptions = model.subscriptions.clone();
        let search = self.view.messages.search.clone();
        // The recent messages as listed, oldest first.
        let listed: Vec<usize> = model.messages.search(&search, |m| subscriptions.is_hidden(&m.topic)).to_vec();
        let recent: Vec<_> = listed.iter().rev().filter_map(|i| model.messages.get(*i).cloned()).collect();
        let stored = model.stored.key().cloned().filter(|_| self.history.path.is_some());
        let progress = Arc::new(Progress::default());
        progress.total.store(recent.len() as u64 + model.stored.len(), Ordering::Relaxed);
        self.reports.export = Some(progress.clone());
        let name = reports::file_name(&chrono::Local::now(), &self.view_profile().name, "messages", format.extension());
        let folder = self.reports_folder();
        let notices = self.notice_sender();
        let history_path = self.history.path.clone();
        let repaint = self.io.repaint.clone();
        self.io.off_thread(move || {
            let path = match reports::create_unique(&folder, &name) {
                Ok(path) => path,
                Err(e) => return failed(&notices, &e),
            };
            let result = (|| -> Result<u64, String> {
                let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let mut writer = Writer::new(std::io::BufWriter::new(file), format).map_err(|e| e.to_string())?;
                let step = |writer: &mut Writer<_>, m: &crate::connection::ReceivedMessage| {
                    writer.write(m)?;
                    if progress.done.fetch_add(1, Ordering::Relaxed) % 1_000 == 0 {
                        repaint();
                    }
                    Ok(())
                };
                if let (Some(key), Some(db_path)) = (&stored, &history_path) {
                    let db = history::open(db_path).map_err(|e| e.to_string())?;
                    history::each_before(&db, &key.profile, key.before_ms, &key.search, |m| step(&mut writer, &m))?;
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
