use super::*;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mqtt-lab-settings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dark_at(size: [f32; 2]) -> Settings {
    Settings {
        theme: Theme::Dark,
        window: Some(WindowGeometry { size, position: Some([40.0, 30.0]), maximized: false }),
    }
}

#[test]
fn settings_written_are_read_back_and_private() {
    let dir = TempDir::new("round-trip");
    let path = dir.0.join("nested").join(FILE_NAME);
    let settings = dark_at([1280.0, 680.0]);
    save(&path, &settings).unwrap();
    assert_eq!(load(&path), Loaded { settings, note: None });
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"theme\": \"dark\""), "a student can read it: {text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Written again: the rename replaces the file.
    save(&path, &Settings { theme: Theme::Light, window: None }).unwrap();
    assert_eq!(load(&path).settings.theme, Theme::Light);
}

#[test]
fn a_missing_file_gives_the_defaults_quietly() {
    let dir = TempDir::new("missing");
    assert_eq!(load(&dir.0.join(FILE_NAME)), Loaded { settings: Settings::default(), note: None });
}

#[test]
fn a_corrupt_file_gives_the_defaults_and_says_so() {
    let dir = TempDir::new("corrupt");
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join(FILE_NAME);
    for text in ["{\"theme\": \"dark\", \"window\": ", "\u{0}\u{1}binary", "{\"theme\": \"purple\"}", "42"] {
        std::fs::write(&path, text).unwrap();
        let loaded = load(&path);
        assert_eq!(loaded.settings, Settings::default(), "{text:?}");
        let note = loaded.note.unwrap();
        assert!(
            note.starts_with(&format!("The settings file {} is not valid settings JSON (", path.display())),
            "{note}"
        );
        assert!(note.ends_with(
            "the default theme and window size are used, and the file is written again when either changes."
        ));
    }
    // A directory where the file should be: unreadable, said in words too.
    let dir_path = dir.0.join("as-dir");
    std::fs::create_dir_all(&dir_path).unwrap();
    assert!(load(&dir_path).note.unwrap().contains("could not be read ("));
}

#[test]
fn an_impossible_window_is_dropped_and_unknown_fields_are_ignored() {
    let dir = TempDir::new("sane");
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join(FILE_NAME);
    std::fs::write(&path, r#"{"theme":"light","window":{"size":[5.0,1e9]},"later":1}"#).unwrap();
    assert_eq!(load(&path), Loaded { settings: Settings { theme: Theme::Light, window: None }, note: None });
    std::fs::write(&path, r#"{"window":{"size":[1000,600],"position":[-3000,10]}}"#).unwrap();
    let window = load(&path).settings.window.unwrap();
    assert_eq!((window.size, window.position), ([1000.0, 600.0], None), "an off-screen position is not restored");
}

#[test]
fn the_keeper_writes_a_change_once_it_holds_still() {
    let start = Instant::now();
    let mut keeper = Keeper::new(Settings::default());
    assert_eq!(keeper.observe(Settings::default(), start), None, "nothing changed");
    let ms = |n| start + Duration::from_millis(n);
    // A resize: a new size every frame, never written mid-drag.
    for (i, width) in [900.0, 950.0, 1000.0].into_iter().enumerate() {
        assert_eq!(keeper.observe(dark_at([width, 600.0]), ms(100 * i as u64)), None);
    }
    assert_eq!(keeper.unsaved(), Some(dark_at([1000.0, 600.0])));
    assert_eq!(keeper.observe(dark_at([1000.0, 600.0]), ms(400)), None, "still settling");
    assert_eq!(keeper.observe(dark_at([1000.0, 600.0]), ms(750)), Some(dark_at([1000.0, 600.0])));
    assert_eq!(keeper.observe(dark_at([1000.0, 600.0]), ms(2000)), None, "written once");
    assert_eq!(keeper.saved(), &dark_at([1000.0, 600.0]));
    assert_eq!(keeper.unsaved(), None);
}

#[test]
fn the_theme_chosen_in_the_context_is_observed() {
    let ctx = egui::Context::default();
    ctx.set_theme(egui::ThemePreference::Dark);
    let seen = observed(&ctx, &Settings::default());
    assert_eq!(seen.theme, Theme::Dark);
    for theme in [Theme::System, Theme::Light, Theme::Dark] {
        assert_eq!(Theme::of(theme.preference()), theme);
    }
}
