//! The course's Raspberry Pi, twice: Debian's real Mosquitto and our broker, each started from the
//! same mosquitto.conf (allow_anonymous false, a password file made by mosquitto_passwd,
//! clientid_prefixes, a TLS-PSK listener with psk_hint and psk_file) on a free port. The app's
//! self-test, `mqtt-lab check PROFILE_FILE`, is run against both the way a student runs it, and each
//! mistake must come back as its step, exit code and explanation.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::ProfileDir;
use support::mosquitto::{Mosquitto, free_port};

const PSK_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// The course's broker set-up in one directory.
struct Course {
    dir: ProfileDir,
    conf: PathBuf,
}

impl Course {
    /// Writes the password file (with Debian's mosquitto_passwd), the PSK file and the conf.
    /// `acl`: the lines of an acl_file, if the set-up has one.
    fn new(name: &str, port: u16, acl: Option<&str>) -> Self {
        let dir = ProfileDir::new(name);
        std::fs::create_dir_all(&dir.0).unwrap();
        let passwd = dir.0.join("mosqui_passfile");
        let made = Command::new("mosquitto_passwd")
            .args(["-c", "-b"])
            .arg(&passwd)
            .args(["btsiot1", "btsiotpass1"])
            .output()
            .expect("mosquitto_passwd runs (apt-get install mosquitto)");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let psk = dir.0.join("mosqui_pskfile");
        std::fs::write(&psk, format!("btsiot1:{PSK_KEY}\n")).unwrap();
        let acl_line = acl.map_or_else(String::new, |rules| {
            let path = dir.0.join("mosqui_aclfile");
            std::fs::write(&path, rules).unwrap();
            format!("acl_file {}\n", path.display())
        });
        let conf = dir.0.join("mymosqui.conf");
        std::fs::write(
            &conf,
            format!(
                "allow_anonymous false\npassword_file {}\nclientid_prefixes btsiot-\n{acl_line}\
                 listener {port} 127.0.0.1\npsk_hint btsiot\npsk_file {}\n",
                passwd.display(),
                psk.display()
            ),
        )
        .unwrap();
        Self { dir, conf }
    }

    /// A profile file as the app exports it, for `mqtt-lab check`.
    fn profile(&self, name: &str, port: u16, client_id: &str, password: &str, key: &str) -> PathBuf {
        self.profile_with(name, port, client_id, password, key, "any", 5)
    }

    /// `timeout`: the profile's connect timeout, which also bounds each wait of the self-test.
    #[allow(clippy::too_many_arguments)]
    fn profile_with(
        &self,
        name: &str,
        port: u16,
        client_id: &str,
        password: &str,
        key: &str,
        tls: &str,
        timeout: u16,
    ) -> PathBuf {
        let profile = serde_json::json!({
            "name": name,
            "host": "127.0.0.1",
            "port": port,
            "client_id": client_id,
            "username": "btsiot1",
            "password": password,
            "connect_timeout_secs": timeout,
            "tls_version": tls,
            "tls": { "mode": "psk", "identity": "btsiot1", "key_hex": key },
        });
        let path = self.dir.0.join(format!("{name}.json"));
        std::fs::write(&path, profile.to_string()).unwrap();
        path
    }
}

/// Our broker on the same conf, in-process on a free port; stopped with the runtime.
fn our_broker(runtime: &tokio::runtime::Runtime, conf: &Path) -> u16 {
    let mut config = mqtt_lab_broker::Config::load(conf).expect("our broker reads the course's conf");
    config.log.set_dest(mqtt_lab_broker::log::LogDest::None);
    let settings = config.effective_listeners()[0].clone();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    runtime.block_on(async move {
        let broker = mqtt_lab_broker::Broker::start(config).unwrap();
        broker.listen(listener, &settings).unwrap();
        // Runs until the test's runtime is dropped.
        std::mem::forget(broker);
    });
    port
}

/// `mqtt-lab check PROFILE_FILE`: its exit code and report.
fn check(profile: &Path) -> (i32, String) {
    check_with(profile, &[])
}

fn check_with(profile: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mqtt-lab")).arg("check").arg(profile).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[derive(Debug, Clone, Copy)]
enum Broker {
    Mosquitto,
    Ours,
}

/// Starts `broker` on a course conf; the handles keep it running.
fn start(broker: Broker, name: &str, acl: Option<&str>) -> (Course, u16, Option<Mosquitto>, tokio::runtime::Runtime) {
    let runtime = support::runtime();
    let port = free_port();
    let course = Course::new(name, port, acl);
    match broker {
        Broker::Mosquitto => {
            let mosquitto = Mosquitto::start(&course.conf);
            (course, port, Some(mosquitto), runtime)
        }
        Broker::Ours => {
            let port = our_broker(&runtime, &course.conf);
            (course, port, None, runtime)
        }
    }
}

fn the_course_setup(broker: Broker) {
    let (course, port, _mosquitto, _runtime) = start(broker, &format!("course-{broker:?}"), None);

    let right = course.profile("right", port, "btsiot-01", "btsiotpass1", PSK_KEY);
    let (code, out) = check(&right);
    assert_eq!(code, 0, "{broker:?}, right settings:\n{out}");
    assert!(out.contains("TLS-PSK TLSv1.3, TLS_"), "{broker:?}: TLS 1.3 external PSK by default:\n{out}");
    assert!(out.contains("accepted (CONNACK 0) as client id btsiot-01-check"), "{out}");
    assert!(out.contains("came back in"), "{out}");

    let wrong_password = course.profile("wrong-password", port, "btsiot-01", "btsiotpass2", PSK_KEY);
    let (code, out) = check(&wrong_password);
    assert_eq!(code, 5, "{broker:?}, wrong password:\n{out}");
    assert!(out.contains("FAIL  MQTT CONNECT         Refused (5): not authorised."), "{out}");
    assert!(out.contains("the user name or password is wrong"), "the explanation names the password:\n{out}");

    let wrong_prefix = course.profile("wrong-prefix", port, "esp32-01", "btsiotpass1", PSK_KEY);
    let (code, out) = check(&wrong_prefix);
    assert_eq!(code, 5, "{broker:?}, client id without the btsiot- prefix:\n{out}");
    assert!(out.contains("client id prefix (clientid_prefixes)"), "the explanation names the prefix:\n{out}");

    let wrong_key = course.profile("wrong-key", port, "btsiot-01", "btsiotpass1", &PSK_KEY.replace('0', "1"));
    let (code, out) = check(&wrong_key);
    assert_eq!(code, 4, "{broker:?}, wrong PSK key:\n{out}");
    assert!(out.contains("check the PSK identity and key against the broker's psk_file"), "{out}");
    assert!(out.contains("-     MQTT CONNECT         not reached"), "{out}");
}

fn tls_1_2_psk(broker: Broker) {
    let (course, port, _mosquitto, _runtime) = start(broker, &format!("course-tls12-{broker:?}"), None);
    let right = course.profile_with("esp32-like", port, "btsiot-esp32", "btsiotpass1", PSK_KEY, "1.2", 5);
    let (code, out) = check(&right);
    assert_eq!(code, 0, "{broker:?}, TLS 1.2 only, as an ESP32 connects:\n{out}");
    // Mosquitto picks DHE-PSK-AES256-GCM-SHA384, ours ECDHE-PSK-CHACHA20-POLY1305: both forward-secret.
    assert!(
        out.contains("TLS-PSK TLSv1.2, ECDHE-PSK-") || out.contains("TLS-PSK TLSv1.2, DHE-PSK-"),
        "{broker:?}: a forward-secret TLS 1.2 PSK suite:\n{out}"
    );
}

/// An ACL that lets btsiot1 read and write btsiot/# and, of lamp/#, only read.
fn acl_steps(broker: Broker) {
    let acl = "user btsiot1\ntopic readwrite btsiot/#\ntopic read lamp/#\n";
    let (course, port, _mosquitto, _runtime) = start(broker, &format!("course-acl-{broker:?}"), Some(acl));
    let profile = course.profile_with("acl", port, "btsiot-01", "btsiotpass1", PSK_KEY, "any", 2);
    let (code, out) = check_with(&profile, &["--topic", "btsiot/selftest"]);
    assert_eq!(code, 0, "{broker:?}, an allowed topic:\n{out}");
    let (code, out) = check(&profile);
    match broker {
        // Ours refuses a subscription that no read rule could satisfy (SUBACK 0x80)...
        Broker::Ours => {
            assert_eq!(code, 6, "{broker:?}, the default topic is not readable:\n{out}");
            assert!(out.contains("SUBACK 0x80") && out.contains("ACL"), "{out}");
        }
        // ...Mosquitto 2.0 grants it and never delivers: the round trip names the ACL.
        Broker::Mosquitto => {
            assert_eq!(code, 7, "{broker:?}, the default topic is not readable:\n{out}");
            assert!(out.contains("did not deliver it back") && out.contains("ACL"), "{out}");
        }
    }
    let (code, out) = check_with(&profile, &["--topic", "lamp/selftest"]);
    assert_eq!(code, 7, "{broker:?}, readable but not writable:\n{out}");
    assert!(
        out.contains("did not deliver it back within 2 s: its ACL may forbid publishing or reading lamp/selftest"),
        "{out}"
    );
}

#[test]
fn mosquitto_as_in_the_course_right_and_wrong_password_prefix_and_key() {
    the_course_setup(Broker::Mosquitto);
}

#[test]
fn our_broker_as_in_the_course_right_and_wrong_password_prefix_and_key() {
    the_course_setup(Broker::Ours);
}

#[test]
fn a_tls_1_2_only_profile_gets_a_psk_suite_from_mosquitto() {
    tls_1_2_psk(Broker::Mosquitto);
}

#[test]
fn a_tls_1_2_only_profile_gets_a_psk_suite_from_our_broker() {
    tls_1_2_psk(Broker::Ours);
}

#[test]
fn acl_refusals_are_their_own_steps_with_mosquitto() {
    acl_steps(Broker::Mosquitto);
}

#[test]
fn acl_refusals_are_their_own_steps_with_our_broker() {
    acl_steps(Broker::Ours);
}
