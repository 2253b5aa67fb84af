//! [MQTT-3.8.3-1]: the subscription options of MQTT 5 (no local, retain as published, retain
//! handling) and subscription identifiers.

use super::clients::{Proc, field, mosquitto_pub};
use crate::support::brokers::BrokerProcess;

/// [MQTT-3.8.3-3]: with no local, a client's own messages do not come back to it.
pub fn no_local(b: &BrokerProcess) {
    let mut c = Proc::connected(b, "no-local", "");
    assert_eq!(c.sub("nl/quiet qos=1 nl=1"), "suback rc=1");
    assert_eq!(c.sub("nl/echo qos=1"), "suback rc=1");
    c.send("pub nl/quiet own qos=1");
    c.send("pub nl/echo own qos=1");
    mosquitto_pub(b, &["-V", "mqttv5", "-q", "1", "-t", "nl/quiet", "-m", "other"]);
    c.expect_n("puback ", 2);
    c.sync();
    let mut got = c.msgs();
    got.sort();
    assert_eq!(got, ["msg nl/echo own qos=1 retain=0", "msg nl/quiet other qos=1 retain=0"]);
}

/// [MQTT-3.3.1-12], [MQTT-3.3.1-13]: live messages published with RETAIN keep the flag only for
/// a subscription with retain as published.
pub fn retain_as_published(b: &BrokerProcess) {
    let mut c = Proc::connected(b, "rap", "");
    assert_eq!(c.sub("rap/kept qos=1 rap=1"), "suback rc=1");
    assert_eq!(c.sub("rap/cleared qos=1 rap=0"), "suback rc=1");
    for t in ["rap/kept", "rap/cleared"] {
        mosquitto_pub(b, &["-V", "mqttv5", "-q", "1", "-t", t, "-m", "retained", "-r"]);
        mosquitto_pub(b, &["-V", "mqttv5", "-q", "1", "-t", t, "-m", "plain"]);
    }
    assert_eq!(
        c.expect_n("msg ", 4),
        [
            "msg rap/kept retained qos=1 retain=1",
            "msg rap/kept plain qos=1 retain=0",
            "msg rap/cleared retained qos=1 retain=0",
            "msg rap/cleared plain qos=1 retain=0",
        ]
    );
}

/// [MQTT-3.3.1-9], [MQTT-3.3.1-10], [MQTT-3.3.1-11]: retain handling 0 sends retained messages
/// on every subscribe, 1 only when the subscription is new, 2 never.
pub fn retain_handling(b: &BrokerProcess) {
    mosquitto_pub(b, &["-V", "mqttv5", "-q", "1", "-t", "rh/t", "-m", "stored", "-r"]);
    let mut c = Proc::connected(b, "rh", "");
    let expect = |c: &mut Proc, sub: &str, retained: usize| {
        let before = c.msgs().len();
        assert_eq!(c.sub(sub), "suback rc=1");
        c.sync();
        let got = c.msgs()[before..].to_vec();
        assert_eq!(got, vec!["msg rh/t stored qos=1 retain=1"; retained], "after sub {sub}");
    };
    expect(&mut c, "rh/t qos=1 rh=1", 1);
    expect(&mut c, "rh/t qos=1 rh=1", 0);
    expect(&mut c, "rh/+ qos=1 rh=2", 0);
    expect(&mut c, "rh/t qos=1 rh=0", 1);
    expect(&mut c, "rh/# qos=1 rh=0", 1);
}

/// [MQTT-3.8.4-6]-style overlap and [MQTT-3.3.4-3]/[MQTT-3.3.4-4]/[MQTT-3.3.4-5]: a message
/// carries the identifier of the subscription it matched; matching two, the server sends one
/// copy with both identifiers or one copy per subscription with its own (Mosquitto: the
/// latter, the most recent subscription first).
pub fn subscription_identifiers(b: &BrokerProcess) {
    let mut c = Proc::connected(b, "sid", "");
    assert_eq!(c.sub("sid/# qos=1 sid=7"), "suback rc=1");
    assert_eq!(c.sub("sid/t qos=1 sid=9"), "suback rc=1");
    assert_eq!(c.sub("nosid/t qos=1"), "suback rc=1");
    mosquitto_pub(b, &["-V", "mqttv5", "-q", "1", "-t", "sid/other", "-m", "one"]);
    mosquitto_pub(b, &["-V", "mqttv5", "-q", "1", "-t", "sid/t", "-m", "both"]);
    mosquitto_pub(b, &["-V", "mqttv5", "-q", "1", "-t", "nosid/t", "-m", "none"]);
    c.expect("msg nosid/t");
    c.sync();
    let got = c.msgs();
    assert_eq!(got[0], "msg sid/other one qos=1 retain=0 sid=7");
    assert_eq!(got.last().unwrap(), "msg nosid/t none qos=1 retain=0", "no identifier without one: {got:?}");
    let both = &got[1..got.len() - 1];
    let mut ids: Vec<&str> = both.iter().flat_map(|l| field(l, "sid").unwrap_or("").split(',')).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["7", "9"], "both identifiers, once each: {both:?}");
    assert!(both.iter().all(|l| l.starts_with("msg sid/t both qos=1 retain=0 sid=")), "{both:?}");
}
