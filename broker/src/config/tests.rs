//! The parser's tests: mosquitto.conf files as students and Debian write them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Config, ConfigError, ConnackCodes, ListenerProtocol, TlsVersion};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("test.conf"))
}

#[test]
fn no_config_is_local_only_with_anonymous_access() {
    let c = Config::default();
    assert_eq!(c.effective_listeners()[0].bind_addr(), "127.0.0.1:1883");
    assert!(c.anonymous_allowed());
    assert_eq!((c.max_inflight_messages, c.max_queued_messages), (100, 1000));
}

#[test]
fn listeners_and_global_options_are_read() {
    let c = parse(
        "# course broker\nlistener 1883\nmax_connections 10\nlistener 1884 127.0.0.1\n\nallow_anonymous true\nmax_queued_messages 5\nsys_interval 1\nlog_type all\n",
    )
    .unwrap();
    assert_eq!(c.listeners.len(), 2);
    assert_eq!(c.listeners[0].bind_addr(), "0.0.0.0:1883");
    assert_eq!(c.listeners[0].max_connections, Some(10));
    assert_eq!(c.listeners[1].bind_addr(), "127.0.0.1:1884");
    assert!(c.anonymous_allowed());
    assert_eq!(c.max_queued_messages, 5);
    assert_eq!(c.sys_interval, 1);
}

#[test]
fn a_configured_listener_turns_anonymous_access_off_by_default() {
    assert!(!parse("listener 1883\n").unwrap().anonymous_allowed());
    assert!(!parse("port 1883\n").unwrap().anonymous_allowed());
}

#[test]
fn unimplemented_mosquitto_options_name_the_option_and_line() {
    let err = parse("listener 1883\n\ntls_keyform engine\n").unwrap_err();
    assert_eq!(err.line, 3);
    assert!(err.to_string().contains("\"tls_keyform\""), "{err}");
    assert!(err.to_string().contains("test.conf line 3"), "{err}");
    let err = parse("tls_engine x\n").unwrap_err();
    assert!(err.to_string().contains("Mosquitto 2.0 option"), "{err}");
}

#[test]
fn unknown_options_and_bad_values_are_errors() {
    assert!(parse("no_such_option 1\n").unwrap_err().message.contains("unknown configuration option"));
    assert!(parse("allow_anonymous yes\n").unwrap_err().message.contains("true or false"));
    assert!(parse("listener eighty\n").unwrap_err().message.contains("number"));
    assert!(parse("log_type loud\n").unwrap_err().message.contains("log_type"));
    assert!(parse("listener 1883\nport 1884\n").unwrap_err().message.contains("before the first"));
}

#[test]
fn include_dir_reads_conf_files_in_alphabetical_order() {
    let dir = std::env::temp_dir().join(format!("mqtt-lab-include-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("b.conf"), "max_queued_messages 7\n").unwrap();
    std::fs::write(dir.join("a.conf"), "max_queued_messages 3\nlistener 1999\n").unwrap();
    std::fs::write(dir.join("ignored.txt"), "garbage\n").unwrap();
    let c = parse(&format!("include_dir {}\n", dir.display())).unwrap();
    assert_eq!(c.max_queued_messages, 7);
    assert_eq!(c.listeners[0].port, 1999);
    std::fs::write(dir.join("c.conf"), "\nbogus 1\n").unwrap();
    let err = parse(&format!("include_dir {}\n", dir.display())).unwrap_err();
    assert!(err.to_string().contains("c.conf line 2"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn include_dir_in_an_included_file_is_an_error_not_a_recursion() {
    let dir = std::env::temp_dir().join(format!("mqtt-lab-include-self-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("self.conf"), format!("include_dir {}\n", dir.display())).unwrap();
    let err = parse(&format!("include_dir {}\n", dir.display())).unwrap_err();
    assert!(err.to_string().contains("only allowed in the main config file"), "{err}");
    assert!(err.to_string().contains("self.conf line 1"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_course_security_options_are_read() {
    let c = parse("listener 1883\nallow_anonymous false\npassword_file /home/pi/mosquitto/mosqui_passfile\nclientid_prefixes btsiot-\nacl_file /etc/mosquitto/acl\nconnack_codes precise\n").unwrap();
    assert_eq!(c.password_file.as_deref(), Some(Path::new("/home/pi/mosquitto/mosqui_passfile")));
    assert_eq!(c.clientid_prefixes.as_deref(), Some("btsiot-"));
    assert_eq!(c.acl_file.as_deref(), Some(Path::new("/etc/mosquitto/acl")));
    assert_eq!(c.connack_codes, ConnackCodes::Precise);
    assert!(parse("connack_codes exact\n").is_err());
    assert!(parse("assign_topic_aliases true\n").unwrap().assign_topic_aliases);
    assert!(!parse("").unwrap().assign_topic_aliases);
}

#[test]
fn the_course_psk_listener_is_read() {
    let c = parse("port 8883\npsk_hint btsiot\npsk_file /home/pi/mosquitto/mosqui_pskfile\nlistener 1883 127.0.0.1\n")
        .unwrap();
    assert_eq!(c.listeners.len(), 2);
    assert_eq!(c.listeners[0].port, 8883);
    assert_eq!(c.listeners[0].psk_hint.as_deref(), Some("btsiot"));
    assert!(c.listeners[0].is_tls());
    assert!(!c.listeners[1].is_tls(), "listener options stay with their listener");
    assert_eq!(c.psk_file.as_deref(), Some(Path::new("/home/pi/mosquitto/mosqui_pskfile")));
    let t = parse(
        "listener 8884\ncertfile s.pem\nkeyfile s.key\ncafile ca.pem\nrequire_certificate true\ntls_version tlsv1.3\n",
    )
    .unwrap();
    assert_eq!(t.listeners[0].tls_version, Some(TlsVersion::Tls13));
    assert!(t.listeners[0].require_certificate);
    assert!(parse("tls_version tlsv1.1\n").unwrap_err().message.contains("obsolete"));
}

#[test]
fn debian_default_config_is_read() {
    let c = parse("pid_file /run/mosquitto/mosquitto.pid\npersistence true\npersistence_location /var/lib/mosquitto/\nlog_dest file /var/log/mosquitto/mosquitto.log\n").unwrap();
    assert_eq!(c.persistence_path(), Some(PathBuf::from("/var/lib/mosquitto/mqtt-lab-broker.db")));
    assert!(parse("persistence false\n").unwrap().persistence_path().is_none());
    assert!(parse("persistence_file mosquitto.db\n").unwrap_err().message.contains("Mosquitto's own format"));
}

#[test]
fn persistent_client_expiration_takes_mosquittos_units() {
    let days = |d: u64| Some(Duration::from_secs(d * 86_400));
    for (value, expected) in [("2h", Some(Duration::from_hours(2))), ("14d", days(14)), ("1w", days(7))] {
        let c = parse(&format!("persistent_client_expiration {value}")).unwrap();
        assert_eq!(c.persistent_client_expiration, expected, "{value}");
    }
    // As Mosquitto: m is a month of 30 days, y a year of 365.
    assert_eq!(parse("persistent_client_expiration 2m").unwrap().persistent_client_expiration, days(60));
    assert_eq!(parse("persistent_client_expiration 1y").unwrap().persistent_client_expiration, days(365));
    for bad in ["10s", "0d", "d", "1.5h", "-1d", "12"] {
        let e = parse(&format!("persistent_client_expiration {bad}")).unwrap_err().to_string();
        assert!(e.contains("h, d, w, m or y"), "{bad}: {e}");
    }
}

#[test]
fn websocket_listeners_are_read_with_their_options() {
    let c = parse(
        "listener 1883\nlistener 9001\nprotocol websockets\nhttp_dir /var/www/dash\nlistener 9443\nprotocol websockets\ncertfile s.pem\nkeyfile s.key\nwebsockets_log_level 255\n",
    )
    .unwrap();
    assert_eq!(c.listeners[0].protocol, ListenerProtocol::Mqtt);
    assert_eq!(c.listeners[1].protocol, ListenerProtocol::WebSockets);
    assert_eq!(c.listeners[1].http_dir.as_deref(), Some(Path::new("/var/www/dash")));
    assert_eq!(c.listeners[2].protocol, ListenerProtocol::WebSockets);
    assert!(c.listeners[2].is_tls() && c.listeners[2].http_dir.is_none());
    assert_eq!((c.websockets_headers_size, c.websockets_log_level), (1024, 255));
    assert_eq!(parse("websockets_headers_size 4096\n").unwrap().websockets_headers_size, 4096);
    assert_eq!(parse("websockets_headers_size 0\n").unwrap().websockets_headers_size, 1024, "0: the default");
    let err = parse("listener 9001\nprotocol http\n").unwrap_err();
    assert!(err.message.contains("mqtt or websockets"), "{err}");
    assert!(parse("http_dir\n").unwrap_err().message.contains("http_dir needs"));
}
