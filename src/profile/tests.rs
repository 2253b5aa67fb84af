//! Profile validation, secrets on export, and the example profiles.

use super::*;
use crate::connection::Security;

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

#[test]
fn tls_modes_need_their_files_and_say_so() {
    let self_signed = Profile { tls: TlsMode::from_index(2), ..Profile::default() };
    assert_eq!(self_signed.validate()[0].field, "tls_files");
    let client_cert = Profile { tls: TlsMode::from_index(3), ..Profile::default() };
    assert!(client_cert.validate()[0].message.contains("certificate and its key"));
    for i in 0..TlsMode::NAMES.len() {
        assert_eq!(TlsMode::from_index(i).index(), i);
    }
}

#[test]
fn connect_settings_follow_the_profile_and_name_what_is_missing() {
    let v31 = Profile { version: MqttVersion::V31, client_id: "c".into(), ..Profile::default() };
    assert_eq!(v31.connect_settings(None).unwrap().version, MqttVersion::V31);
    let psk = Profile {
        tls: TlsMode::Psk { identity: "btsiot1".into(), key_hex: "0123456789abcdef0123".into() },
        ..Profile::default()
    };
    let settings = psk.connect_settings(None).unwrap();
    assert_eq!(
        settings.security,
        Security::Psk {
            identity: "btsiot1".into(),
            key: vec![0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23]
        }
    );
    assert!(!format!("{settings:?}").contains("0123"), "the key never reaches Debug output");
    let ca = Profile { tls: TlsMode::CaSigned, ..Profile::default() };
    assert_eq!(ca.connect_settings(None).unwrap().security, Security::Tls(crate::connection::Tls::default()));
    let builtin = Profile { builtin_broker: true, ..Profile::default() };
    assert!(builtin.connect_settings(None).unwrap_err().contains("not running"));
    assert_eq!(builtin.connect_settings(Some(40000)).unwrap().port, 40000);
}

#[test]
fn generated_client_ids_are_valid_and_differ() {
    let a = generated_client_id();
    assert!(a.starts_with("mqtt-lab-") && a.len() <= 23, "{a}: short enough for MQTT 3.1 too");
}

#[test]
fn profile_files_from_before_mqtt5_still_load_with_their_favourites() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/builtin.json")).unwrap();
    let profile: Profile = serde_json::from_str(&text).unwrap();
    assert_eq!(profile.version, MqttVersion::V311);
    let led = &profile.favourites[2].message;
    assert_eq!((led.topic.as_str(), led.qos), ("lamp/cmd", Qos::AtLeastOnce));
    assert_eq!(&led.payload[..], br#"{"control":"PWM","value":50,"unit":"%"}"#);
    let again: Profile = serde_json::from_str(&serde_json::to_string(&profile).unwrap()).unwrap();
    assert_eq!(again, profile);
    let v5: Profile = serde_json::from_str(r#"{"name":"five","version":"5"}"#).unwrap();
    assert_eq!(v5.version, MqttVersion::V5);
}
