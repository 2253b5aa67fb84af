//! Exporting the message list: what the list shows (the search applied, muted subscriptions left
//! out of the recent ones), oldest first, the older messages streamed from the history file, written
//! on the blocking pool with a progress bar.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{App, Background};
use crate::history;
use crate::model::export::{ExportFormat, Writer};
use crate::profile::file_stem;

/// How far an export is.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicU64,
    pub total: AtomicU64,
}

impl App {
    /// (done, total) of the export under way.
    pub fn export_progress(&self) -> Option<(u64, u64)> {
        self.export.as_ref().map(|p| (p.done.load(Ordering::Relaxed), p.total.load(Ordering::Relaxed)))
    }

    pub(super) fn export_messages(&mut self, format: ExportFormat) {
        if self.export.is_some() {
            return;
        }
        let subscriptions = self.model.subscriptions.clone();
        let search = self.messages_view.search.clone();
        // The recent messages as listed, oldest first.
        let listed: Vec<usize> = self.model.messages.search(&search, |m| subscriptions.is_hidden(&m.topic)).to_vec();
        let recent: Vec<_> = listed.iter().rev().filter_map(|i| self.model.messages.get(*i).cloned()).collect();
        let stored = self.model.stored.key().cloned().filter(|_| self.history_path.is_some());
        let progress = Arc::new(Progress::default());
        progress.total.store(recent.len() as u64 + self.model.stored.len(), Ordering::Relaxed);
        self.export = Some(progress.clone());
        let time = chrono::Local::now().format("%Y-%m-%d_%H-%M-%S");
        let name = format!("mqtt-lab_{}_messages_{time}.{}", file_stem(&self.view_profile().name), format.extension());
        let path = PathBuf::from(self.screenshot_folder.trim()).join(name);
        let history_path = self.history_path.clone();
        let repaint = self.repaint.clone();
        self.off_thread(move || {
            let result = (|| -> Result<u64, String> {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
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
            Background::Exported(match result {
                Ok(n) => format!("Exported {n} message(s) to {}.", path.display()),
                Err(e) => format!("The export failed: {e}"),
            })
        });
    }
}
