//! node and the packages of `interop/node` (MQTT.js, aedes, ws) for the WebSocket interop tests:
//! installed there by `npm ci` on first use (once per machine across test binaries running in
//! parallel), unless CI did it already. Shared by the app's and the broker's tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::dir_lock::DirLock;

/// npm downloads the packages: minutes on a slow network.
const LOCK_PATIENCE: Duration = Duration::from_mins(10);

/// `interop/node`, with its `node_modules` installed.
pub fn interop_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(install)
}

/// `node` running in `interop/node` (so `require('mqtt')` finds its packages).
pub fn node() -> Command {
    let mut command = Command::new("node");
    command.current_dir(interop_dir());
    command
}

fn workspace_root() -> PathBuf {
    // This file is compiled into the app's tests (tests/) and the broker's (broker/tests/).
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    if manifest.join("interop").exists() {
        manifest.to_owned()
    } else {
        manifest.parent().unwrap_or(manifest).to_owned()
    }
}

fn installed(dir: &Path) -> bool {
    ["mqtt", "aedes", "ws"].iter().all(|p| dir.join("node_modules").join(p).join("package.json").exists())
}

fn install() -> PathBuf {
    let root = workspace_root();
    let dir = root.join("interop").join("node");
    if installed(&dir) {
        return dir;
    }
    let _lock = DirLock::acquire(&root.join("target").join("node-modules.lock"), LOCK_PATIENCE);
    // Checked again under the lock: another binary may have installed them meanwhile.
    if !installed(&dir) {
        let fix = format!("npm ci --prefix {}", dir.display());
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run npm ({e}); the WebSocket tests need node and npm (Debian: nodejs npm), then: {fix}")
            });
        assert!(
            out.status.success(),
            "npm ci failed:\n{}{}\ninstall by hand: {fix}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}
