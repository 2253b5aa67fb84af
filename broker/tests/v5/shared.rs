//! [MQTT-4.8.2]: shared subscriptions. Each message on `$share/GROUP/FILTER` goes to one member
//! of the group; every other subscription, a group of its own or a plain one, gets it too.

use super::clients::{Proc, mosquitto, mosquitto_sub};
use crate::support::brokers::BrokerProcess;

const COUNT: usize = 20;

pub fn shared_subscriptions(b: &BrokerProcess) {
    let mut members = [Proc::connected(b, "member-1", ""), Proc::connected(b, "member-2", "")];
    for m in &mut members {
        assert_eq!(m.sub("$share/group/shared/+ qos=1"), "suback rc=1");
    }
    let mut plain = Proc::connected(b, "plain", "");
    assert_eq!(plain.sub("shared/+ qos=1"), "suback rc=1");
    let old = mosquitto_sub(b, &["-V", "mqttv311", "-q", "1", "-t", "$share/other/shared/t", "-F", "msg %t %p"]);
    let mut publisher = super::clients::Proc::spawn(
        mosquitto("mosquitto_pub", b, &["-V", "mqttv5", "-q", "1", "-t", "shared/t", "-l"]),
        "mosquitto_pub -l",
    );
    let payloads: Vec<String> = (1..=COUNT).map(|i| format!("m{i}")).collect();
    publisher.send(&payloads.join("\n"));
    publisher.close_stdin();
    assert!(publisher.wait_exit().success(), "{}", publisher.report());

    let all: Vec<String> = payloads.iter().map(|p| format!("msg shared/t {p} qos=1 retain=0")).collect();
    assert_eq!(plain.expect_n("msg ", COUNT), all, "a plain subscription gets every message, in order");
    let old_all: Vec<String> = payloads.iter().map(|p| format!("msg shared/t {p}")).collect();
    assert_eq!(old.expect_n("msg ", COUNT), old_all, "a 3.1.1 group of one gets every message");
    // The members may still be receiving: sync each, then the group must have had each once.
    for m in &mut members {
        m.sync();
    }
    let got: Vec<Vec<String>> = members.iter().map(Proc::msgs).collect();
    assert!(got.iter().all(|g| !g.is_empty()), "both members get some: {got:?}");
    let mut merged: Vec<String> = got.concat();
    merged.sort_by_key(|l| l.split(' ').nth(2).and_then(|p| p[1..].parse::<usize>().ok()));
    assert_eq!(merged, all, "the group gets each message exactly once: {got:?}");
}
