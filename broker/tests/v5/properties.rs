//! What a PUBLISH carries from publisher to subscriber: its properties, topic aliases, and the
//! crossing between MQTT 5 and 3.1.1 clients.

use super::clients::{Proc, field, mosquitto_pub, mosquitto_sub};
use crate::support::brokers::BrokerProcess;

/// The six application properties, user properties with a repeated key and out of key order.
#[rustfmt::skip]
const PROPS: &[&str] = &[
    "-D", "publish", "user-property", "b", "1",
    "-D", "publish", "user-property", "a", "2",
    "-D", "publish", "user-property", "b", "3",
    "-D", "publish", "content-type", "text/plain",
    "-D", "publish", "response-topic", "reply/to",
    "-D", "publish", "correlation-data", "req-42",
    "-D", "publish", "payload-format-indicator", "1",
    "-D", "publish", "message-expiry-interval", "3600",
];

/// [MQTT-3.3.2-4], [MQTT-3.3.2-15], [MQTT-3.3.2-16], [MQTT-3.3.2-17], [MQTT-3.3.2-20]: the
/// server forwards these properties unaltered, user properties in order with repeats; the
/// message expiry interval is the time left, so at most what was sent.
pub fn properties_travel(b: &BrokerProcess) {
    let mut paho = Proc::connected(b, "props-sub", "");
    assert_eq!(paho.sub("props/t qos=1"), "suback rc=1");
    let sub = mosquitto_sub(
        b,
        &["-V", "mqttv5", "-q", "1", "-t", "props/t", "-F", "msg %t %p ct=%C rt=%R cd=%D pfi=%F exp=%E up=%P"],
    );
    for payload in ["first", "second"] {
        mosquitto_pub(b, &[&["-V", "mqttv5", "-q", "1", "-t", "props/t", "-m", payload], PROPS].concat());
    }
    let got = paho.expect_n("msg ", 2);
    for (line, payload) in got.iter().zip(["first", "second"]) {
        let exp: u32 = field(line, "exp").unwrap_or_else(|| panic!("no expiry in {line}")).parse().unwrap();
        assert!((3590..=3600).contains(&exp), "{line}");
        assert_eq!(
            line.replace(&format!("exp={exp}"), "exp=_"),
            format!(
                "msg props/t {payload} qos=1 retain=0 pfi=1 exp=_ ct=text/plain rt=reply/to cd=req-42 up=b:1,a:2,b:3"
            )
        );
    }
    let got = sub.expect_n("msg ", 2);
    for (line, payload) in got.iter().zip(["first", "second"]) {
        let exp = field(line, "exp").unwrap();
        assert_eq!(
            line.replace(&format!("exp={exp}"), "exp=_"),
            format!("msg props/t {payload} ct=text/plain rt=reply/to cd=req-42 pfi=1 exp=_ up=b:1 a:2 b:3")
        );
    }
}

/// [MQTT-3.3.2-12]: a topic alias set with a topic name stands for it in later PUBLISH packets
/// with an empty topic; subscribers get the full topic and not the publisher's alias, which
/// belongs to its connection alone.
pub fn topic_alias(b: &BrokerProcess) {
    let mut sub = Proc::connected(b, "alias-sub", "");
    assert_eq!(sub.sub("alias/# qos=1"), "suback rc=1");
    let mut paho = Proc::connected(b, "alias-pub", "");
    paho.send("pub alias/paho one qos=1 alias=1");
    paho.send("pub - two qos=1 alias=1");
    paho.send("pub alias/other three qos=1 alias=2");
    paho.send("pub - four qos=1 alias=1");
    assert_eq!(paho.expect_n("puback ", 4), ["puback rc=0"; 4]);
    // mosquitto_pub -l with a topic alias sends the topic only with the first line.
    let mut tool = Proc::spawn(
        super::clients::mosquitto(
            "mosquitto_pub",
            b,
            &["-V", "mqttv5", "-q", "1", "-t", "alias/tool", "-l", "-D", "publish", "topic-alias", "1"],
        ),
        "mosquitto_pub -l",
    );
    tool.send("five\nsix");
    tool.close_stdin();
    assert!(tool.wait_exit().success(), "{}", tool.report());
    assert_eq!(
        sub.expect_n("msg ", 6),
        [
            "msg alias/paho one qos=1 retain=0",
            "msg alias/paho two qos=1 retain=0",
            "msg alias/other three qos=1 retain=0",
            "msg alias/paho four qos=1 retain=0",
            "msg alias/tool five qos=1 retain=0",
            "msg alias/tool six qos=1 retain=0",
        ]
    );
}

/// A 3.1.1 subscriber gets the payload of an MQTT 5 publish with properties (and no
/// properties: 3.1.1 has none); an MQTT 5 subscriber gets a 3.1.1 publish with none added.
pub fn mixed_versions(b: &BrokerProcess) {
    let mut old = mosquitto_sub(b, &["-V", "mqttv311", "-q", "1", "-t", "mixed/#", "-F", "msg %t %p %q|%C|%P|%E"]);
    let mut new = Proc::connected(b, "mixed-sub", "");
    assert_eq!(new.sub("mixed/# qos=1"), "suback rc=1");
    mosquitto_pub(b, &[&["-V", "mqttv5", "-q", "1", "-t", "mixed/v5", "-m", "from-v5"], PROPS].concat());
    mosquitto_pub(b, &["-V", "mqttv311", "-q", "1", "-t", "mixed/v311", "-m", "from-v311"]);
    assert_eq!(old.expect_n("msg ", 2), ["msg mixed/v5 from-v5 1|||", "msg mixed/v311 from-v311 1|||"]);
    let got = new.expect_n("msg ", 2);
    assert!(got[0].starts_with("msg mixed/v5 from-v5 qos=1 retain=0 pfi=1 exp="), "{got:?}");
    assert_eq!(got[1], "msg mixed/v311 from-v311 qos=1 retain=0");
    old.kill();
    new.sync();
}
