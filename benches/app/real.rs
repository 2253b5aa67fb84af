//! The real `mqtt-lab` binary under X (Xvfb when no DISPLAY is set): `startup` (a fresh home) and
//! `cold` (issue 22: a home with 10 profiles and 1,000,000 messages in history), each timed from
//! spawning the process to its first frame (the app says when on stderr, with
//! `MQTT_LAB_STARTUP_PROBE` set), with its resident memory after 5 s idle, 5 runs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support::ProfileDir;

/// Runs per scenario: the median and the worst are reported.
const RUNS: usize = 5;
/// Messages and distinct topics in the cold start's history file.
const COLD_ROWS: u64 = 1_000_000;
const COLD_TOPICS: u64 = 100_000;
/// Profiles in the cold start's profile folder: the 5 examples and 5 more.
const COLD_PROFILES: usize = 10;

/// An X server for the real window: the one in DISPLAY, or Xvfb on a free display number.
fn x_server() -> (String, Option<Child>) {
    if let Ok(display) = std::env::var("DISPLAY") {
        return (display, None);
    }
    let n = (90..200).find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()).unwrap_or(99);
    let child = Command::new("Xvfb")
        .args([format!(":{n}"), "-screen".into(), "0".into(), "1280x1024x24".into()])
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb (apt-get install xvfb) or a DISPLAY");
    let socket = format!("/tmp/.X11-unix/X{n}");
    let start = Instant::now();
    while !Path::new(&socket).exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    (format!(":{n}"), Some(child))
}

/// Resident memory in MiB: all of it, and the part in the graphics driver's libraries (Mesa's
/// software renderer under Xvfb: libLLVM, the DRI and Vulkan drivers), which a machine with a
/// GPU replaces with its own driver.
fn rss_mib(pid: u32) -> (f64, f64) {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let (mut all, mut driver, mut in_driver) = (0u64, 0u64, false);
    for line in smaps.lines() {
        if let Some(kb) = line.strip_prefix("Rss:") {
            let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
            all += kb;
            if in_driver {
                driver += kb;
            }
        } else if line.split_whitespace().next().is_some_and(|r| r.contains('-') && !r.ends_with(':')) {
            let path = line.split_whitespace().nth(5).unwrap_or("");
            in_driver = ["libLLVM", "/dri/", "libvulkan", "libgallium", "libGLX_mesa", "libglapi"]
                .iter()
                .any(|p| path.contains(p));
        }
    }
    (all as f64 / 1024.0, driver as f64 / 1024.0)
}

/// One run of the binary with `home` as its home: what it said about its first frame, the
/// milliseconds from spawn to that line, and its RSS (all, graphics driver) after 5 s idle.
fn run_app(display: &str, home: &Path) -> (String, f64, f64, f64) {
    let spawned = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mqtt-lab"))
        .env("DISPLAY", display)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("MQTT_LAB_STARTUP_PROBE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the app starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let said = lines.find_map(|l| l.ok().filter(|l| l.contains("first frame after")));
    let to_first_frame = spawned.elapsed();
    let said = said.unwrap_or_else(|| panic!("the app drew no frame"));
    std::thread::sleep(Duration::from_secs(5));
    let (rss, driver) = rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    (said, to_first_frame.as_secs_f64() * 1000.0, rss, driver)
}

/// Runs the binary `RUNS` times, a home from `home(run)` each, and prints each run and the summary.
fn runs(name: &str, home: impl Fn(usize) -> std::path::PathBuf) {
    let (display, mut xvfb) = x_server();
    let (mut starts, mut memory, mut own) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..RUNS {
        let (said, ms, rss, driver) = run_app(&display, &home(run));
        println!(
            "{name} run {run}: {said}; {ms:.0} ms from spawn; RSS after 5 s idle {rss:.1} MiB \
             ({driver:.1} MiB of it in the graphics driver)"
        );
        starts.push(ms);
        memory.push(rss);
        own.push(rss - driver);
    }
    if let Some(x) = xvfb.as_mut() {
        let _ = x.kill();
        let _ = x.wait();
    }
    for v in [&mut starts, &mut memory, &mut own] {
        v.sort_by(f64::total_cmp);
    }
    let (mid, last) = (RUNS / 2, RUNS - 1);
    println!(
        "{name}: spawn to first frame median {:.0} ms (max {:.0}); idle RSS median {:.1} MiB (max {:.1}), \
         without the graphics driver median {:.1} MiB",
        starts[mid], starts[last], memory[mid], memory[last], own[mid]
    );
}

/// Issue 9: a fresh home each run (the examples are written on this first start).
pub fn startup() {
    let homes: Vec<ProfileDir> = (0..RUNS).map(|run| ProfileDir::new(&format!("bench-startup-{run}"))).collect();
    for home in &homes {
        std::fs::create_dir_all(&home.0).expect("a home folder");
    }
    runs("startup", |run| homes[run].0.clone());
}

/// Issue 22: one home for the 5 runs, with 10 profile files (the 5 examples and 5 more) and a
/// history file of 1,000,000 messages of the selected profile (the built-in broker's) over
/// 100,000 topics, which the app counts, pages and reads into the topic tree at start.
pub fn cold() {
    use mqtt_lab::history::{self, Fill};
    use mqtt_lab::profile::{EXAMPLES, Profile, ProfileStore};
    let home = ProfileDir::new("bench-cold");
    // Where `directories` puts them on Linux under these XDG variables.
    let profiles = home.0.join("config/mqtt-lab/profiles");
    let data = home.0.join("data/mqtt-lab");
    std::fs::create_dir_all(&profiles).expect("the profile folder");
    std::fs::create_dir_all(&data).expect("the data folder");
    for (file, text) in EXAMPLES {
        std::fs::write(profiles.join(file), text).expect("an example profile written");
    }
    let store = ProfileStore::at(profiles.clone());
    for k in 1..=COLD_PROFILES - EXAMPLES.len() {
        let profile = Profile { name: format!("Lab broker {k}"), host: format!("192.168.1.{k}"), ..Profile::default() };
        store.save(&profile).expect("a profile written");
    }
    let file = data.join("history.sqlite3");
    let t = Instant::now();
    let mut db = history::open(&file).expect("the history file");
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let start_ms = i64::try_from(now_ms).unwrap_or(i64::MAX) - 2 * 3_600_000;
    let fill = Fill { profile: "Built-in broker", rows: COLD_ROWS, topics: COLD_TOPICS, start_ms };
    history::fill_for_tests(&mut db, fill).expect("the history filled");
    drop(db);
    let size = std::fs::metadata(&file).map_or(0, |m| m.len());
    println!(
        "cold: {COLD_PROFILES} profiles; {COLD_ROWS} messages over {COLD_TOPICS} topics written in {:.1} s \
         ({} MB file)",
        t.elapsed().as_secs_f64(),
        size / 1_000_000
    );
    runs("cold", |_| home.0.clone());
    // Had the app looked elsewhere, it would have written its examples and a history file there.
    let mut found = Vec::new();
    walk(&home.0, &mut |p| {
        if p.ends_with("profiles") || p.extension().is_some_and(|x| x == "sqlite3") {
            found.push(p.to_path_buf());
        }
    });
    assert_eq!(found.len(), 2, "the app used the bench's profile folder and history file only: {found:?}");
}

/// Calls `seen` with every path under `dir`.
fn walk(dir: &Path, seen: &mut impl FnMut(&Path)) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().filter_map(Result::ok) {
        let path = entry.path();
        seen(&path);
        if path.is_dir() {
            walk(&path, seen);
        }
    }
}
