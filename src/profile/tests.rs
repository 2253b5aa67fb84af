//! Profile validation, secrets on export, and the example profiles.

use super::*;
use crate::connection::Security;
use crate::mqtt::PublishProperties;

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

fn v5_profile() -> Profile {
    Profile {
        version: MqttVersion::V5,
        client_id: "lab-5".into(),
        mqtt5: ConnectV5 {
            session_expiry: 3600,
            receive_maximum: Some(20),
            maximum_packet_size: Some(65_536),
            topic_alias_maximum: 5,
            request_response_information: true,
            request_problem_information: false,
            user_properties: vec![UserProperty::new("room", "B12"), UserProperty::new("room", "B13")],
        },
        last_will: Some(LastWillSettings {
            topic: "lab/status".into(),
            message: "offline".into(),
            qos: Qos::AtLeastOnce,
            retain: true,
            delay_secs: 30,
            properties: PublishProperties {
                payload_format: Some(PayloadFormat::Utf8),
                message_expiry: Some(600),
                content_type: Some("text/plain".into()),
                response_topic: Some("lab/status/reply".into()),
                correlation_data: Some(Bytes::from_static(&[0xca, 0xfe, 0x00])),
                user_properties: vec![UserProperty::new("why", "power cut")],
                ..PublishProperties::default()
            },
        }),
        ..Profile::default()
    }
}

#[test]
fn every_profile_file_in_profiles_still_loads_and_round_trips() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let p: Profile = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(p.validate().is_empty(), "{}: {:?}", path.display(), p.validate());
        let written = serde_json::to_string_pretty(&p).unwrap();
        assert_eq!(serde_json::from_str::<Profile>(&written).unwrap(), p, "{}", path.display());
        if !p.version.is_v5() {
            for key in ["mqtt5", "delay_secs", "properties\": {"] {
                assert!(!written.contains(key), "{}: a 3.1.1 file gains no {key}: {written}", path.display());
            }
        }
        assert!(EXAMPLES.iter().any(|(name, _)| path.ends_with(name)), "{} is offered as an example", path.display());
        seen += 1;
    }
    assert_eq!(seen, EXAMPLES.len());
}

#[test]
fn mqtt5_settings_and_will_properties_round_trip_through_json() {
    let p = v5_profile();
    let text = serde_json::to_string_pretty(&p).unwrap();
    assert!(text.contains(r#""version": "5""#), "{text}");
    assert!(text.contains(r#""session_expiry_secs": 3600"#), "{text}");
    assert!(text.contains(r#""correlation_data": "cafe00""#), "binary as hex: {text}");
    assert!(text.contains(r#""delay_secs": 30"#), "{text}");
    assert_eq!(serde_json::from_str::<Profile>(&text).unwrap(), p);
    let never =
        Profile { mqtt5: ConnectV5 { session_expiry: SESSION_NEVER_EXPIRES, ..ConnectV5::default() }, ..v5_profile() };
    let text = serde_json::to_string(&never).unwrap();
    assert!(text.contains("4294967295"), "{text}");
    assert_eq!(
        serde_json::from_str::<Profile>(&text).unwrap().mqtt5.session_expiry_text(),
        "the broker keeps the session forever"
    );
}

#[test]
fn connect_settings_carry_the_mqtt5_settings_only_for_mqtt5() {
    let p = v5_profile();
    let s = p.connect_settings(None).unwrap();
    assert_eq!(s.version, MqttVersion::V5);
    assert_eq!(s.v5.session_expiry, 3600);
    assert_eq!((s.v5.receive_maximum, s.v5.maximum_packet_size, s.v5.topic_alias_maximum), (Some(20), Some(65_536), 5));
    assert!(s.v5.request_response_information && !s.v5.request_problem_information);
    assert_eq!(s.v5.user_properties, p.mqtt5.user_properties);
    let will = s.will.unwrap();
    assert_eq!(will.delay_secs, 30);
    assert_eq!(will.properties, p.last_will.as_ref().unwrap().properties);
    let v311 = Profile { version: MqttVersion::V311, ..v5_profile() };
    let s = v311.connect_settings(None).unwrap();
    assert_eq!(s.v5, crate::connection::ConnectV5::default(), "3.1.1 sends no properties");
    let will = s.will.unwrap();
    assert_eq!((will.delay_secs, will.properties.is_empty()), (0, true));
}

#[test]
fn mqtt5_validation_names_the_rule() {
    let mut p = v5_profile();
    p.mqtt5.receive_maximum = Some(0);
    p.mqtt5.maximum_packet_size = Some(0);
    p.mqtt5.user_properties.push(UserProperty::new("", "x"));
    let will = p.last_will.as_mut().unwrap();
    will.properties.response_topic = Some("lab/+/reply".into());
    let errors = p.validate();
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    assert_eq!(fields, ["receive_maximum", "maximum_packet_size", "user_properties", "will_properties"]);
    assert!(errors[0].message.contains("Receive Maximum 0 is a Protocol Error [MQTT 5.0 section 3.1.2.11.3]"));
    assert!(errors[1].message.contains("[MQTT 5.0 section 3.1.2.11.4]"));
    assert!(errors[2].message.contains("needs a name") && errors[2].message.contains("\"x\""));
    assert!(errors[3].message.contains("MQTT-3.3.2-14"), "{}", errors[3].message);
    assert!(p.connect_settings(None).unwrap_err().contains("3.1.2.11.3"));
    // The same values mean nothing to 3.1.1, which never sends them.
    p.version = MqttVersion::V311;
    assert!(p.validate().is_empty(), "{:?}", p.validate());
}

#[test]
fn an_empty_client_id_is_for_clean_start_in_mqtt5_and_clean_session_in_3_1_1() {
    let v5 = Profile { client_id: String::new(), ..v5_profile() };
    assert!(v5.validate().is_empty(), "the broker assigns one: {:?}", v5.validate());
    assert_eq!(v5.connect_settings(None).unwrap().client_id, "", "sent empty, not made up");
    let resume = Profile { clean_session: false, ..v5.clone() };
    assert!(resume.validate()[0].message.contains("MQTT-3.1.3-6"));
    let v311 = Profile { clean_session: false, version: MqttVersion::V311, ..v5 };
    assert!(v311.validate()[0].message.contains("MQTT-3.1.3-7"));
    let v31 = Profile { version: MqttVersion::V31, client_id: "a".repeat(24), ..Profile::default() };
    assert!(v31.validate()[0].message.contains("1 to 23 characters"));
}

#[test]
fn a_will_delayed_past_the_session_is_noted_not_refused() {
    let mut p = v5_profile();
    p.mqtt5.session_expiry = 10;
    assert!(p.validate().is_empty());
    assert!(p.v5_notes()[0].contains("3.1.3.2.2"), "{:?}", p.v5_notes());
    p.mqtt5.session_expiry = SESSION_NEVER_EXPIRES;
    assert!(p.v5_notes().is_empty());
}

#[test]
fn mqtt5_exports_leave_secrets_out_and_keep_the_rest() {
    let p = Profile {
        username: Some("btsiot1".into()),
        password: Some("btsiotpass1".into()),
        tls: TlsMode::Psk { identity: "btsiot1".into(), key_hex: "0123456789abcdef0123".into() },
        ..v5_profile()
    };
    let shared = p.without_secrets();
    let text = serde_json::to_string(&shared).unwrap();
    assert!(!text.contains("btsiotpass1") && !text.contains("0123456789abcdef0123"), "{text}");
    assert_eq!((shared.mqtt5, shared.last_will), (p.mqtt5, p.last_will), "MQTT 5 settings hold no secret");
}

#[test]
fn an_mqtt5_keepalive_under_5_s_is_refused_in_words() {
    let p = Profile { version: MqttVersion::V5, keep_alive_secs: 2, client_id: "c".into(), ..Profile::default() };
    let e = p.connect_settings(None).unwrap_err();
    assert!(e.contains("needs at least 5 s"), "{e}");
    let ok = Profile { keep_alive_secs: 2, client_id: "c".into(), ..Profile::default() };
    assert!(ok.connect_settings(None).is_ok(), "3.1.1 allows it");
}

#[test]
fn files_written_before_websocket_load_as_tcp_and_tcp_profiles_are_written_as_before() {
    let old = include_str!("../../profiles/raspberry-pi.json");
    let p: Profile = serde_json::from_str(old).unwrap();
    assert_eq!((p.transport, p.websocket_path.as_str()), (Transport::Tcp, DEFAULT_PATH));
    assert_eq!(p.connect_settings(None).unwrap().websocket, None);
    let written = serde_json::to_string(&p).unwrap();
    assert!(!written.contains("transport") && !written.contains("websocket_path"), "{written}");
}

#[test]
fn websocket_profiles_round_trip_through_their_file() {
    let p = Profile { transport: Transport::WebSocket, websocket_path: "/ws?token=a".into(), ..Profile::default() };
    let written = serde_json::to_string(&p).unwrap();
    assert!(written.contains(r#""transport":"websocket""#) && written.contains(r#""websocket_path":"/ws?token=a""#));
    assert_eq!(serde_json::from_str::<Profile>(&written).unwrap(), p);
    let default_path = Profile { transport: Transport::WebSocket, ..Profile::default() };
    let written = serde_json::to_string(&default_path).unwrap();
    assert!(!written.contains("websocket_path"), "the default path is left out: {written}");
    assert_eq!(serde_json::from_str::<Profile>(&written).unwrap().websocket_path, "/mqtt");
}

#[test]
fn websocket_goes_with_every_security_option() {
    let ws = |tls: TlsMode| Profile { transport: Transport::WebSocket, tls, ..Profile::default() };
    let plain = ws(TlsMode::None).connect_settings(None).unwrap();
    assert_eq!((plain.websocket.as_deref(), &plain.security), (Some("/mqtt"), &Security::Plain));
    let ca = ws(TlsMode::SelfSignedCa { ca_file: "ca.pem".into() }).connect_settings(None).unwrap();
    assert!(matches!(&ca.security, Security::Tls(t) if t.ca_file.as_deref() == Some("ca.pem")));
    let psk = ws(TlsMode::Psk { identity: "btsiot1".into(), key_hex: "0123456789abcdef0123".into() });
    assert!(matches!(psk.connect_settings(None).unwrap().security, Security::Psk { .. }));
    let builtin = Profile { builtin_broker: true, ..ws(TlsMode::None) };
    assert_eq!(builtin.connect_settings(Some(1883)).unwrap().websocket, None, "the built-in broker is TCP");
    let bad = Profile { websocket_path: "mqtt".into(), ..ws(TlsMode::None) };
    assert_eq!(bad.validate()[0].field, "websocket_path");
}

#[test]
fn a_url_in_the_host_field_fills_port_transport_path_and_tls() {
    let mut p = Profile { host: "wss://broker.example:8884/mqtt".into(), ..Profile::default() };
    p.apply_url().unwrap();
    assert_eq!((p.host.as_str(), p.port, p.transport), ("broker.example", 8884, Transport::WebSocket));
    assert_eq!(p.tls, TlsMode::CaSigned, "wss:// turns TLS on with the system's roots");
    assert_eq!(p.url(), "wss://broker.example:8884/mqtt");
    let psk = TlsMode::Psk { identity: "a".into(), key_hex: "00".into() };
    let mut p = Profile { host: "wss://pi.local:8884/".into(), tls: psk.clone(), ..Profile::default() };
    p.apply_url().unwrap();
    assert_eq!((p.tls, p.websocket_path.as_str()), (psk, "/"), "wss:// keeps the TLS mode chosen");
    let mut p = Profile { host: "ws://pi.local".into(), tls: TlsMode::CaSigned, ..Profile::default() };
    p.apply_url().unwrap();
    assert_eq!((p.tls, p.port, p.websocket_path.as_str()), (TlsMode::None, 80, "/mqtt"));
    let mut p = Profile { host: "mqtts://pi.local".into(), transport: Transport::WebSocket, ..Profile::default() };
    p.apply_url().unwrap();
    assert_eq!((p.transport, p.port, p.url()), (Transport::Tcp, 8883, "mqtts://pi.local:8883".to_owned()));

    // Left in the field (a hand-written file): read when connecting; a bad one is named.
    let url = Profile { host: "ws://127.0.0.1:9001/mqtt".into(), port: 1883, ..Profile::default() };
    let settings = url.connect_settings(None).unwrap();
    assert_eq!(
        (settings.host.as_str(), settings.port, settings.websocket.as_deref()),
        ("127.0.0.1", 9001, Some("/mqtt"))
    );
    let bad = Profile { host: "http://pi.local/mqtt".into(), ..Profile::default() };
    assert_eq!(bad.validate()[0].field, "host");
    assert!(bad.connect_settings(None).unwrap_err().contains("ws:// or wss://"));
    let mut unchanged = bad.clone();
    assert!(unchanged.apply_url().is_err());
    assert_eq!(unchanged, bad);
}

#[test]
fn exports_hide_user_info_left_in_the_host_and_query_values_of_the_path() {
    let p = Profile {
        host: "wss://me:hunter/2@broker.io:8884/mqtt?token=abc123".into(),
        transport: Transport::WebSocket,
        websocket_path: "/mqtt?token=abc123&v=5".into(),
        ..Profile::default()
    };
    let shared = p.without_secrets();
    assert_eq!(shared.host, "wss://broker.io:8884/mqtt?token=***");
    assert_eq!(shared.websocket_path, "/mqtt?token=***&v=***");
    let text = serde_json::to_string(&shared).unwrap();
    assert!(!text.contains("hunter") && !text.contains("abc123"), "{text}");
    let plain = Profile { host: "pi.local".into(), ..Profile::default() }.without_secrets();
    assert_eq!((plain.host.as_str(), plain.websocket_path.as_str()), ("pi.local", DEFAULT_PATH));
}
