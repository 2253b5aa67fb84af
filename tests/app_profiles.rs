//! Profiles through the real app: saved across restarts, created, exported without secrets,
//! imported.

mod support;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use support::*;

#[test]
fn a_saved_profile_is_there_after_a_restart() {
    let runtime = runtime();
    let dir = ProfileDir::new("restart");
    {
        let mut harness = app_harness(&runtime, &dir);
        harness.get_by_label("Profile settings").click();
        harness.step();
        set_field(&mut harness, "Name", "My Pi");
        set_field(&mut harness, "User name", "btsiot1");
        harness.get_by_label("Save profile").click();
        step_until(&mut harness, "the save", |app| app.model().log.iter().any(|l| l.text == "Saved profile My Pi."));
    }
    let harness = app_harness(&runtime, &dir);
    let mine = harness.state().profiles().iter().find(|p| p.name == "My Pi").expect("the saved profile");
    assert_eq!(mine.username.as_deref(), Some("btsiot1"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.0.join("my-pi.json")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn export_leaves_the_password_out_and_import_adds_the_profile() {
    let runtime = runtime();
    let dir = ProfileDir::new("transfer");
    let mut harness = app_harness(&runtime, &dir);
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    set_field(&mut harness, "User name", "btsiot1");
    set_field(&mut harness, "Password", "btsiotpass1");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("shared-profile.json");
    set_field(&mut harness, "File", file.to_str().unwrap());
    harness.get_by_role_and_label(Role::Button, "Export").click();
    step_until(&mut harness, "the export", |app| app.model().log.iter().any(|l| l.text.starts_with("Exported")));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("btsiot1") && !text.contains("btsiotpass1"), "{text}");
    let before = harness.state().profiles().len();
    harness.get_by_role_and_label(Role::Button, "Import").click();
    step_until(&mut harness, "the import", |app| app.profiles().len() == before + 1);
    let imported = harness.state().selected_profile().clone();
    assert!(imported.name.ends_with("(imported)"), "{}", imported.name);
    assert_eq!((imported.username.as_deref(), imported.password), (Some("btsiot1"), None));
}

#[test]
fn a_new_profile_is_created_edited_and_saved() {
    let runtime = runtime();
    let dir = ProfileDir::new("new-profile");
    let mut harness = app_harness(&runtime, &dir);
    let before = harness.state().profiles().len();
    harness.get_by_label("Profile settings").click();
    settle(&mut harness);
    harness.get_by_label("New profile").click();
    settle(&mut harness);
    assert_eq!(harness.state().profiles().len(), before + 1);
    assert_eq!(harness.state().selected_profile().name, "New profile");
    set_field(&mut harness, "Name", "Classroom Pi");
    set_field(&mut harness, "Host", "127.0.0.1");
    set_field(&mut harness, "Port", "1884");
    harness.get_by_label("Save profile").click();
    step_until(&mut harness, "the save", |app| app.model().log.iter().any(|l| l.text == "Saved profile Classroom Pi."));
    let saved: mqtt_lab::profile::Profile =
        serde_json::from_str(&std::fs::read_to_string(dir.0.join("classroom-pi.json")).unwrap()).unwrap();
    assert_eq!((saved.host.as_str(), saved.port), ("127.0.0.1", 1884), "the typed port is saved too");
    assert!(saved.client_id.starts_with("mqtt-lab-"));
}
