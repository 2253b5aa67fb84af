//! A lock across test binaries running in parallel, for one-time set-ups (the Python venv, the
//! node packages): a directory, which only one creator can make.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A lock across processes: a directory, which only one creator can make. A lock left by a
/// killed test binary is taken over once it is older than any venv build.
pub struct DirLock(PathBuf);

impl DirLock {
    /// Waits up to `patience` for the lock; a lock older than that is taken over.
    pub fn acquire(path: &Path, patience: Duration) -> Self {
        let start = Instant::now();
        loop {
            match std::fs::create_dir(path) {
                Ok(()) => return Self(path.to_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
                    if age.is_some_and(|age| age > patience) {
                        let _ = std::fs::remove_dir(path);
                        continue;
                    }
                    assert!(start.elapsed() < patience, "{} stays locked; remove it if no test runs", path.display());
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot make the lock {} ({e})", path.display()),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}
