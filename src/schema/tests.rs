//! The schema files, the serde types and the golden fixtures agree: every valid fixture passes
//! both, every invalid one fails both, and what the types build passes the schema.

use std::path::{Path, PathBuf};

use super::*;

fn fixtures(kind: &str, validity: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/schema/fixtures").join(kind).join(validity);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// A serde type's verdict on a payload.
type Verdict = fn(&[u8]) -> Result<(), String>;

/// Each fixture folder, its topic, and the serde type's verdict.
fn cases() -> Vec<(&'static str, &'static str, Verdict)> {
    vec![
        ("pv-data", TOPIC_PV_DATA, |p| PvData::from_payload(p).map(drop)),
        ("pv-sunshine", TOPIC_SUNSHINE, |p| Sunshine::from_payload(p).map(drop)),
        ("luminosity", TOPIC_LUMINOSITY, |p| Luminosity::from_payload(p).map(drop)),
        ("led-command", TOPIC_LED_CMD, |p| LedCommand::from_payload(p).map(drop)),
    ]
}

#[test]
fn every_golden_fixture_gets_the_same_verdict_from_the_schema_and_the_types() {
    let catalogue = Catalogue::get();
    for (kind, topic, typed) in cases() {
        for (path, payload) in fixtures(kind, "valid") {
            assert!(
                matches!(catalogue.check(topic, &payload), Check::Valid(_)),
                "{}: {:?}",
                path.display(),
                catalogue.check(topic, &payload)
            );
            typed(&payload).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        for (path, payload) in fixtures(kind, "invalid") {
            assert!(
                matches!(catalogue.check(topic, &payload), Check::Invalid(_)),
                "{} passed the schema",
                path.display()
            );
            assert!(typed(&payload).is_err(), "{} passed the type", path.display());
        }
    }
}

#[test]
fn what_the_types_build_matches_the_schema_and_reads_back() {
    let catalogue = Catalogue::get();
    for v in [0.0, 12.5, 50.0, 99.99, 100.0] {
        let cmd = LedCommand::pwm(v).unwrap();
        assert!(matches!(catalogue.check(TOPIC_LED_CMD, cmd.to_payload().as_bytes()), Check::Valid(_)));
        assert_eq!(LedCommand::from_payload(cmd.to_payload().as_bytes()).unwrap(), cmd);
    }
    assert_eq!(
        LedCommand::pwm(50.0).unwrap().to_payload(),
        r#"{"control":"PWM","value":50,"unit":"%"}"#,
        "the course's text"
    );
    let lum = Luminosity::new(63.54, Some(2601)).unwrap();
    assert_eq!(lum.to_payload(), r#"{"sensor":"ldr","value":63.5,"unit":"%","raw":2601}"#);
    assert!(matches!(catalogue.check(TOPIC_LUMINOSITY, lum.to_payload().as_bytes()), Check::Valid(_)));
    assert_eq!(PvData(4.0).to_payload(), "4");
    assert_eq!(PvData(0.004).to_payload(), "0");
    assert!(LedCommand::pwm(101.0).unwrap_err().contains("not within 0 to 100 %"));
    assert!(Luminosity::new(50.0, Some(4096)).unwrap_err().contains("12 bits"));
}

#[test]
fn broken_rules_are_named_with_where_they_broke_and_the_schema() {
    let Check::Invalid(errors) = Catalogue::get().check(TOPIC_LED_CMD, br#"{"control":"PWM","value":150,"unit":"%"}"#)
    else {
        panic!("150 % passed")
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("/value: 150"), "{}", errors[0]);
    assert!(errors[0].contains("maximum of 100") && errors[0].ends_with("(led-command.schema.json)"), "{}", errors[0]);
    let Check::Invalid(errors) = Catalogue::get().check(TOPIC_LED_CMD, b"{\"control\":") else { panic!() };
    assert!(errors[0].starts_with("not JSON"), "{}", errors[0]);
    assert_eq!(Catalogue::get().check("other/topic", b"x"), Check::Unknown);
    assert_eq!(
        Catalogue::get().check(TOPIC_LED_STATE, br#"{"control":"PWM","value":5,"unit":"%"}"#),
        Check::Valid("led-command.schema.json".into())
    );
}

#[test]
fn a_catalogue_naming_a_missing_schema_is_refused() {
    let topics = r#"{"topics":[{"topic":"a","schema":"nope.json","payload":"json","direction":""}]}"#;
    assert!(Catalogue::from_files(topics, &SCHEMA_FILES).unwrap_err().contains("names nope.json"));
}
