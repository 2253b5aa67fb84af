//! TLS-PSK (the course's port 8883) and certificate TLS, with Debian's Mosquitto clients, a
//! C client on mbedTLS set up like an ESP32, and certificates made by rcgen for each test.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use mqtt_lab_broker::config::ListenerConfig;
use support::{TempDir, TestBroker, run_tool};

const PSK_KEY: &str = "0123456789abcdef0123";

async fn psk_broker(dir: &TempDir, edit: impl FnOnce(&mut ListenerConfig)) -> TestBroker {
    let psk_file = dir.file("mosqui_pskfile", &format!("btsiot1:{PSK_KEY}\n"));
    let mut listener = ListenerConfig { psk_hint: Some("btsiot".into()), ..ListenerConfig::default() };
    edit(&mut listener);
    TestBroker::with(move |c| {
        c.psk_file = Some(psk_file);
        c.listeners.push(listener);
    })
    .await
}

/// Runs a blocking client off the runtime.
async fn blocking(mut cmd: Command, package: &'static str) -> Output {
    tokio::task::spawn_blocking(move || run_tool(&mut cmd, package)).await.unwrap()
}

fn mosquitto_pub(port: u16, extra: &[&str]) -> Command {
    let mut cmd = Command::new("mosquitto_pub");
    cmd.args(["-V", "mqttv311", "-h", "127.0.0.1", "-p", &port.to_string(), "-t", "PV/sunshine", "-m", "Hallobts"])
        .args(extra);
    cmd
}

/// The ESP32-like client, compiled once per test process with Debian's mbedTLS. nextest runs
/// each test in a process of its own: each compiles to a file of its own and renames it into
/// place, since writing over the binary while another process runs it fails (ETXTBSY).
fn esp32_client() -> &'static PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("esp32-psk-client");
        let building = out.with_extension(format!("{}.part", std::process::id()));
        let source = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/esp32-psk/client.c");
        let status = Command::new("cc")
            .args(["-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&building)
            .arg(source)
            .args(["-lmbedtls", "-lmbedx509", "-lmbedcrypto"])
            .status()
            .expect("a C compiler (cc) builds the ESP32 test client");
        assert!(status.success(), "building the mbedTLS client failed: install Debian's libmbedtls-dev");
        std::fs::rename(&building, &out).expect("the built client moves into place");
        out
    })
}

async fn esp32(port: u16, key: &str, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(esp32_client());
    cmd.args(["127.0.0.1", &port.to_string(), "btsiot1", key]).args(args);
    let out = blocking(cmd, "libmbedtls-dev").await;
    (out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_course_psk_commands_work_against_our_listener() {
    let dir = TempDir::new("psk-course");
    let broker = psk_broker(&dir, |_| {}).await;
    let port = broker.port();
    let psk = ["--psk-identity", "btsiot1", "--psk", PSK_KEY];
    let mut sub = Command::new("mosquitto_sub");
    sub.args([
        "-V",
        "mqttv311",
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-i",
        "btsiot-client1",
        "-t",
        "PV/sunshine",
        "-C",
        "1",
        "-W",
        "10",
    ])
    .args(psk);
    let sub = tokio::task::spawn_blocking(move || run_tool(&mut sub, "mosquitto-clients"));
    broker.wait_for_log("btsiot-client1 0 PV/sunshine").await;
    let mut publish = mosquitto_pub(port, &["-i", "btsiot-client2"]);
    publish.args(psk);
    let out = blocking(publish, "mosquitto-clients").await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let received = sub.await.unwrap();
    assert_eq!(String::from_utf8_lossy(&received.stdout), "Hallobts\n");
    assert!(broker.log_contains("TLSv1.3"), "mosquitto clients negotiate TLS 1.3 external PSK:\n{}", broker.logs());
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esp32_mbedtls_client_connects_with_a_tls_1_2_psk_suite() {
    let dir = TempDir::new("psk-esp32");
    let broker = psk_broker(&dir, |_| {}).await;
    let (ok, out) = esp32(broker.port(), PSK_KEY, &["btsiot-esp32"]).await;
    assert!(ok, "{out}\n{}", broker.logs());
    assert!(out.starts_with("CONNACK 0 TLS-ECDHE-PSK-"), "{out}");
    assert!(out.ends_with("TLSv1.2"), "{out}");
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_or_unknown_identity_is_refused_and_the_broker_keeps_serving() {
    let dir = TempDir::new("psk-wrong");
    let broker = psk_broker(&dir, |_| {}).await;
    let port = broker.port();
    let wrong = mosquitto_pub(port, &["--psk-identity", "btsiot1", "--psk", "0123456789abcdef0124"]);
    assert!(!blocking(wrong, "mosquitto-clients").await.status.success());
    broker.wait_for_log("a wrong pre-shared key for the identity?").await;
    let (ok, out) = esp32(port, "0123456789abcdef0124", &["btsiot-esp32"]).await;
    assert!(!ok && out.starts_with("FAILED handshake"), "{out}");
    let unknown = mosquitto_pub(port, &["--psk-identity", "stranger", "--psk", PSK_KEY]);
    assert!(!blocking(unknown, "mosquitto-clients").await.status.success());
    broker.wait_for_log("TLS-PSK identity \"stranger\" is not in the psk_file.").await;
    assert!(!broker.log_contains(PSK_KEY), "keys never reach the log");
    let (ok, out) = esp32(port, PSK_KEY, &["btsiot-esp32"]).await;
    assert!(ok, "the broker still serves: {out}");
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psk_with_password_file_and_prefix_as_in_the_course() {
    let dir = TempDir::new("psk-full");
    let passwords = dir.0.join("mosqui_passfile");
    let made = run_tool(
        Command::new("mosquitto_passwd").args(["-c", "-b"]).arg(&passwords).args(["btsiot1", "btsiotpass1"]),
        "mosquitto",
    );
    assert!(made.status.success());
    let psk_file = dir.file("mosqui_pskfile", &format!("btsiot1:{PSK_KEY}\n"));
    let broker = TestBroker::with(move |c| {
        c.allow_anonymous = Some(false);
        c.password_file = Some(passwords);
        c.clientid_prefixes = Some("btsiot-".into());
        c.psk_file = Some(psk_file);
        c.listeners.push(ListenerConfig { psk_hint: Some("btsiot".into()), ..ListenerConfig::default() });
    })
    .await;
    let port = broker.port();
    let (ok, out) = esp32(port, PSK_KEY, &["btsiot-esp32", "btsiot1", "btsiotpass1"]).await;
    assert!(ok, "{out}");
    let (ok, out) = esp32(port, PSK_KEY, &["esp32", "btsiot1", "btsiotpass1"]).await;
    assert!(!ok && out.starts_with("CONNACK 5"), "missing prefix: {out}");
    let (ok, out) = esp32(port, PSK_KEY, &["btsiot-esp32", "btsiot1", "wrong"]).await;
    assert!(!ok && out.starts_with("CONNACK 5"), "wrong password: {out}");
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_identity_as_username_makes_the_psk_identity_the_user() {
    let dir = TempDir::new("psk-identity");
    let psk_file = dir.file("psk", &format!("btsiot1:{PSK_KEY}\n"));
    let broker = TestBroker::with(move |c| {
        c.allow_anonymous = Some(false);
        c.psk_file = Some(psk_file);
        c.listeners.push(ListenerConfig {
            psk_hint: Some("btsiot".into()),
            use_identity_as_username: true,
            ..ListenerConfig::default()
        });
    })
    .await;
    let (ok, out) = esp32(broker.port(), PSK_KEY, &["btsiot-esp32"]).await;
    assert!(ok, "no MQTT user name needed: the PSK authenticated the client: {out}");
    assert!(broker.log_contains("as btsiot-esp32 (p2, c1, k15, u'btsiot1')"), "{}", broker.logs());
    broker.stop().await;
}

/// A CA, a server certificate for localhost and 127.0.0.1, and a client certificate.
struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn make_pki(dir: &TempDir) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "MQTT Lab test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params.distinguished_name.push(DnType::CommonName, "btsiot-esp32");
    let client = client_params.signed_by(&client_key, &ca).unwrap();
    Pki {
        ca: dir.file("ca.pem", &ca.pem()),
        server_cert: dir.file("server.pem", &server.pem()),
        server_key: dir.file("server.key", &server_key.serialize_pem()),
        client_cert: dir.file("client.pem", &client.pem()),
        client_key: dir.file("client.key", &client_key.serialize_pem()),
    }
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_clients_connect_over_certificate_tls() {
    let dir = TempDir::new("tls");
    let pki = make_pki(&dir);
    let (cert, key) = (pki.server_cert.clone(), pki.server_key.clone());
    let broker = TestBroker::with(move |c| {
        c.listeners.push(ListenerConfig { certfile: Some(cert), keyfile: Some(key), ..ListenerConfig::default() });
    })
    .await;
    let port = broker.port().to_string();
    let ok = blocking(
        {
            let mut cmd = Command::new("mosquitto_pub");
            cmd.args(["-h", "localhost", "-p", &port, "--cafile", path(&pki.ca), "-t", "t", "-m", "x"]);
            cmd
        },
        "mosquitto-clients",
    )
    .await;
    assert!(ok.status.success(), "{}\n{}", String::from_utf8_lossy(&ok.stderr), broker.logs());
    // A client that does not trust our CA refuses the broker; the broker logs the failure.
    let other_dir = TempDir::new("tls-other");
    let other = make_pki(&other_dir);
    let refused = blocking(
        {
            let mut cmd = Command::new("mosquitto_pub");
            cmd.args(["-h", "localhost", "-p", &port, "--cafile", path(&other.ca), "-t", "t", "-m", "x"]);
            cmd
        },
        "mosquitto-clients",
    )
    .await;
    assert!(!refused.status.success());
    broker.wait_for_log("TLS handshake").await;
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_certificate_admits_only_clients_with_a_certificate_from_the_ca() {
    let dir = TempDir::new("tls-client");
    let pki = make_pki(&dir);
    let listener = ListenerConfig {
        certfile: Some(pki.server_cert.clone()),
        keyfile: Some(pki.server_key.clone()),
        cafile: Some(pki.ca.clone()),
        require_certificate: true,
        use_identity_as_username: true,
        ..ListenerConfig::default()
    };
    let broker = TestBroker::with(move |c| {
        c.allow_anonymous = Some(false);
        c.listeners.push(listener);
    })
    .await;
    let port = broker.port().to_string();
    let run = |extra: Vec<String>| {
        let mut cmd = Command::new("mosquitto_pub");
        cmd.args([
            "-h",
            "localhost",
            "-p",
            &port,
            "--cafile",
            path(&pki.ca),
            "-i",
            "btsiot-esp32",
            "-t",
            "t",
            "-m",
            "x",
        ])
        .args(extra);
        blocking(cmd, "mosquitto-clients")
    };
    let without = run(vec![]).await;
    assert!(!without.status.success(), "no client certificate: refused");
    let with =
        run(vec!["--cert".into(), path(&pki.client_cert).into(), "--key".into(), path(&pki.client_key).into()]).await;
    assert!(with.status.success(), "{}\n{}", String::from_utf8_lossy(&with.stderr), broker.logs());
    assert!(broker.log_contains("u'btsiot-esp32'"), "the certificate's common name is the user:\n{}", broker.logs());
    broker.stop().await;
}

#[tokio::test]
async fn a_listener_with_a_broken_certificate_is_a_clear_startup_error() {
    let dir = TempDir::new("tls-broken");
    let cert = dir.file("server.pem", "not a certificate\n");
    let key = dir.file("server.key", "not a key\n");
    let config = mqtt_lab_broker::Config::default();
    let broker = mqtt_lab_broker::Broker::start(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = ListenerConfig { port: 8883, certfile: Some(cert), keyfile: Some(key), ..ListenerConfig::default() };
    let err = broker.listen(listener, &settings).unwrap_err().to_string();
    assert!(err.starts_with("listener 8883:") && err.contains("server.key"), "{err}");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_applies_a_changed_psk_file_to_the_next_handshake() {
    let dir = TempDir::new("psk-reload");
    let broker = psk_broker(&dir, |_| {}).await;
    let new_key = "00112233445566778899aabbccddeeff";
    let (ok, _) = esp32(broker.port(), new_key, &["btsiot-esp32"]).await;
    assert!(!ok, "not the key yet");
    dir.file("mosqui_pskfile", &format!("btsiot1:{new_key}\n"));
    broker.reload();
    let (ok, out) = esp32(broker.port(), new_key, &["btsiot-esp32"]).await;
    assert!(ok, "the new key works after reload: {out}");
    let (ok, _) = esp32(broker.port(), PSK_KEY, &["btsiot-esp32"]).await;
    assert!(!ok, "the old key no longer does");
    broker.stop().await;
}
