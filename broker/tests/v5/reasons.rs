//! Reason codes that MQTT 5 clients see: a refused CONNACK, SUBACK and PUBACK under an ACL, and
//! the server's DISCONNECT when another connection takes over a client id.

use super::clients::{Proc, paho};
use crate::support::TempDir;
use crate::support::brokers::{BrokerProcess, Kind, path};

/// alice / secret may use allowed/# only (and sync/#, the paho driver's round trips); no
/// anonymous access.
pub fn conf(dir: &TempDir) -> String {
    let passwords = dir.0.join("passwords");
    crate::support::mosquitto_passwd(&passwords, &[("alice", "secret")]);
    let acl = dir.file("acl", "user alice\ntopic readwrite allowed/#\ntopic readwrite sync/#\n");
    format!(
        "listener PORT 127.0.0.1\nallow_anonymous false\npassword_file {}\nacl_file {}\n",
        path(&passwords),
        path(&acl)
    )
}

/// [MQTT-3.2.2-8]: a refused CONNECT gets a CONNACK with a reason code >= 0x80, then the
/// connection closes. For a wrong password the spec's code is 0x86 (Bad User Name or
/// Password); Mosquitto 2.0.11 sends 0x87 (Not authorized), also for no credentials at all.
/// Request problem information 0 changes nothing (Mosquitto sends no reason string anyway).
pub fn refused_connack(b: &BrokerProcess) {
    for (client_id, args) in
        [("wrong", "user=alice pass=wrong"), ("quiet", "user=alice pass=wrong rpi=0"), ("nobody", "")]
    {
        let mut c = paho(b, client_id);
        let connack = c.connect(args);
        let code: u8 = super::clients::field(&connack, "rc").unwrap().parse().unwrap();
        assert!(matches!(code, 0x86 | 0x87), "{connack}");
        assert_eq!(connack, format!("connack rc={code} sp=0"), "no properties, no reason string");
        c.expect("disconnected ");
    }
}

/// ACL denials: a PUBLISH to a denied topic gets PUBACK 0x87 and reaches nobody. A SUBSCRIBE to
/// a denied filter: Mosquitto grants it (SUBACK QoS 1, where 0x87 would be allowed too) and
/// delivers nothing on it.
pub fn acl_reason_codes(b: &BrokerProcess) {
    let mut c = Proc::connected(b, "alice", "user=alice pass=secret");
    let granted = c.sub("denied/t qos=1");
    assert!(granted == "suback rc=1" || granted == "suback rc=135", "{granted}");
    assert_eq!(c.sub("allowed/t qos=1"), "suback rc=1");
    c.send("pub denied/t no qos=1");
    assert_eq!(c.expect("puback "), "puback rc=135");
    c.send("pub allowed/t yes qos=1");
    assert_eq!(c.expect("puback "), "puback rc=0");
    c.sync();
    assert_eq!(c.msgs(), ["msg allowed/t yes qos=1 retain=0"]);
}

/// [MQTT-3.1.4-3]: a second connection with the same client id takes the session over; the
/// first connection is closed. The spec has the server send it DISCONNECT 0x8E (Session taken
/// over) first; Mosquitto 2.0.11 closes it without a DISCONNECT (paho then reports 0x80 for a
/// lost connection), so the 0x8E is checked on our broker only.
pub fn session_taken_over(b: &BrokerProcess) {
    let mut first = Proc::connected(b, "twin", "");
    first.sync();
    let mut second = Proc::connected(b, "twin", "");
    let gone = first.expect("disconnected ");
    match b.kind {
        Kind::Ours => assert_eq!(gone, "disconnected rc=142 packet=1", "{}", first.report()),
        Kind::Mosquitto => assert_eq!(gone, "disconnected rc=128 packet=0", "{}", first.report()),
    }
    second.sync();
    assert!(second.all("disconnected").is_empty(), "{}", second.report());
}
