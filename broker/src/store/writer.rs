//! The `broker-store` thread: takes whatever the journal holds, commits it in one transaction
//! (one fsync for many changes: group commit), and only then releases the acknowledgements
//! that were waiting for those changes, in the order they were recorded.

use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use super::{Change, Entry, Store, StoreError};
use crate::codec::Packet;

/// The most changes committed in one transaction.
const MAX_BATCH: usize = 10_000;

/// An acknowledgement that may now be sent: client, connection, packet.
pub type Release = (Arc<str>, u64, Packet);

pub struct Writer;

impl Writer {
    /// Starts the thread. `release` sends acknowledgements whose changes are on disk; `failed`
    /// reports a commit that did not happen (its acknowledgements are never sent, so the
    /// publishers resend rather than lose the messages).
    pub fn spawn(
        mut store: Store,
        entries: Receiver<Entry>,
        release: impl Fn(Vec<Release>) + Send + 'static,
        failed: impl Fn(&StoreError) + Send + 'static,
    ) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new().name("broker-store".into()).spawn(move || {
            while let Ok(first) = entries.recv() {
                let mut changes: Vec<Change> = Vec::new();
                let mut releases = Vec::new();
                let mut syncs = Vec::new();
                let mut next = Some(first);
                while let Some(entry) = next {
                    match entry {
                        Entry::Change(c) => changes.push(c),
                        Entry::Release { client, link, packet } => releases.push((client, link, packet)),
                        Entry::Sync(done) => syncs.push(done),
                    }
                    next = if changes.len() < MAX_BATCH { entries.try_recv().ok() } else { None };
                }
                match store.apply(&changes) {
                    Ok(()) => {
                        if !releases.is_empty() {
                            release(releases);
                        }
                    }
                    Err(e) => failed(&e),
                }
                for done in syncs {
                    let _ = done.send(());
                }
            }
        })
    }
}
