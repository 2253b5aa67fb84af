//! The profile editor's Import with an MQTTX export and an MQTT.fx configuration (issue 25):
//! every connection becomes a profile of the list, saved for its owner only, and the log
//! shows the import report: what was not imported and why, never a password.

mod support;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use support::*;

fn import(harness: &mut egui_kittest::Harness<'_, mqtt_lab::App>, fixture: &str, count: usize) {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(fixture);
    set_field(harness, "File", file.to_str().unwrap());
    let before = harness.state().profiles().len();
    harness.get_by_role_and_label(Role::Button, "Import").click();
    step_until(harness, "the import", |app| app.profiles().len() == before + count);
    settle(harness);
}

#[test]
fn importing_mqttx_and_mqtt_fx_files_adds_their_profiles_with_the_report() {
    let runtime = runtime();
    let dir = ProfileDir::new("import-app");
    let mut harness = app_harness(&runtime, &dir);
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    import(&mut harness, "mqttx-export.json", 3);
    import(&mut harness, "mqttfx-config.xml", 2);
    let names: Vec<String> = harness.state().profiles().iter().map(|p| p.name.clone()).collect();
    for name in ["Plant (mqtt)", "Pi (mqtts, certificates)", "Browser (ws)", "Pi in class B12", "Pi over TLS"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    let log: Vec<String> = harness.state().model().log.iter().map(|l| l.text.clone()).collect();
    let has = |text: &str| log.iter().any(|l| l.contains(text));
    assert!(has("3 profiles from MQTTX:"), "{log:#?}");
    assert!(has("not imported: subscriptions.0 = PV/# (QoS 1)"), "{log:#?}");
    assert!(has("2 profiles from MQTT.fx:"), "{log:#?}");
    assert!(has("not imported: connectionOptions.proxyHost = proxy.school.lan"), "{log:#?}");
    assert!(!log.iter().any(|l| l.contains("btsiotpass1")), "never the password: {log:#?}");
    let plant = harness.state().profiles().iter().find(|p| p.name == "Plant (mqtt)").unwrap().clone();
    assert_eq!(plant.password.as_deref(), Some("btsiotpass1"), "the password the file had is in the profile");
    step_until(&mut harness, "the saved files", |_| {
        std::fs::read_dir(&dir.0).is_ok_and(|d| d.filter_map(Result::ok).any(|e| e.file_name() == "pi-over-tls.json"))
    });
    #[cfg(unix)]
    for entry in std::fs::read_dir(&dir.0).unwrap().filter_map(Result::ok) {
        use std::os::unix::fs::PermissionsExt as _;
        if entry.path().extension().is_some_and(|x| x == "json") {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} holds secrets", entry.path().display());
        }
    }
}

/// A profile whose name differs only in case and punctuation would share its file
/// ("PLANT mqtt" and "Plant (mqtt)" are both plant-mqtt.json): the import takes a new name
/// instead of overwriting it.
#[test]
fn an_import_never_overwrites_a_profile_file_of_another_name() {
    let runtime = runtime();
    let dir = ProfileDir::new("import-app-clash");
    let store = mqtt_lab::profile::ProfileStore::at(dir.0.clone());
    let mine = mqtt_lab::profile::Profile { name: "PLANT mqtt".into(), port: 1999, ..Default::default() };
    store.save(&mine).unwrap();
    let mut harness = app_harness(&runtime, &dir);
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    import(&mut harness, "mqttx-export.json", 3);
    let names: Vec<String> = harness.state().profiles().iter().map(|p| p.name.clone()).collect();
    assert!(names.iter().any(|n| n == "Plant (mqtt) (imported)"), "{names:?}");
    step_until(&mut harness, "the saved import", |_| dir.0.join("plant-mqtt-imported.json").exists());
    let (saved, _) = store.load_all();
    assert!(saved.iter().any(|p| p.name == "PLANT mqtt" && p.port == 1999), "still there: {saved:?}");
}
