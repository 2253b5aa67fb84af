//! Time in MQTT 5: a message's expiry interval while it waits in an offline session, and the
//! session's own expiry interval. The only sleeps are lower bounds: "this much time has passed".

use std::time::{Duration, Instant};

use super::clients::{Proc, field, mosquitto_pub};
use crate::support::brokers::BrokerProcess;

/// Sleeps until `since` is at least `at_least` ago.
pub fn wait_until(since: Instant, at_least: Duration) {
    std::thread::sleep(at_least.saturating_sub(since.elapsed()));
}

/// [MQTT-3.3.2-5]: a message whose expiry interval passed is not delivered to a session that
/// was offline meanwhile; [MQTT-3.3.2-6]: one still alive goes out with the time it has left.
pub fn message_expiry(b: &BrokerProcess) {
    let mut sub = Proc::connected(b, "expiry-sub", "clean=1 sei=300");
    assert_eq!(sub.sub("expiry/t qos=1"), "suback rc=1");
    sub.send("disconnect");
    sub.expect("disconnected rc=0");
    drop(sub);
    let published = Instant::now();
    mosquitto_pub(
        b,
        &["-V", "mqttv5", "-q", "1", "-t", "expiry/t", "-m", "short", "-D", "publish", "message-expiry-interval", "1"],
    );
    mosquitto_pub(
        b,
        &["-V", "mqttv5", "-q", "1", "-t", "expiry/t", "-m", "long", "-D", "publish", "message-expiry-interval", "60"],
    );
    wait_until(published, Duration::from_millis(2500));
    let mut sub = Proc::connected(b, "expiry-sub", "clean=0 sei=300");
    assert!(sub.all("connack ")[0].starts_with("connack rc=0 sp=1"), "{}", sub.report());
    sub.sync();
    let got = sub.msgs();
    assert_eq!(got.len(), 1, "only the unexpired message: {got:?}");
    let left: u32 = field(&got[0], "exp").unwrap_or_else(|| panic!("no expiry in {got:?}")).parse().unwrap();
    // 2.5 s have passed since it was published with 60 s: at most 58 whole seconds are left.
    assert!((1..=58).contains(&left), "{got:?}");
    assert_eq!(got[0].replace(&format!("exp={left}"), "exp=_"), "msg expiry/t long qos=1 retain=0 exp=_");
}

/// [MQTT-3.1.2-23]: a session outlives its connection for the session expiry interval: within
/// it, a reconnect finds the session (session present, the queued message); after it, not.
pub fn session_expiry(b: &BrokerProcess) {
    let mut c = Proc::connected(b, "session", "clean=0 sei=2");
    assert_eq!(c.sub("session/t qos=1"), "suback rc=1");
    c.send("disconnect");
    c.expect("disconnected rc=0");
    drop(c);
    mosquitto_pub(b, &["-V", "mqttv5", "-q", "1", "-t", "session/t", "-m", "kept"]);
    let mut c = Proc::connected(b, "session", "clean=0 sei=2");
    assert!(c.all("connack ")[0].starts_with("connack rc=0 sp=1"), "{}", c.report());
    assert_eq!(c.expect("msg "), "msg session/t kept qos=1 retain=0");
    c.send("disconnect");
    c.expect("disconnected rc=0");
    let gone = Instant::now();
    drop(c);
    // Well past the interval: Mosquitto counts it in whole seconds and ends it only on a later
    // tick, 2 to 4 s after the disconnect here (once, under load, the session was still there
    // 2.5 s after).
    wait_until(gone, Duration::from_secs(5));
    let c = Proc::connected(b, "session", "clean=0 sei=2");
    assert!(c.all("connack ")[0].starts_with("connack rc=0 sp=0"), "{}", c.report());
}
