//! The course's security setup: a password file made by mosquitto_passwd, a client id prefix,
//! anonymous access off, and an ACL; refusal codes as Mosquitto gives them or as MQTT 3.1.1
//! specifies; reload of the files.

mod support;

use std::process::Command;

use bytes::Bytes;
use mqtt_lab_broker::codec::{ConnectReturnCode, Packet, QoS, QosPid, SubAckCode};
use mqtt_lab_broker::config::ConnackCodes;
use support::{RawClient, TempDir, TestBroker, connect_packet, pid, publish, run_tool};

/// A password file written by Debian's real mosquitto_passwd, as in the course.
fn course_password_file(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.0.join("mosqui_passfile");
    support::mosquitto_passwd(&path, &[("btsiot1", "btsiotpass1"), ("btsiot2", "btsiotpass2")]);
    path
}

async fn course_broker(dir: &TempDir, codes: ConnackCodes, acl: Option<&str>) -> TestBroker {
    let password_file = course_password_file(dir);
    let acl_file = acl.map(|text| dir.file("acl", text));
    TestBroker::with(|c| {
        c.allow_anonymous = Some(false);
        c.password_file = Some(password_file);
        c.clientid_prefixes = Some("btsiot-".into());
        c.acl_file = acl_file;
        c.connack_codes = codes;
    })
    .await
}

fn login(id: &str, user: Option<&str>, password: Option<&str>) -> Packet {
    let mut c = connect_packet(id, true, 60);
    c.username = user.map(str::to_owned);
    c.password = password.map(|p| Bytes::copy_from_slice(p.as_bytes()));
    Packet::Connect(Box::new(c))
}

async fn connack(broker: &TestBroker, connect: Packet) -> ConnectReturnCode {
    let mut c = RawClient::open(broker.addr).await;
    c.send(connect).await;
    let Packet::ConnAck(connack) = c.recv().await else { panic!("expected CONNACK") };
    connack.code()
}

#[tokio::test]
async fn the_course_setup_admits_the_right_user_and_refuses_the_rest_with_code_5() {
    use ConnectReturnCode::{Accepted, NotAuthorized};
    let dir = TempDir::new("course");
    let broker = course_broker(&dir, ConnackCodes::Mosquitto, None).await;
    let cases = [
        (login("btsiot-client1", Some("btsiot1"), Some("btsiotpass1")), Accepted, "right user, password and prefix"),
        (login("btsiot-client2", Some("btsiot2"), Some("btsiotpass2")), Accepted, "second user"),
        (login("btsiot-client1", Some("btsiot1"), Some("btsiotpass2")), NotAuthorized, "wrong password"),
        (login("btsiot-client1", Some("nobody"), Some("x")), NotAuthorized, "unknown user"),
        (login("client1", Some("btsiot1"), Some("btsiotpass1")), NotAuthorized, "missing prefix"),
        (login("btsiot-client1", None, None), NotAuthorized, "anonymous"),
    ];
    for (connect, expected, what) in cases {
        assert_eq!(connack(&broker, connect).await, expected, "{what}");
    }
    let logs = broker.logs();
    assert!(logs.contains("wrong password for user \"btsiot1\""), "{logs}");
    assert!(logs.contains("does not start with the clientid_prefixes \"btsiot-\""), "{logs}");
    assert!(!logs.contains("btsiotpass"), "no password in the log");
    broker.stop().await;
}

#[tokio::test]
async fn precise_codes_answer_4_for_credentials_and_2_for_the_prefix() {
    let dir = TempDir::new("precise");
    let broker = course_broker(&dir, ConnackCodes::Precise, None).await;
    let code = connack(&broker, login("btsiot-c", Some("btsiot1"), Some("nope"))).await;
    assert_eq!(code, ConnectReturnCode::BadUsernameOrPassword);
    let code = connack(&broker, login("c", Some("btsiot1"), Some("btsiotpass1"))).await;
    assert_eq!(code, ConnectReturnCode::IdentifierRejected);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_pub_logs_in_as_in_the_course() {
    let dir = TempDir::new("pub");
    let broker = course_broker(&dir, ConnackCodes::Mosquitto, None).await;
    let port = broker.port().to_string();
    let ok = tokio::task::spawn_blocking(move || {
        let base = ["-h", "127.0.0.1", "-p", port.as_str(), "-V", "mqttv311", "-t", "PV/sunshine", "-m", "yes"];
        let good = run_tool(
            Command::new("mosquitto_pub").args(base).args([
                "-i",
                "btsiot-client1",
                "-u",
                "btsiot1",
                "-P",
                "btsiotpass1",
            ]),
            "mosquitto-clients",
        );
        let bad = run_tool(
            Command::new("mosquitto_pub").args(base).args(["-i", "btsiot-client1", "-u", "btsiot1", "-P", "wrong"]),
            "mosquitto-clients",
        );
        (good, bad)
    })
    .await
    .unwrap();
    assert!(ok.0.status.success(), "{}", String::from_utf8_lossy(&ok.0.stderr));
    assert!(!ok.1.status.success());
    assert!(
        String::from_utf8_lossy(&ok.1.stderr).contains("not authorised"),
        "{}",
        String::from_utf8_lossy(&ok.1.stderr)
    );
    broker.stop().await;
}

const ACL: &str = "\
user btsiot1
topic readwrite PV/#
topic deny PV/secret

user btsiot2
topic read PV/data
topic write lamp/cmd
";

async fn user_client(broker: &TestBroker, id: &str, user: &str, password: &str) -> RawClient {
    let mut c = RawClient::open(broker.addr).await;
    c.handshake({
        let Packet::Connect(c) = login(id, Some(user), Some(password)) else { unreachable!() };
        *c
    })
    .await;
    c
}

#[tokio::test]
async fn a_denied_subscription_gets_0x80_and_a_denied_publish_is_acknowledged_but_not_delivered() {
    let dir = TempDir::new("acl");
    let broker = course_broker(&dir, ConnackCodes::Mosquitto, Some(ACL)).await;
    let mut plant = user_client(&broker, "btsiot-plant", "btsiot1", "btsiotpass1").await;
    let mut student = user_client(&broker, "btsiot-student", "btsiot2", "btsiotpass2").await;
    let codes = student
        .subscribe(&[("PV/data", QoS::AtLeastOnce), ("PV/secret", QoS::AtMostOnce), ("lamp/#", QoS::AtMostOnce)])
        .await;
    assert_eq!(codes, [SubAckCode::Granted(QoS::AtLeastOnce), SubAckCode::FAILURE, SubAckCode::FAILURE]);

    // btsiot2 may not write PV/data: acknowledged, dropped, logged.
    student.send(publish("PV/data", b"fake", QosPid::AtLeastOnce(pid(7)), false)).await;
    assert_eq!(student.recv().await, Packet::PubAck(pid(7).into()));
    plant.send(publish("PV/data", b"3.9", QosPid::AtLeastOnce(pid(1)), false)).await;
    assert_eq!(plant.recv().await, Packet::PubAck(pid(1).into()));
    let got = student.recv_publish().await;
    assert_eq!(&got.payload[..], b"3.9", "only the plant's message arrives");
    student.send(Packet::PubAck(got.qos_pid.pid().unwrap().into())).await;
    assert!(student.sync().await.is_empty());
    assert!(broker.log_contains("Denied PUBLISH from btsiot-student"), "{}", broker.logs());
    assert!(broker.log_contains("Denied SUBSCRIBE from btsiot-student to PV/secret"), "{}", broker.logs());
    broker.stop().await;
}

#[tokio::test]
async fn wildcard_subscriptions_only_deliver_what_the_user_may_read_retained_included() {
    let dir = TempDir::new("acl-read");
    let broker = course_broker(&dir, ConnackCodes::Mosquitto, Some(ACL)).await;
    let mut plant = user_client(&broker, "btsiot-plant", "btsiot1", "btsiotpass1").await;
    for (i, t) in ["PV/data", "PV/sunshine"].iter().enumerate() {
        plant.send(publish(t, b"r", QosPid::AtLeastOnce(pid(i as u16 + 1)), true)).await;
        plant.recv().await;
    }
    let mut student = user_client(&broker, "btsiot-student", "btsiot2", "btsiotpass2").await;
    assert_eq!(student.subscribe(&[("PV/#", QoS::AtMostOnce)]).await, [SubAckCode::Granted(QoS::AtMostOnce)]);
    let retained = student.recv_publish().await;
    assert_eq!(retained.topic.as_str(), "PV/data", "PV/sunshine is not readable by btsiot2");
    plant.send(publish("PV/sunshine", b"yes", QosPid::AtLeastOnce(pid(3)), false)).await;
    plant.recv().await;
    plant.send(publish("PV/data", b"4.0", QosPid::AtLeastOnce(pid(4)), false)).await;
    plant.recv().await;
    assert_eq!(student.recv_publish().await.topic.as_str(), "PV/data");
    assert!(student.sync().await.is_empty());
    broker.stop().await;
}

#[tokio::test]
async fn reload_picks_up_a_new_user_and_keeps_the_old_settings_when_a_file_vanishes() {
    let dir = TempDir::new("reload");
    let broker = course_broker(&dir, ConnackCodes::Mosquitto, None).await;
    let newcomer = login("btsiot-new", Some("btsiot3"), Some("btsiotpass3"));
    assert_eq!(connack(&broker, newcomer.clone()).await, ConnectReturnCode::NotAuthorized);
    let out = run_tool(
        Command::new("mosquitto_passwd").arg("-b").arg(dir.0.join("mosqui_passfile")).args(["btsiot3", "btsiotpass3"]),
        "mosquitto",
    );
    assert!(out.status.success());
    broker.reload();
    assert_eq!(connack(&broker, newcomer.clone()).await, ConnectReturnCode::Accepted);

    std::fs::remove_file(dir.0.join("mosqui_passfile")).unwrap();
    broker.reload();
    assert!(broker.log_contains("keeping the previous settings"), "{}", broker.logs());
    assert_eq!(connack(&broker, newcomer).await, ConnectReturnCode::Accepted, "the loaded users stay in force");
    broker.stop().await;
}

#[tokio::test]
async fn a_malformed_password_line_is_logged_and_the_other_users_still_work() {
    let dir = TempDir::new("malformed");
    let path = course_password_file(&dir);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.insert_str(0, "student:plaintext\n");
    std::fs::write(&path, text).unwrap();
    let broker = TestBroker::with(|c| {
        c.allow_anonymous = Some(false);
        c.password_file = Some(path);
    })
    .await;
    assert!(broker.log_contains("line 1: user \"student\": the password is not hashed"), "{}", broker.logs());
    assert!(!broker.log_contains("plaintext"), "{}", broker.logs());
    let code = connack(&broker, login("c", Some("btsiot1"), Some("btsiotpass1"))).await;
    assert_eq!(code, ConnectReturnCode::Accepted);
    broker.stop().await;
}

/// Our `passwd` writes entries that Debian's real Mosquitto broker accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_written_by_our_passwd_are_accepted_by_mosquitto() {
    let dir = TempDir::new("ours-in-mosquitto");
    let pf = dir.0.join("passwd");
    let ours = run_tool(
        Command::new(env!("CARGO_BIN_EXE_mqtt-lab-broker"))
            .arg("passwd")
            .args(["-c", "-b"])
            .arg(&pf)
            .args(["btsiot1", "btsiotpass1"]),
        "(our binary)",
    );
    assert!(ours.status.success(), "{}", String::from_utf8_lossy(&ours.stderr));
    // A free port: bind port 0, note it, release it for mosquitto.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let conf = dir
        .file("m.conf", &format!("listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n", pf.display()));
    let mut mosquitto = Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("Debian's mosquitto runs");
    let stderr = mosquitto.stderr.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        use std::io::BufRead as _;
        std::io::BufReader::new(stderr).lines().map_while(Result::ok).any(|l| l.contains("running"))
    });
    assert!(tokio::time::timeout(support::PATIENCE, ready).await.unwrap().unwrap(), "mosquitto started");
    let port_s = port.to_string();
    let (good, bad) = tokio::task::spawn_blocking(move || {
        let args = ["-h", "127.0.0.1", "-p", port_s.as_str(), "-t", "t", "-m", "x", "-u", "btsiot1", "-P"];
        let good = run_tool(Command::new("mosquitto_pub").args(args).arg("btsiotpass1"), "mosquitto-clients");
        let bad = run_tool(Command::new("mosquitto_pub").args(args).arg("wrong"), "mosquitto-clients");
        (good, bad)
    })
    .await
    .unwrap();
    let _ = mosquitto.kill();
    let _ = mosquitto.wait();
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(!bad.status.success());
}
