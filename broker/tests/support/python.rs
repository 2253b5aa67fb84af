//! The Python interpreter for tests that judge the broker with paho-mqtt 2.x (MQTT 5 clients):
//! `MQTT_LAB_PYTHON` if set, else a venv under the workspace's `target/py-venv`, made on first
//! use from `broker/tests/requirements-python.txt`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::dir_lock::DirLock;

/// How long a test binary waits for another one that is making the venv (pip downloads).
const LOCK_PATIENCE: Duration = Duration::from_mins(10);

/// The interpreter with paho-mqtt; made once per test binary, and once per machine across
/// binaries running in parallel.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(find)
}

fn find() -> PathBuf {
    if let Some(python) = std::env::var_os("MQTT_LAB_PYTHON") {
        return python.into();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("broker/ is in the workspace");
    let venv = root.join("target").join("py-venv");
    let python = venv.join(if cfg!(windows) { "Scripts/python.exe" } else { "bin/python" });
    let requirements = root.join("broker/tests/requirements-python.txt");
    // Checked under the lock: another binary may be halfway through pip.
    let _lock = DirLock::acquire(&root.join("target").join("py-venv.lock"), LOCK_PATIENCE);
    if !has_paho(&python) {
        make_venv(&venv, &python, &requirements);
    }
    python
}

fn has_paho(python: &Path) -> bool {
    python.exists()
        && Command::new(python).args(["-c", "import paho.mqtt.client"]).output().is_ok_and(|out| out.status.success())
}

fn make_venv(venv: &Path, python: &Path, requirements: &Path) {
    let fix = format!(
        "python3 -m venv {venv} && {python} -m pip install -r {requirements}",
        venv = venv.display(),
        python = python.display(),
        requirements = requirements.display()
    );
    let base = if cfg!(windows) { "python" } else { "python3" };
    let steps: [(PathBuf, Vec<&std::ffi::OsStr>); 2] = [
        (base.into(), vec!["-m".as_ref(), "venv".as_ref(), venv.as_os_str()]),
        (
            python.into(),
            vec![
                "-m".as_ref(),
                "pip".as_ref(),
                "install".as_ref(),
                "-q".as_ref(),
                "-r".as_ref(),
                requirements.as_os_str(),
            ],
        ),
    ];
    for (program, args) in steps {
        let out = Command::new(&program).args(&args).output().unwrap_or_else(|e| {
            panic!("cannot run {} ({e}); the paho-mqtt tests need Python 3 with venv (Debian: python3-venv); or run: {fix}", program.display())
        });
        assert!(
            out.status.success(),
            "{} {args:?} failed:\n{}{}\nmake the venv by hand: {fix}\n(or set MQTT_LAB_PYTHON to a python with paho-mqtt 2.x)",
            program.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
