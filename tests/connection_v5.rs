//! MQTT 5 through the app's connection worker (`Connection::open`, the UI's contract), against
//! our broker and Debian's Mosquitto 2.0.11 with the same ACL: properties round trip,
//! subscription identifiers, no local, retain handling 2, ACL refusals in words, CONNACK
//! properties (assigned client id, server keep alive), and topic aliases our broker assigns.
//! Waits are on the connection's repaint signal with a bounded deadline, never on sleeps.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqtt_lab::connection::{
    Command, ConnectSettings, ConnectV5, Connection, ConnectionStatus, Direction, Event, Granted, MqttVersion,
    Outgoing, Qos, ReceivedMessage, Refusal, Security, SubOptions, TlsVersion,
};
use mqtt_lab::mqtt::{RetainHandling, UserProperty};
use support::mosquitto::{Mosquitto, free_port};
use support::{PATIENCE, ProfileDir};

/// Anonymous clients (the ACL's lines before any `user` line): v5/# freely; locked/in may be
/// written but not read, locked/out read but not written.
const ACL: &str = "topic readwrite v5/#\ntopic write locked/in\ntopic read locked/out\n";

/// A broker with the ACL and `max_keepalive 10`, on a free port, until dropped.
struct Setup {
    runtime: tokio::runtime::Runtime,
    port: u16,
    ours: bool,
    _broker: Option<mqtt_lab_broker::Broker>,
    _mosquitto: Option<Mosquitto>,
    _dir: ProfileDir,
}

impl Setup {
    fn new(name: &str, ours: bool) -> Self {
        Self::with(name, ours, "allow_anonymous true\n")
    }

    /// With `access` (allow_anonymous, password_file lines) in place of anonymous access.
    fn with(name: &str, ours: bool, access: &str) -> Self {
        let dir = ProfileDir::new(&format!("v5-{name}-{}", if ours { "ours" } else { "mosquitto" }));
        std::fs::create_dir_all(&dir.0).unwrap();
        let acl = dir.0.join("acl");
        std::fs::write(&acl, ACL).unwrap();
        let common = format!("{access}acl_file {}\nmax_keepalive 10\n", acl.display());
        let runtime = support::runtime();
        if ours {
            let text = format!("{common}assign_topic_aliases true\n");
            let config = mqtt_lab_broker::Config::parse(&text, &dir.0.join("test.conf")).unwrap();
            let listener = mqtt_lab_broker::config::ListenerConfig::on_port(0, Some("127.0.0.1"));
            let (broker, port) = support::our_broker(&runtime, config, &listener);
            Self { runtime, port, ours, _broker: Some(broker), _mosquitto: None, _dir: dir }
        } else {
            let port = free_port();
            let conf = dir.0.join("mosquitto.conf");
            std::fs::write(&conf, format!("listener {port} 127.0.0.1\n{common}")).unwrap();
            let mosquitto = Mosquitto::start(&conf);
            Self { runtime, port, ours, _broker: None, _mosquitto: Some(mosquitto), _dir: dir }
        }
    }

    fn settings(&self, client_id: &str) -> ConnectSettings {
        ConnectSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            client_id: client_id.into(),
            clean_session: true,
            keep_alive: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            username: None,
            password: None,
            will: None,
            version: MqttVersion::V5,
            v5: ConnectV5::default(),
            security: Security::Plain,
            tls_version: TlsVersion::Any,
            websocket: None,
            auto_reconnect: false,
        }
    }

    /// A client connecting with `settings`.
    fn open(&self, settings: ConnectSettings) -> Client {
        let (wake_tx, wake) = mpsc::channel();
        let repaint = Arc::new(move || {
            let _ = wake_tx.send(());
        });
        let connection = Connection::open(self.runtime.handle(), settings, repaint);
        Client { connection, wake, seen: Vec::new() }
    }

    /// A connected client; the CONNACK's properties with it.
    fn client(&self, settings: ConnectSettings) -> (Client, Box<Granted>) {
        let mut client = self.open(settings);
        let granted = client.wait("CONNACK", |e| match e {
            Event::Status(ConnectionStatus::Connected { granted, .. }) => Some(granted.clone()),
            _ => None,
        });
        (client, granted.expect("an MQTT 5 CONNACK reports its properties"))
    }
}

/// One connection through the UI's contract.
struct Client {
    connection: Connection,
    wake: mpsc::Receiver<()>,
    /// Every event taken so far, for what a test asserts did not happen.
    seen: Vec<Event>,
}

impl Client {
    /// Takes events until `pick` returns something; fails after PATIENCE or on a failed connection.
    fn wait<T>(&mut self, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            while let Some(event) = self.connection.try_event() {
                if let Event::Status(ConnectionStatus::Failed(reason)) = &event
                    && !what.starts_with("the end")
                {
                    panic!("waiting for {what}, the connection failed: {reason}");
                }
                let picked = pick(&event);
                self.seen.push(event);
                if let Some(found) = picked {
                    return found;
                }
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                panic!("no {what} within {PATIENCE:?}; log: {:?}", self.logs());
            };
            // The worker signals after each event; a signal sent meanwhile waits in the channel.
            let _ = self.wake.recv_timeout(left);
        }
    }

    fn logs(&self) -> Vec<&str> {
        self.seen.iter().filter_map(|e| if let Event::Log(l) = e { Some(l.as_str()) } else { None }).collect()
    }

    fn subscribe(&mut self, filter: &str, qos: Qos, options: SubOptions) -> Result<Qos, Refusal> {
        assert!(self.connection.send(Command::Subscribe { filter: filter.into(), qos, options }));
        self.wait(&format!("the SUBACK for {filter}"), |e| match e {
            Event::Subscribed { filter: f, granted } if f == filter => Some(granted.clone()),
            _ => None,
        })
    }

    fn publish(&self, message: Outgoing) {
        assert!(self.connection.send(Command::Publish(message)));
    }

    fn message(&mut self, topic: &str) -> ReceivedMessage {
        self.wait(&format!("a message on {topic}"), |e| match e {
            Event::Message(m) if m.topic == topic => Some(m.clone()),
            _ => None,
        })
    }

    fn messages_on(&self, topic: &str) -> Vec<&ReceivedMessage> {
        self.seen
            .iter()
            .filter_map(|e| if let Event::Message(m) = e { Some(m) } else { None })
            .filter(|m| m.topic == topic)
            .collect()
    }
}

fn text(topic: &str, payload: &'static str, qos: Qos) -> Outgoing {
    Outgoing::new(topic, Bytes::from_static(payload.as_bytes()), qos, false)
}

fn round_trip(setup: &Setup) {
    let (mut sub, _) = setup.client(setup.settings("v5-rt-sub"));
    let (publisher, _) = setup.client(setup.settings("v5-rt-pub"));
    assert_eq!(sub.subscribe("v5/rt", Qos::AtLeastOnce, SubOptions::default()), Ok(Qos::AtLeastOnce));
    let mut m = text("v5/rt", "{\"on\":true}", Qos::AtLeastOnce);
    m.properties.user_properties = vec![UserProperty::new("unit", "W"), UserProperty::new("unit", "kW")];
    m.properties.correlation_data = Some(Bytes::from_static(&[0, 1, 0xfe]));
    m.properties.content_type = Some("application/json".into());
    m.properties.response_topic = Some("v5/rt/reply".into());
    publisher.publish(m.clone());
    let got = sub.message("v5/rt");
    assert_eq!(got.payload, m.payload);
    assert_eq!(got.properties.user_properties, m.properties.user_properties, "names may repeat, order kept");
    assert_eq!(got.properties.correlation_data, m.properties.correlation_data);
    assert_eq!(got.properties.content_type.as_deref(), Some("application/json"));
    assert_eq!(got.properties.response_topic.as_deref(), Some("v5/rt/reply"));
}

fn subscription_identifier(setup: &Setup) {
    let (mut c, _) = setup.client(setup.settings("v5-id"));
    let options = SubOptions { id: Some(42), ..SubOptions::default() };
    assert_eq!(c.subscribe("v5/id/#", Qos::AtMostOnce, options), Ok(Qos::AtMostOnce));
    c.publish(text("v5/id/x", "1", Qos::AtMostOnce));
    assert_eq!(c.message("v5/id/x").properties.subscription_ids, [42]);
}

fn no_local(setup: &Setup) {
    let (mut c, _) = setup.client(setup.settings("v5-nl"));
    let no_local = SubOptions { no_local: true, ..SubOptions::default() };
    assert!(c.subscribe("v5/nl", Qos::AtLeastOnce, no_local).is_ok());
    assert!(c.subscribe("v5/nl-sync", Qos::AtLeastOnce, SubOptions::default()).is_ok());
    c.publish(text("v5/nl", "own", Qos::AtLeastOnce));
    c.publish(text("v5/nl-sync", "after", Qos::AtLeastOnce));
    // The broker handles one connection's publishes in order: had it sent "own" back, it would
    // have come before "after".
    c.message("v5/nl-sync");
    assert!(c.messages_on("v5/nl").is_empty(), "no local: the client got its own message back");
}

fn retain_handling_never(setup: &Setup) {
    let (mut publisher, _) = setup.client(setup.settings("v5-ret-pub"));
    let mut stored = text("v5/ret", "stored", Qos::AtLeastOnce);
    stored.retain = true;
    publisher.publish(stored);
    // The retained message is there: a subscription with the default options gets it.
    assert!(publisher.subscribe("v5/ret", Qos::AtLeastOnce, SubOptions::default()).is_ok());
    assert_eq!(publisher.message("v5/ret").payload, "stored");
    let (mut c, _) = setup.client(setup.settings("v5-ret-never"));
    let never = SubOptions { retain_handling: RetainHandling::Never, ..SubOptions::default() };
    assert!(c.subscribe("v5/ret", Qos::AtLeastOnce, never).is_ok());
    publisher.publish(text("v5/ret", "live", Qos::AtLeastOnce));
    // A retained message is sent right after the SUBACK, so it would have come before "live".
    assert_eq!(c.message("v5/ret").payload, "live", "retain handling 2 still sent the retained message");
    // Clear the retained message (an empty retained payload).
    let mut clear = text("v5/ret", "", Qos::AtLeastOnce);
    clear.retain = true;
    publisher.publish(clear);
}

fn acl_refusals(setup: &Setup) {
    let (mut c, _) = setup.client(setup.settings("v5-acl"));
    let refused = c.subscribe("locked/in", Qos::AtLeastOnce, SubOptions::default());
    if setup.ours {
        // Our broker refuses a filter the ACL does not let the client read.
        let refusal = refused.expect_err("SUBACK 0x87");
        assert_eq!(refusal.code, 0x87);
        assert!(refusal.text.starts_with("0x87 Not authorized: "), "{}", refusal.text);
        assert!(refusal.text.contains("check the ACL (acl_file)"), "{}", refusal.text);
    } else {
        // Mosquitto 2.0.11 grants it (SUBACK QoS 1) and delivers nothing on it.
        assert_eq!(refused, Ok(Qos::AtLeastOnce));
        assert!(c.subscribe("v5/acl-sync", Qos::AtLeastOnce, SubOptions::default()).is_ok());
        c.publish(text("locked/in", "hidden", Qos::AtLeastOnce));
        c.publish(text("v5/acl-sync", "after", Qos::AtLeastOnce));
        c.message("v5/acl-sync");
        assert!(c.messages_on("locked/in").is_empty(), "Mosquitto delivered on a filter the ACL denies reading");
    }
    // Both answer a QoS 1 PUBLISH the ACL denies with PUBACK 0x87.
    c.publish(text("locked/out", "no", Qos::AtLeastOnce));
    let (topic, code, words) = c.wait("the PUBACK refusal", |e| match e {
        Event::PublishAcked { topic, code, text, .. } => Some((topic.clone(), *code, text.clone())),
        _ => None,
    });
    assert_eq!((topic.as_str(), code), ("locked/out", 0x87));
    assert!(words.contains("not allow this user to write to the topic"), "{words}");
    assert!(
        c.logs().iter().any(|l| l.contains("refused the message to locked/out (QoS 1) with PUBACK")),
        "{:?}",
        c.logs()
    );
}

fn assigned_client_id_and_server_keep_alive(setup: &Setup) {
    let (c, granted) = setup.client(setup.settings(""));
    let id = granted.assigned_client_id.clone().expect("an empty client id with clean start gets one assigned");
    assert!(!id.is_empty());
    // max_keepalive 10 in the config, 30 s asked.
    assert_eq!(granted.server_keep_alive, Some(10));
    let logs = c.logs();
    assert!(logs.iter().any(|l| l.contains(&format!("assigned the client id {id:?}"))), "{logs:?}");
    assert!(logs.iter().any(|l| l.contains("set the keepalive to 10 s (asked: 30 s)")), "{logs:?}");
}

/// A refused CONNECT is explained with its MQTT 5 reason code and not tried again, even with
/// automatic reconnection on. Both brokers answer an anonymous client, when anonymous access is
/// off, with 0x87 Not authorized (Mosquitto 2.0.11 does so for a wrong password too).
fn refused_connect(ours: bool) {
    let setup = Setup::with("refused", ours, "allow_anonymous false\n");
    let mut settings = setup.settings("v5-refused");
    settings.auto_reconnect = true;
    let mut c = setup.open(settings);
    let reason = c.wait("the end of the attempt", |e| match e {
        Event::Status(ConnectionStatus::Failed(reason)) => Some(reason.clone()),
        Event::Status(ConnectionStatus::Reconnecting { reason, .. }) => panic!("a refusal was retried: {reason}"),
        _ => None,
    });
    assert!(reason.starts_with("Refused: 0x87 Not authorized: "), "{reason}");
    assert!(reason.contains("check the user name, the password and the broker's ACL"), "{reason}");
}

/// A second connection with the same client id takes the session over. Our broker sends the
/// first one DISCONNECT 0x8E [MQTT-3.1.4-3], which the worker explains; Mosquitto 2.0.11 closes
/// it without a DISCONNECT, so the worker can only say the broker closed it.
fn session_taken_over(ours: bool) {
    let setup = Setup::new("takeover", ours);
    let (mut first, _) = setup.client(setup.settings("v5-twin"));
    let (_second, _) = setup.client(setup.settings("v5-twin"));
    let reason = first.wait("the end of the first connection", |e| match e {
        Event::Status(ConnectionStatus::Failed(reason)) => Some(reason.clone()),
        _ => None,
    });
    if ours {
        assert!(
            reason.starts_with("The broker closed the connection with DISCONNECT 0x8E Session taken over: "),
            "{reason}"
        );
        assert!(reason.contains("give each client its own id"), "{reason}");
    } else {
        assert!(reason.starts_with("The connection to the broker was lost"), "{reason}");
    }
}

/// With `max_qos 1` the CONNACK says Maximum QoS 1 and a QoS 2 subscription is granted QoS 1;
/// the worker warns that messages arrive at QoS 1 at most.
fn qos_downgraded(ours: bool) {
    let setup = Setup::with("maxqos", ours, "allow_anonymous true\nmax_qos 1\n");
    let (mut c, granted) = setup.client(setup.settings("v5-maxqos"));
    assert_eq!(granted.maximum_qos, Some(Qos::AtLeastOnce));
    assert_eq!(c.subscribe("v5/q", Qos::ExactlyOnce, SubOptions::default()), Ok(Qos::AtLeastOnce));
    let logs = c.logs();
    assert!(
        logs.iter().any(|l| l.starts_with("Warning: the broker granted v5/q QoS 1 only (asked: QoS 2)")),
        "{logs:?}"
    );
}

#[test]
fn ours_qos_downgraded() {
    qos_downgraded(true);
}

#[test]
fn mosquitto_qos_downgraded() {
    qos_downgraded(false);
}

#[test]
fn ours_refused_connect() {
    refused_connect(true);
}

#[test]
fn mosquitto_refused_connect() {
    refused_connect(false);
}

#[test]
fn ours_session_taken_over() {
    session_taken_over(true);
}

#[test]
fn mosquitto_session_taken_over() {
    session_taken_over(false);
}

macro_rules! on_both {
    ($($scenario:ident),* $(,)?) => {
        mod ours {
            $(#[test] fn $scenario() { super::$scenario(&super::Setup::new(stringify!($scenario), true)); })*
        }
        mod mosquitto {
            $(#[test] fn $scenario() { super::$scenario(&super::Setup::new(stringify!($scenario), false)); })*
        }
    };
}

on_both!(
    round_trip,
    subscription_identifier,
    no_local,
    retain_handling_never,
    acl_refusals,
    assigned_client_id_and_server_keep_alive
);

/// Our broker with `assign_topic_aliases true` names the topic by an alias from the second
/// message on (an empty topic on the wire); the message still reaches the UI with its topic.
#[test]
fn a_topic_alias_our_broker_assigns_reaches_the_ui_with_its_topic() {
    use mqtt_lab_broker::codec::{Decoded, Packet, Protocol, decode};
    let setup = Setup::new("alias", true);
    let mut settings = setup.settings("v5-alias-sub");
    settings.v5.topic_alias_maximum = 10;
    let (mut sub, _) = setup.client(settings);
    let (publisher, _) = setup.client(setup.settings("v5-alias-pub"));
    assert!(sub.subscribe("v5/alias", Qos::AtLeastOnce, SubOptions::default()).is_ok());
    for payload in ["1", "2", "3"] {
        publisher.publish(text("v5/alias", payload, Qos::AtLeastOnce));
    }
    let mut got = VecDeque::new();
    while got.len() < 3 {
        got.push_back(sub.message("v5/alias"));
    }
    assert!(got.iter().all(|m| m.properties.topic_alias.is_some()), "{got:?}");
    // What came over the wire: the PUBLISHes after the first had an empty topic.
    let mut wire = Vec::new();
    for e in &sub.seen {
        if let Event::Tap(t) = e
            && t.direction == Direction::Received
        {
            wire.extend_from_slice(&t.bytes);
        }
    }
    let mut at = 0;
    let mut empty_topics = 0;
    while let Ok(Decoded::Packet(packet, len)) = decode(&wire[at..], usize::MAX, Protocol::V5) {
        if let Packet::Publish(p) = packet
            && p.topic.is_alias_only()
        {
            empty_topics += 1;
        }
        at += len;
    }
    assert_eq!(empty_topics, 2, "the broker sent the topic once, then the alias only");
    // An alias above the broker's Topic Alias Maximum is refused in words; rumqttc would have
    // ended the connection over it.
    let mut too_far = text("v5/alias", "4", Qos::AtLeastOnce);
    too_far.properties.topic_alias = Some(u16::MAX);
    publisher.publish(too_far);
    publisher.publish(text("v5/alias", "5", Qos::AtLeastOnce));
    assert_eq!(sub.message("v5/alias").payload, "5");
    let mut publisher = publisher;
    publisher.wait("the refusal", |e| match e {
        Event::Log(l) if l.starts_with("Not sent: topic alias 65535 is above the broker's Topic Alias Maximum") => {
            Some(())
        }
        _ => None,
    });
}
