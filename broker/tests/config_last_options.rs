//! The last Mosquitto 2.0 options our broker used to refuse (issue 24), each run through
//! Debian's Mosquitto 2.0.11 and ours with the same config text: `log_timestamp_format`,
//! `log_facility`, `auth_plugin_deny_special_chars`, `user`, `ciphers_tls1.3`, `tls_keyform`,
//! `tls_engine`.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mqtt_lab_broker::codec::{QoS, QosPid, SubAckCode};
use support::brokers::{BrokerProcess, Kind, both, free_port, path};
use support::{RawClient, TempDir, publish};

const OURS: &str = env!("CARGO_BIN_EXE_mqtt-lab-broker");

/// Runs `program -c conf`, which should stop by itself on a config error; fails when it is
/// still running after 20 s (a broker that starts anyway would hang the run).
fn refused(program: &str, conf: &Path) -> Output {
    let mut child = Command::new(program)
        .arg("-c")
        .arg(conf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}); install Debian's mosquitto"));
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} started on a config it should refuse: {}", conf.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "{program} exited successfully on {}", conf.display());
    out
}

/// Both binaries refuse `text`; answers their stderr (Mosquitto's, ours).
fn both_refuse(dir: &TempDir, text: &str) -> [String; 2] {
    let conf = dir.file("refused.conf", text);
    ["mosquitto", OURS].map(|program| String::from_utf8_lossy(&refused(program, &conf).stderr).into_owned())
}

/// A client on `broker` receives what another publishes: the broker serves.
async fn serves(broker: &BrokerProcess) {
    let mut sub = RawClient::connect(broker.addr(), "last-sub").await;
    assert_eq!(sub.subscribe(&[("lab/last", QoS::AtLeastOnce)]).await, [SubAckCode::Granted(QoS::AtLeastOnce)]);
    let mut publisher = RawClient::connect(broker.addr(), "last-pub").await;
    publisher.send(publish("lab/last", b"served", QosPid::AtMostOnce, false)).await;
    assert_eq!(&sub.recv_publish().await.payload[..], b"served", "{:?}", broker.kind);
    publisher.disconnect().await;
    sub.disconnect().await;
}

/// A log line's timestamp with each digit as `9`: the shape, not the clock.
fn timestamp_shape(line: &str) -> String {
    let (stamp, _) = line.split_once(": ").unwrap_or_else(|| panic!("no timestamp in {line:?}"));
    stamp.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect()
}

/// `log_timestamp_format` with strftime conversions: every line of both brokers starts with a
/// timestamp of the same shape, and `log_timestamp false` still turns it off.
#[tokio::test]
async fn log_timestamp_format_gives_both_brokers_the_same_timestamp_shape() {
    let dir = TempDir::new("last-log-format");
    let conf = "listener PORT 127.0.0.1\nallow_anonymous true\nlog_timestamp_format %Y-%m-%dT%H:%M:%S [%j] %%\n";
    for broker in both(&dir, conf) {
        serves(&broker).await;
        let logs = broker.logs();
        for line in logs.lines() {
            assert_eq!(timestamp_shape(line), "9999-99-99T99:99:99 [999] %", "{:?}: {line}", broker.kind);
        }
    }
    let plain = format!("{conf}log_timestamp false\n");
    for broker in both(&dir, &plain) {
        assert!(
            broker
                .logs()
                .lines()
                .any(|l| l.starts_with("mosquitto version") || l.starts_with("mqtt-lab-broker version")),
            "{:?}: {}",
            broker.kind,
            broker.logs()
        );
    }
}

/// An empty format stops both.
#[test]
fn an_empty_log_timestamp_format_is_refused_by_both() {
    let dir = TempDir::new("last-log-format-empty");
    for err in both_refuse(&dir, "listener 0 127.0.0.1\nlog_timestamp_format\n") {
        assert!(err.contains("log_timestamp_format"), "{err}");
    }
}

/// `log_facility` 0 to 7 is accepted (ours notes that it has no syslog to apply it to);
/// outside that range both refuse it.
#[tokio::test]
async fn log_facility_is_read_as_mosquitto_reads_it() {
    let dir = TempDir::new("last-log-facility");
    let [mosquitto, ours] = both(&dir, "listener PORT 127.0.0.1\nallow_anonymous true\nlog_facility 5\n");
    serves(&mosquitto).await;
    serves(&ours).await;
    assert!(ours.logs().contains("log_facility has no effect"), "{}", ours.logs());
    for bad in ["8", "-1", ""] {
        for err in both_refuse(&dir, &format!("listener 0 127.0.0.1\nlog_facility {bad}\n")) {
            assert!(err.contains("log_facility"), "log_facility {bad:?}: {err}");
        }
    }
}

/// Mosquitto refuses `auth_plugin_deny_special_chars` without an auth_plugin before it, and
/// ours refuses every auth_plugin: no config starts with it, and ours says why.
#[test]
fn auth_plugin_deny_special_chars_without_a_plugin_is_refused_by_both() {
    let dir = TempDir::new("last-deny-special");
    let [theirs, ours] = both_refuse(&dir, "listener 0 127.0.0.1\nauth_plugin_deny_special_chars true\n");
    assert!(theirs.contains("without an auth_plugin"), "{theirs}");
    assert!(ours.contains("line 2") && ours.contains("auth_plugin") && ours.contains("password_file"), "{ours}");
}

/// The process whose command line names `conf` (the broker started on it).
fn pid_of(conf: &Path) -> u32 {
    let conf = conf.to_str().unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|arg| arg == conf.as_bytes()))
        })
        .unwrap_or_else(|| panic!("no process runs on {conf}"))
}

/// The real, effective, saved and file-system user ids of a process.
fn uids(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap().to_owned();
    line["Uid:".len()..].split_whitespace().collect::<Vec<_>>().join(" ")
}

fn uid_of(name: &str) -> String {
    let out = Command::new("id").args(["-u", name]).output().unwrap();
    assert!(out.status.success(), "id -u {name}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Started as root with `user nobody`, both brokers run as nobody and still serve; an unknown
/// user stops both with Mosquitto's words.
#[tokio::test]
async fn user_drops_root_to_that_user_as_mosquitto_does() {
    if !uids(std::process::id()).starts_with("0 0 ") {
        eprintln!("skipped: user only acts when the broker is started as root");
        return;
    }
    let dir = TempDir::new("last-user");
    let nobody = uid_of("nobody");
    for broker in both(&dir, "listener PORT 127.0.0.1\nallow_anonymous true\nuser nobody\n") {
        assert_eq!(uids(pid_of(&broker.conf)), [nobody.as_str(); 4].join(" "), "{:?}", broker.kind);
        serves(&broker).await;
    }
    let [theirs, ours] = both_refuse(&dir, "listener 0 127.0.0.1\nuser no-such-user-here\n");
    let words = "Error: Unable to drop privileges to 'no-such-user-here' because this user does not exist.";
    assert!(theirs.contains(words), "{theirs}");
    assert!(ours.contains(words), "{ours}");
}

/// A self-signed server certificate for 127.0.0.1: (certfile, keyfile).
fn server_cert(dir: &TempDir) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().self_signed(&key).unwrap();
    (dir.file("server.pem", &cert.pem()), dir.file("server.key", &key.serialize_pem()))
}

/// The TLS 1.3 suite `openssl s_client` agrees on when it offers only `suite` (with `extra`
/// arguments); `None` when the handshake fails.
fn tls13_handshake_with(broker: &BrokerProcess, suite: &str, extra: &[&str]) -> Option<String> {
    let out = support::run_tool(
        Command::new("openssl")
            .args(["s_client", "-brief", "-tls1_3", "-ciphersuites", suite])
            .args(extra)
            .arg("-connect")
            .arg(broker.addr().to_string())
            .stdin(Stdio::null()),
        "openssl",
    );
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let agreed = text.lines().find_map(|l| l.strip_prefix("Ciphersuite: ")).map(str::to_owned);
    agreed.filter(|_| out.status.success())
}

fn tls13_handshake(broker: &BrokerProcess, suite: &str) -> Option<String> {
    tls13_handshake_with(broker, suite, &[])
}

/// On a TLS-PSK listener (OpenSSL in both), `ciphers_tls1.3` limits the TLS 1.3 suites alike,
/// and a list OpenSSL finds no suite in stops both.
#[test]
fn ciphers_tls13_limits_a_psk_listener_as_mosquitto() {
    let dir = TempDir::new("last-ciphers13-psk");
    let psk = dir.file("psk", "id1:deadbeef\n");
    let listener =
        format!("listener PORT 127.0.0.1\nuser root\nallow_anonymous true\npsk_hint lab\npsk_file {}\n", path(&psk));
    let client = ["-psk_identity", "id1", "-psk", "deadbeef"];
    for broker in both(&dir, &format!("{listener}ciphers_tls1.3 TLS_CHACHA20_POLY1305_SHA256\n")) {
        assert_eq!(tls13_handshake_with(&broker, "TLS_AES_128_GCM_SHA256", &client), None, "{:?}", broker.kind);
        let agreed = tls13_handshake_with(&broker, "TLS_CHACHA20_POLY1305_SHA256", &client);
        assert_eq!(agreed.as_deref(), Some("TLS_CHACHA20_POLY1305_SHA256"), "{:?}", broker.kind);
    }
    let unknown = format!("{}ciphers_tls1.3 TLS_NO_SUCH_SUITE\n", listener.replace("PORT", &free_port().to_string()));
    let [theirs, ours] = both_refuse(&dir, &unknown);
    assert!(theirs.contains("TLS_NO_SUCH_SUITE") && ours.contains("TLS_NO_SUCH_SUITE"), "{theirs}\n{ours}");
}

/// `ciphers_tls1.3 TLS_AES_256_GCM_SHA384` on a certificate listener: a TLS 1.3 client offering
/// only TLS_AES_128_GCM_SHA256 is refused, one offering TLS_AES_256_GCM_SHA384 gets it, on both
/// brokers; a list with no suite either knows stops both.
#[test]
fn ciphers_tls13_limits_the_tls13_suites_as_mosquitto() {
    let dir = TempDir::new("last-ciphers13");
    let (cert, key) = server_cert(&dir);
    let listener =
        format!("listener PORT 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\n", path(&cert), path(&key));
    let limited = format!("{listener}ciphers_tls1.3 TLS_AES_256_GCM_SHA384\n");
    for broker in both(&dir, &limited) {
        assert_eq!(tls13_handshake(&broker, "TLS_AES_128_GCM_SHA256"), None, "{:?}", broker.kind);
        let agreed = tls13_handshake(&broker, "TLS_AES_256_GCM_SHA384");
        assert_eq!(agreed.as_deref(), Some("TLS_AES_256_GCM_SHA384"), "{:?}", broker.kind);
    }
    // Without the option both offer TLS_AES_128_GCM_SHA256: the refusal above is the option's.
    for broker in both(&dir, &listener) {
        assert_eq!(
            tls13_handshake(&broker, "TLS_AES_128_GCM_SHA256").as_deref(),
            Some("TLS_AES_128_GCM_SHA256"),
            "{:?}",
            broker.kind
        );
    }
    // Mosquitto sets the suites as it opens the listener: a free port lets it get there.
    let unknown = format!("{}ciphers_tls1.3 TLS_NO_SUCH_SUITE\n", listener.replace("PORT", &free_port().to_string()));
    let [_, ours] = both_refuse(&dir, &unknown);
    assert!(ours.contains("TLS_NO_SUCH_SUITE"), "{ours}");
}

/// `tls_keyform pem` (the default) is accepted; an OpenSSL engine stops ours with what to do
/// instead (Mosquitto 2.0.11 loads it).
#[tokio::test]
async fn tls_keyform_pem_is_accepted_and_engines_are_refused_with_advice() {
    let dir = TempDir::new("last-engine");
    let broker =
        BrokerProcess::start(Kind::Ours, &dir, "listener PORT 127.0.0.1\nallow_anonymous true\ntls_keyform pem\n");
    serves(&broker).await;
    for line in
        ["tls_engine pkcs11", "tls_keyform engine", "tls_engine_kpass_sha1 0123456789abcdef0123456789abcdef01234567"]
    {
        let conf = dir.file("engine.conf", &format!("listener 0 127.0.0.1\n{line}\n"));
        let err = String::from_utf8_lossy(&refused(OURS, &conf).stderr).into_owned();
        let option = line.split_whitespace().next().unwrap();
        assert!(err.contains("engine.conf line 2") && err.contains(&format!("\"{option}\"")), "{line}: {err}");
        assert!(err.contains("PEM") && err.contains("keyfile"), "{line}: {err}");
    }
}
