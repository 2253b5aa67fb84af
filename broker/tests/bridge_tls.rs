//! Bridges over TLS-PSK and certificate TLS (issue 24), against Debian's Mosquitto 2.0.11 in
//! both directions, and against peers that do not hold what they should: a wrong pre-shared
//! key, a certificate server where a PSK one was configured, a CA that did not sign the server,
//! a certificate for another host, a server that wants a client certificate. Each refusal is
//! checked on both sides: our log says why, and the remote never read the bridge's CONNECT
//! (so its password never left on a connection the bridge had not authenticated).

#[path = "support/bridge_tls.rs"]
mod setup;
mod support;

use setup::{PSK_KEY, Pki, Side, bridge, psk_bridge, psk_file, psk_listener, refused, relays_both_ways, tls_listener};
use support::TempDir;
use support::brokers::{Kind, path as conf_path};

/// A key of the same length as [`PSK_KEY`] that the server does not hold.
const WRONG_KEY: &str = "0123456789abcdef0123456789abcdee";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_bridges_to_mosquitto_over_tls_psk() {
    let dir = TempDir::new("bridge-psk-ours");
    let remote = Side::start(Kind::Mosquitto, &dir, &psk_listener(&psk_file(&dir, PSK_KEY)));
    let local = bridge(Kind::Ours, &dir, &remote, &psk_bridge(PSK_KEY));
    relays_both_ways(&local, &remote).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_bridges_to_ours_over_tls_psk() {
    let dir = TempDir::new("bridge-psk-mosquitto");
    let remote = Side::start(Kind::Ours, &dir, &psk_listener(&psk_file(&dir, PSK_KEY)));
    let local = bridge(Kind::Mosquitto, &dir, &remote, &psk_bridge(PSK_KEY));
    relays_both_ways(&local, &remote).await;
}

/// The server does not hold the bridge's key: the handshake fails before any MQTT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_psk_bridge_with_a_wrong_key_never_connects() {
    let dir = TempDir::new("bridge-psk-wrong");
    let remote = Side::start(Kind::Mosquitto, &dir, &psk_listener(&psk_file(&dir, PSK_KEY)));
    let local = bridge(Kind::Ours, &dir, &remote, &psk_bridge(WRONG_KEY));
    refused(&local, &remote, &["TLS-PSK handshake", "refused the pre-shared key"]);

    // Mosquitto's bridge with a wrong key toward ours: our listener says what went wrong.
    let dir = TempDir::new("bridge-psk-wrong-mosquitto");
    let remote = Side::start(Kind::Ours, &dir, &psk_listener(&psk_file(&dir, PSK_KEY)));
    let local = bridge(Kind::Mosquitto, &dir, &remote, &psk_bridge(WRONG_KEY));
    remote.broker.wait_for_log("failed: TLS-PSK handshake", 0);
    let theirs = remote.broker.logs();
    assert!(theirs.contains("(a wrong pre-shared key for the identity?)"), "our listener should say why:\n{theirs}");
    setup::remote_refused(&remote.broker, &local);
}

/// A server that authenticates with a certificate, not the key: a PSK bridge cannot check it,
/// so it must not send it the CONNECT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_psk_bridge_refuses_a_certificate_server() {
    let dir = TempDir::new("bridge-psk-cert");
    let pki = Pki::new(&dir);
    let remote = Side::start(Kind::Mosquitto, &dir, &tls_listener(&pki.server_cert, &pki.server_key, ""));
    let local = bridge(Kind::Ours, &dir, &remote, &psk_bridge(PSK_KEY));
    refused(&local, &remote, &["TLS-PSK handshake", "did not use the pre-shared key"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_bridges_to_mosquitto_over_tls_with_bridge_cafile() {
    let dir = TempDir::new("bridge-tls-ok");
    let pki = Pki::new(&dir);
    let remote = Side::start(Kind::Mosquitto, &dir, &tls_listener(&pki.server_cert, &pki.server_key, ""));
    let local = bridge(Kind::Ours, &dir, &remote, &format!("bridge_cafile {}\n", conf_path(&pki.ca)));
    relays_both_ways(&local, &remote).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_bridge_refuses_a_server_its_ca_did_not_sign() {
    let dir = TempDir::new("bridge-tls-other-ca");
    let pki = Pki::new(&dir);
    let remote = Side::start(Kind::Mosquitto, &dir, &tls_listener(&pki.server_cert, &pki.server_key, ""));
    let local = bridge(Kind::Ours, &dir, &remote, &format!("bridge_cafile {}\n", conf_path(&pki.other_ca)));
    refused(&local, &remote, &["TLS handshake", "UnknownIssuer"]);
}

/// `bridge_insecure true` skips the host name and nothing else: a certificate for another host
/// is refused without it and accepted with it, and a CA that did not sign the server is
/// refused either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_insecure_accepts_another_host_name_but_not_another_ca() {
    let dir = TempDir::new("bridge-tls-insecure");
    let pki = Pki::new(&dir);
    let listener = tls_listener(&pki.elsewhere_cert, &pki.elsewhere_key, "");
    let ca = format!("bridge_cafile {}\n", conf_path(&pki.ca));

    let remote = Side::start(Kind::Mosquitto, &dir, &listener);
    let local = bridge(Kind::Ours, &dir, &remote, &ca);
    refused(&local, &remote, &["TLS handshake", "not valid for name"]);
    drop((local, remote));

    let remote = Side::start(Kind::Mosquitto, &dir, &listener);
    let local = bridge(Kind::Ours, &dir, &remote, &format!("{ca}bridge_insecure true\n"));
    relays_both_ways(&local, &remote).await;
    drop((local, remote));

    let remote = Side::start(Kind::Mosquitto, &dir, &listener);
    let other_ca = format!("bridge_cafile {}\nbridge_insecure true\n", conf_path(&pki.other_ca));
    let local = bridge(Kind::Ours, &dir, &remote, &other_ca);
    refused(&local, &remote, &["TLS handshake", "UnknownIssuer"]);
}

/// Mosquitto's listener with `require_certificate true`: our bridge with `bridge_certfile` and
/// `bridge_keyfile` gets in, without them it does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_bridge_presents_its_client_certificate() {
    let dir = TempDir::new("bridge-tls-client-cert");
    let pki = Pki::new(&dir);
    let required = format!("cafile {}\nrequire_certificate true\n", conf_path(&pki.ca));
    let listener = tls_listener(&pki.server_cert, &pki.server_key, &required);
    let ca = format!("bridge_cafile {}\n", conf_path(&pki.ca));

    let remote = Side::start(Kind::Mosquitto, &dir, &listener);
    let with_cert =
        format!("{ca}bridge_certfile {}\nbridge_keyfile {}\n", conf_path(&pki.client_cert), conf_path(&pki.client_key));
    let local = bridge(Kind::Ours, &dir, &remote, &with_cert);
    relays_both_ways(&local, &remote).await;
    drop((local, remote));

    let remote = Side::start(Kind::Mosquitto, &dir, &listener);
    let local = bridge(Kind::Ours, &dir, &remote, &ca);
    // TLS 1.3: the client's side of the handshake ends before the server judges its (empty)
    // certificate, so the refusal is the alert read where the CONNACK was expected.
    refused(&local, &remote, &["CertificateRequired"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_bridges_to_ours_over_tls_with_bridge_cafile() {
    let dir = TempDir::new("bridge-tls-mosquitto");
    let pki = Pki::new(&dir);
    let remote = Side::start(Kind::Ours, &dir, &tls_listener(&pki.server_cert, &pki.server_key, ""));
    let local = bridge(Kind::Mosquitto, &dir, &remote, &format!("bridge_cafile {}\n", conf_path(&pki.ca)));
    relays_both_ways(&local, &remote).await;
}
