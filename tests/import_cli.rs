//! `mqtt-lab import FILE [--into DIR]` (issue 25): prints the import report, saves the profiles
//! only when asked (for their owner only, renamed when a name is taken), and names a file it
//! cannot read.

mod support;

use std::path::Path;
use std::process::Command;

use mqtt_lab::profile::ProfileStore;
use support::ProfileDir;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mqtt-lab")).arg("import").args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_report_is_printed_and_profiles_are_saved_only_when_asked() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/mqttx-export.json");
    let fixture = fixture.to_str().unwrap();
    let (code, report) = run(&[fixture]);
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("3 profiles from MQTTX:") && report.contains("Nothing saved"), "{report}");
    assert!(report.contains("not imported: subscriptions.0 = PV/# (QoS 1)"), "{report}");
    assert!(!report.contains("btsiotpass1"), "never the password:\n{report}");

    let dir = ProfileDir::new("import-cli");
    let into = dir.0.to_str().unwrap();
    let (code, report) = run(&[fixture, "--into", into]);
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("Saved 3 profile(s)"), "{report}");
    let (code, report) = run(&[fixture, "--into", into]);
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("saved as \"Plant (mqtt) (imported)\""), "{report}");
    let (profiles, errors) = ProfileStore::at(dir.0.clone()).load_all();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(profiles.len(), 6);
    #[cfg(unix)]
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(entry.unwrap().metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn a_file_that_is_neither_format_is_exit_code_1_with_the_reason() {
    let dir = ProfileDir::new("import-cli-bad");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("mosquitto.conf");
    std::fs::write(&file, "listener 1883\n").unwrap();
    let (code, report) = run(&[file.to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    assert!(report.contains("neither an MQTT.fx configuration (XML) nor an MQTTX export"), "{report}");
}
