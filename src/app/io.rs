//! The app's way to the I/O runtime: work off the UI thread (file work, dialogs, history reads,
//! the self-test) is spawned here and reports back as a [`Background`] through one channel that
//! `logic()` drains, followed by a repaint so the result shows without waiting for input.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::check::{Step, StepReport};
use crate::connection::{ReceivedMessage, Repaint};
use crate::profile::Profile;
use crate::ui::FileTarget;

/// What file work off the UI thread reports back.
pub(super) enum Background {
    Note(String),
    Chosen(FileTarget, std::path::PathBuf),
    PlotLoaded(Box<crate::plot::Loaded>),
    Screenshot(Arc<egui::ColorImage>),
    /// An export ended: what it wrote, or why not.
    Exported(String),
    Imported(Box<Profile>),
    SelfTestStep(StepReport),
    /// A count of stored rows for session `.0`'s list.
    StoredCount(u64, crate::model::StoredKey, Result<u64, String>),
    /// A page of stored rows for session `.0`'s list.
    StoredPage(u64, crate::model::StoredKey, u64, Vec<ReceivedMessage>),
    SelfTestDone(Result<(), Step>),
    Reloaded {
        profile: String,
        messages: Vec<ReceivedMessage>,
    },
    Writer(crate::history::Report),
    Topics(super::topics::TopicsDone),
}

/// The runtime, the repaint hook and the channel background work reports on.
pub(super) struct Io {
    /// The tokio runtime `main` made (two `mqtt-lab-io` threads): connections, simulators,
    /// the self-test and the blocking pool for file work. The UI thread never blocks on it.
    pub runtime: tokio::runtime::Handle,
    /// Asks egui for a frame: called by every worker after it sends something.
    pub repaint: Repaint,
    /// Results of work off the UI thread, drained in `logic()`.
    pub rx: Receiver<Background>,
    /// Cloned into every job that reports back.
    pub tx: Sender<Background>,
}

impl Io {
    pub fn new(ctx: &egui::Context, runtime: tokio::runtime::Handle) -> Self {
        let repaint_ctx = ctx.clone();
        let repaint: Repaint = Arc::new(move || repaint_ctx.request_repaint());
        let (tx, rx) = channel();
        Self { runtime, repaint, rx, tx }
    }

    /// Runs `job` on the blocking pool; what it returns comes back through the channel.
    pub fn off_thread(&self, job: impl FnOnce() -> Background + Send + 'static) {
        let (done, repaint) = (self.tx.clone(), self.repaint.clone());
        self.runtime.spawn_blocking(move || {
            let _ = done.send(job());
            repaint();
        });
    }

    /// A sender that also asks for a frame: for async work that reports more than once.
    pub fn reporter(&self) -> impl Fn(Background) + Send + Sync + Clone + 'static {
        let (tx, repaint) = (self.tx.clone(), self.repaint.clone());
        move |b| {
            let _ = tx.send(b);
            repaint();
        }
    }
}
