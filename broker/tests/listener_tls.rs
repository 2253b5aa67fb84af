//! Certificate listener options against Debian's Mosquitto 2.0.11 (issue 24):
//! `use_subject_as_username`, `crlfile`, `capath`, `dhparamfile`. Both brokers start from the
//! same config text; mosquitto_pub connects with the same certificates; the outcomes (and the
//! user name each broker logs) must be the same.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::TempDir;
use support::brokers::{BrokerProcess, Kind, free_port, path};

/// A CA, a server certificate for localhost, two client certificates (the second revoked by
/// the CRL), a capath directory and DH parameters.
struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    /// Subject C=FR, O="Lycee, Lab", OU=BTS CIEL, CN=btsiot-student.
    good: (PathBuf, PathBuf),
    revoked: (PathBuf, PathBuf),
    crl: PathBuf,
    capath: PathBuf,
    dhparams: PathBuf,
}

/// The good client's subject as Mosquitto prints it (RFC 2253: last part first, the comma in O
/// escaped).
const GOOD_SUBJECT: &str = "CN=btsiot-student,OU=BTS CIEL,O=Lycee\\, Lab,C=FR";

fn openssl(args: &[&str]) -> std::process::Output {
    let out = support::run_tool(Command::new("openssl").args(args), "openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn make_pki(dir: &TempDir) -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer, DnType, IsCa,
        KeyIdMethod, KeyPair, RevokedCertParams, SerialNumber,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Listener TLS test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client = |serial: u8, dn: &[(DnType, &str)], name: &str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.serial_number = Some(SerialNumber::from(vec![serial]));
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (t, v) in dn {
            params.distinguished_name.push(t.clone(), *v);
        }
        let cert = params.signed_by(&key, &ca).unwrap();
        (dir.file(&format!("{name}.pem"), &cert.pem()), dir.file(&format!("{name}.key"), &key.serialize_pem()))
    };
    let good = client(
        1,
        &[
            (DnType::CountryName, "FR"),
            (DnType::OrganizationName, "Lycee, Lab"),
            (DnType::OrganizationalUnitName, "BTS CIEL"),
            (DnType::CommonName, "btsiot-student"),
        ],
        "good",
    );
    let revoked = client(2, &[(DnType::CommonName, "revoked-student")], "revoked");
    let now = rcgen::date_time_ymd(2026, 1, 1);
    let crl = CertificateRevocationListParams {
        this_update: now,
        next_update: rcgen::date_time_ymd(2036, 1, 1),
        crl_number: SerialNumber::from(vec![1]),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(vec![2]),
            revocation_time: now,
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca)
    .unwrap();
    let ca_path = dir.file("ca.pem", &ca.pem());
    // capath as OpenSSL reads it: the CA under its subject hash.
    let capath = dir.0.join("capath");
    std::fs::create_dir_all(&capath).unwrap();
    let hash = String::from_utf8(openssl(&["x509", "-hash", "-noout", "-in", path(&ca_path)]).stdout).unwrap();
    std::fs::copy(&ca_path, capath.join(format!("{}.0", hash.trim()))).unwrap();
    let dhparams = dir.0.join("dh.pem");
    openssl(&["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", path(&dhparams)]);
    Pki {
        ca: ca_path,
        server_cert: dir.file("server.pem", &server.pem()),
        server_key: dir.file("server.key", &server_key.serialize_pem()),
        good,
        revoked,
        crl: dir.file("crl.pem", &crl.pem().unwrap()),
        capath,
        dhparams,
    }
}

/// The listener's config: the server certificate and `extra` lines.
fn config(pki: &Pki, extra: &str) -> String {
    format!("listener PORT 127.0.0.1\ncertfile {}\nkeyfile {}\n{extra}", path(&pki.server_cert), path(&pki.server_key))
}

/// mosquitto_pub over TLS with `client`'s certificate (or none): "published", the CONNACK
/// refusal in mosquitto_pub's words, or "failed (...)".
fn publish(pki: &Pki, port: u16, client: Option<&(PathBuf, PathBuf)>) -> String {
    let mut cmd = Command::new("mosquitto_pub");
    cmd.args(["-h", "localhost", "-p", &port.to_string(), "--cafile", path(&pki.ca), "-i", "tls-client"]);
    cmd.args(["-t", "lab/tls", "-m", "x"]);
    if let Some((cert, key)) = client {
        cmd.args(["--cert", path(cert), "--key", path(key)]);
    }
    let out = support::run_tool(&mut cmd, "mosquitto-clients");
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        "published".into()
    } else if err.contains("not authorised") {
        "not authorised".into()
    } else if err.contains("bad user name or password") {
        "bad user name or password".into()
    } else {
        format!("failed ({})", err.lines().next().unwrap_or(""))
    }
}

/// The same config on both brokers; `run` gives each broker's answers, which must be equal.
fn compare(dir: &TempDir, conf: &str, run: impl Fn(&BrokerProcess) -> Vec<String>) -> Vec<String> {
    let answers: Vec<Vec<String>> =
        [Kind::Mosquitto, Kind::Ours].into_iter().map(|kind| run(&BrokerProcess::start(kind, dir, conf))).collect();
    assert_eq!(answers[1], answers[0], "ours against Mosquitto on:\n{conf}");
    answers.into_iter().next().unwrap()
}

#[test]
fn use_subject_as_username_is_the_rfc_2253_subject_as_in_mosquitto() {
    let dir = TempDir::new("listener-tls-subject");
    let pki = make_pki(&dir);
    let conf =
        config(&pki, &format!("cafile {}\nrequire_certificate true\nuse_subject_as_username true\n", path(&pki.ca)));
    let answers = compare(&dir, &conf, |broker| {
        let answer = publish(&pki, broker.port, Some(&pki.good));
        broker.wait_for_log(&format!("u'{GOOD_SUBJECT}'"), 0);
        vec![answer]
    });
    assert_eq!(answers, ["published"]);
    // Without require_certificate a client may come without one: it has no user name to take,
    // and Mosquitto 2.0.11 answers CONNACK 4 (logging "not authorised").
    let conf = config(&pki, &format!("cafile {}\nuse_subject_as_username true\nallow_anonymous true\n", path(&pki.ca)));
    let answers = compare(&dir, &conf, |broker| vec![publish(&pki, broker.port, None)]);
    assert_eq!(answers, ["bad user name or password"]);
}

#[test]
fn crlfile_refuses_a_revoked_certificate_as_mosquitto() {
    let dir = TempDir::new("listener-tls-crl");
    let pki = make_pki(&dir);
    let extra = format!(
        "cafile {}\ncrlfile {}\nrequire_certificate true\nallow_anonymous true\n",
        path(&pki.ca),
        path(&pki.crl)
    );
    let answers = compare(&dir, &config(&pki, &extra), |broker| {
        let good = publish(&pki, broker.port, Some(&pki.good));
        let revoked = publish(&pki, broker.port, Some(&pki.revoked));
        vec![good, if revoked.starts_with("failed") { "TLS failed".into() } else { revoked }]
    });
    assert_eq!(answers, ["published", "TLS failed"]);
}

#[test]
fn capath_trusts_the_cas_in_a_directory_as_mosquitto() {
    let dir = TempDir::new("listener-tls-capath");
    let pki = make_pki(&dir);
    let extra = format!("capath {}\nrequire_certificate true\nallow_anonymous true\n", path(&pki.capath));
    let answers = compare(&dir, &config(&pki, &extra), |broker| {
        let with = publish(&pki, broker.port, Some(&pki.good));
        let without = publish(&pki, broker.port, None);
        vec![with, if without.starts_with("failed") { "TLS failed".into() } else { without }]
    });
    assert_eq!(answers, ["published", "TLS failed"]);
}

/// A listener with good DH parameters serves clients; a file that holds none stops both
/// brokers at startup. Ours says at startup that its TLS uses ECDHE.
#[test]
fn dhparamfile_is_checked_as_mosquitto_checks_it() {
    let dir = TempDir::new("listener-tls-dh");
    let pki = make_pki(&dir);
    let conf = config(&pki, &format!("dhparamfile {}\nallow_anonymous true\n", path(&pki.dhparams)));
    let answers = compare(&dir, &conf, |broker| {
        if broker.kind == Kind::Ours {
            broker.wait_for_log("uses ECDHE key exchange", 0);
        }
        vec![publish(&pki, broker.port, None)]
    });
    assert_eq!(answers, ["published"]);
    let bad = config(&pki, &format!("dhparamfile {}\nallow_anonymous true\n", path(&pki.ca)));
    let bad = dir.file("bad.conf", &bad.replace("PORT", &free_port().to_string()));
    for program in ["mosquitto", env!("CARGO_BIN_EXE_mqtt-lab-broker")] {
        let out = support::run_tool(Command::new(program).arg("-c").arg(&bad), "mosquitto");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{program} started with a dhparamfile that holds a certificate");
        assert!(err.to_lowercase().contains("dhparam"), "{program}: {err}");
    }
}
