//! The Python interpreter for tests that judge the broker with paho-mqtt 2.x (MQTT 5 clients):
//! `MQTT_LAB_PYTHON` if set, else a venv under the workspace's `target/py-venv`, made on first
//! use from `broker/tests/requirements-python.txt`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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
    let _lock = DirLock::acquire(&root.join("target").join("py-venv.lock"));
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

/// A lock across processes: a directory, which only one creator can make. A lock left by a
/// killed test binary is taken over once it is older than any venv build.
struct DirLock(PathBuf);

impl DirLock {
    fn acquire(path: &Path) -> Self {
        let start = Instant::now();
        loop {
            match std::fs::create_dir(path) {
                Ok(()) => return Self(path.to_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
                    if age.is_some_and(|age| age > LOCK_PATIENCE) {
                        let _ = std::fs::remove_dir(path);
                        continue;
                    }
                    assert!(
                        start.elapsed() < LOCK_PATIENCE,
                        "{} stays locked; remove it if no test runs",
                        path.display()
                    );
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
