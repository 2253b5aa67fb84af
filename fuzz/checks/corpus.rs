//! Replays a fuzz target's committed inputs through its check, naming the input that fails.
#![allow(dead_code, reason = "shared by two test crates")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Where a target's committed inputs are: seeds, minimized corpus, past findings.
const SETS: [&str; 3] = ["seeds", "corpus", "regressions"];

fn fuzz_dir() -> PathBuf {
    // Both test crates sit one level below the workspace root (broker/, or the root itself).
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [manifest.join("fuzz"), manifest.join("../fuzz")].into_iter().find(|d| d.is_dir()).expect("the fuzz folder")
}

/// Runs `check` on every committed input of `target`; panics naming each input that fails.
pub fn replay(target: &str, check: fn(&[u8])) {
    let root = fuzz_dir();
    let mut inputs = Vec::new();
    for set in SETS {
        if let Ok(entries) = std::fs::read_dir(root.join(set).join(target)) {
            inputs.extend(entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    inputs.sort();
    assert!(!inputs.is_empty(), "no committed inputs for {target} under {}", root.display());
    let failed: Vec<String> = inputs
        .iter()
        .filter_map(|path| {
            let data = std::fs::read(path).expect("a corpus file reads");
            catch_unwind(AssertUnwindSafe(|| check(&data))).err().map(|_| path.display().to_string())
        })
        .collect();
    assert!(failed.is_empty(), "{} of {} inputs of {target} fail: {failed:?}", failed.len(), inputs.len());
}
