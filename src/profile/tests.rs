//! Profile validation, secrets on export, and the example profiles.

use super::*;

#[test]
fn psk_keys_are_hex_of_even_length_and_at_most_64_digits() {
    assert!(validate_psk_key("0123456789abcdef0123").is_ok());
    assert!(validate_psk_key(&"ab".repeat(32)).is_ok());
    assert!(validate_psk_key(&"ab".repeat(33)).unwrap_err().contains("at most 64"));
    assert!(validate_psk_key("xyz").unwrap_err().contains("hexadecimal"));
    assert!(validate_psk_key("abc").unwrap_err().contains("even"));
}

#[test]
fn validation_names_each_bad_field() {
    let p = Profile {
        name: String::new(),
        host: String::new(),
        port: 0,
        password: Some("x".into()),
        last_will: Some(LastWillSettings { topic: "a/+".into(), ..LastWillSettings::default() }),
        tls: TlsMode::Psk { identity: String::new(), key_hex: "zz".into() },
        ..Profile::default()
    };
    let fields: Vec<&str> = p.validate().iter().map(|e| e.field).collect();
    assert_eq!(fields, ["name", "host", "port", "password", "last_will", "psk_identity", "psk_key"]);
    assert!(Profile::default().validate().is_empty());
}

#[test]
fn exports_leave_secrets_out() {
    let p = Profile {
        username: Some("btsiot1".into()),
        password: Some("btsiotpass1".into()),
        tls: TlsMode::Psk { identity: "btsiot1".into(), key_hex: "0123456789abcdef0123".into() },
        ..Profile::default()
    };
    let exported = serde_json::to_string(&p.without_secrets()).unwrap();
    assert!(!exported.contains("btsiotpass1") && !exported.contains("0123456789abcdef0123"), "{exported}");
    assert!(exported.contains("btsiot1"));
}

#[test]
fn the_example_profiles_parse_and_validate() {
    for (file, text) in EXAMPLES {
        let p: Profile = serde_json::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(p.validate().is_empty(), "{file}: {:?}", p.validate());
    }
    let names: Vec<String> = EXAMPLES.iter().map(|(_, t)| serde_json::from_str::<Profile>(t).unwrap().name).collect();
    assert!(names.iter().any(|n| n.contains("Built-in")));
    assert!(names.iter().any(|n| n.contains("TLS-PSK")));
}

#[test]
fn topic_history_is_newest_first_without_repeats() {
    let mut p = Profile::default();
    for t in ["a", "b", "a"] {
        p.remember_topic(t);
    }
    assert_eq!(p.topic_history, ["a", "b"]);
}
