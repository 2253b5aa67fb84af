//! [MQTT-3.1.3-9]: the will delay interval. The will goes out once the delay has passed after
//! the connection was lost, and not at all if the client reconnects to its session before.

use std::time::{Duration, Instant};

use super::clients::Proc;
use super::expiry::wait_until;
use crate::support::brokers::BrokerProcess;

/// Connects `client_id` with a will on will/t delayed 2 s and a session that outlives it, then
/// kills the process: its socket closes with no DISCONNECT. Returns when it was killed.
fn lose(b: &BrokerProcess, client_id: &str) -> Instant {
    let mut c = Proc::connected(b, client_id, &format!("will=will/t will_payload={client_id} will_qos=1 wdi=2 sei=30"));
    c.sync();
    c.kill();
    Instant::now()
}

pub fn will_delay(b: &BrokerProcess) {
    let mut watcher = Proc::connected(b, "will-watcher", "");
    assert_eq!(watcher.sub("will/t qos=1"), "suback rc=1");
    let lost = lose(b, "will-late");
    assert_eq!(watcher.expect("msg "), "msg will/t will-late qos=1 retain=0");
    let after = lost.elapsed();
    // `lost` is taken just after the socket closed, so a broker that waits exactly 2 s may
    // look a little early here. (Mosquitto sends it on a whole-second tick: 2.3 to 3.7 s.)
    assert!(after >= Duration::from_millis(1900), "the will came {after:?} after the loss, before its delay");

    let lost = lose(b, "will-back");
    let back = Proc::connected(b, "will-back", "clean=0 sei=30");
    assert!(lost.elapsed() < Duration::from_secs(1), "reconnected too late to test this ({:?})", lost.elapsed());
    assert!(back.all("connack ")[0].starts_with("connack rc=0 sp=1"), "{}", back.report());
    // Three times the delay, as Mosquitto's whole-second ticks can add almost 2 s: a will
    // would have come by now.
    wait_until(lost, Duration::from_secs(6));
    watcher.sync();
    assert_eq!(watcher.msgs(), ["msg will/t will-late qos=1 retain=0"], "no will for a client that came back");
}
