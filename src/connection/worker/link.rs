//! What a connection's worker does whatever the MQTT version: carries out commands now or holds
//! them while offline, reports what the broker answered, and when a connection that worked is
//! lost, tries again with backoff, subscribes again, and sends the QoS 1/2 messages held meanwhile.

use std::collections::VecDeque;

use mqtt_lab_broker::codec::v5::ReasonPacket;
use tokio::time::Instant;

use super::super::reconnect::{Backoff, Held, Offline, Wanted};
use super::super::relay::ReportSlot;
use super::super::transport::Session;
use super::super::{Refusal, explain_connack, reason};
use super::acks::PublishNames;
use super::{
    CLOSE_GRACE, Client, Command, ConnectSettings, ConnectionStatus, Event, EventSink, Granted, Lost, MAX_PACKET, Next,
    Polled, Qos, SubCode, stall_timeout,
};
use crate::mqtt::MqttVersion;

/// The worker's state between rumqttc and the UI.
pub(super) struct Link {
    client: Client,
    pub(super) sink: EventSink,
    settings: ConnectSettings,
    /// The keepalive in use: the profile's, or the one an MQTT 5 broker set in CONNACK.
    keep_alive: std::time::Duration,
    /// MQTT 5 limits from CONNACK that rumqttc enforces by ending the connection: Topic Alias
    /// Maximum (0: no aliases) and Maximum Packet Size.
    alias_max: u16,
    broker_max_packet: Option<u32>,
    online: bool,
    ever_online: bool,
    backoff: Backoff,
    offline: Offline,
    wanted: Wanted,
    /// Subscriptions in the order sent, with the QoS asked, to name the filter each SUBACK answers.
    pending_subscriptions: VecDeque<(String, Qos)>,
    pending_unsubscriptions: VecDeque<String>,
    publishes: PublishNames,
    /// DISCONNECT asked for while online: until this deadline, what waits is sent first.
    pub(super) closing: Option<Instant>,
}

impl Link {
    pub(super) fn new(client: Client, sink: EventSink, settings: ConnectSettings) -> Self {
        Self {
            client,
            sink,
            keep_alive: settings.keep_alive,
            alias_max: 0,
            broker_max_packet: None,
            settings,
            online: false,
            ever_online: false,
            backoff: Backoff::new(),
            offline: Offline::default(),
            wanted: Wanted::default(),
            pending_subscriptions: VecDeque::new(),
            pending_unsubscriptions: VecDeque::new(),
            publishes: PublishNames::default(),
            closing: None,
        }
    }

    fn log(&self, text: String) {
        self.sink.send(Event::Log(text));
    }

    /// Carries out a command now, or holds it until the connection is up; false on Disconnect.
    pub(super) fn command(&mut self, command: Command) -> bool {
        if matches!(command, Command::Disconnect) {
            if self.closing.is_some() {
                return true;
            }
            if self.online && self.client.disconnect().is_ok() {
                // Messages queued before it go out first; Disconnected is reported once they have.
                self.closing = Some(Instant::now() + CLOSE_GRACE);
                return true;
            }
            let left = self.offline.publishes_waiting();
            if left > 0 {
                self.log(format!("{left} held message(s) were not sent: disconnected before the broker came back."));
            }
            self.sink.send(Event::Status(ConnectionStatus::Disconnected));
            return false;
        }
        if !self.online {
            let topic = match &command {
                Command::Publish(message) => Some(message.topic.clone()),
                _ => None,
            };
            match (self.offline.hold(command), topic) {
                (Held::Kept { publishes_waiting }, Some(topic)) => self.log(format!(
                    "Offline: the message to {topic} waits for the connection ({publishes_waiting} waiting)."
                )),
                (Held::DroppedQos0, Some(topic)) => self.log(format!(
                    "Not sent: offline, and a QoS 0 message to {topic} is not kept (use QoS 1 or 2 to queue it)."
                )),
                (Held::DroppedFull, Some(topic)) => self.log(format!(
                    "Not sent: {} messages already wait for the connection; the message to {topic} was dropped.",
                    Offline::MAX_PUBLISHES
                )),
                _ => {}
            }
            return true;
        }
        let result = match command {
            // Awaiting its SUBACK only once rumqttc took it: a refused request would otherwise
            // have every later SUBACK named with the filter before it.
            Command::Subscribe { filter, qos, options } => {
                self.wanted.subscribed(&filter, qos, options);
                let sent = self.client.subscribe(&filter, qos, options);
                if sent.is_ok() {
                    self.pending_subscriptions.push_back((filter, qos));
                }
                sent
            }
            Command::Unsubscribe { filter } => {
                self.wanted.unsubscribed(&filter);
                let sent = self.client.unsubscribe(&filter);
                if sent.is_ok() {
                    self.pending_unsubscriptions.push_back(filter);
                }
                sent
            }
            // Too large for the connection: refused here, or rumqttc would end the connection.
            Command::Publish(message) if message.payload.len() + message.topic.len() + 8 > MAX_PACKET => {
                self.log(format!(
                    "Not sent: the message to {} is {} bytes; the app sends at most {} MiB.",
                    message.topic,
                    message.payload.len(),
                    MAX_PACKET >> 20
                ));
                return true;
            }
            Command::Publish(message) if self.refused_by_limits(&message) => return true,
            Command::Publish(message) => {
                let published = self.client.publish(&message);
                // Only MQTT 5 acknowledgements carry a reason to name a topic for; a 3.1.1
                // connection keeps no list of what it published.
                if published.is_ok() && self.settings.version.is_v5() {
                    self.publishes.handed(message.topic.clone(), message.qos);
                    self.sink.send(Event::Published { topic: message.topic, qos: message.qos });
                }
                published
            }
            Command::Disconnect => Ok(()),
        };
        if let Err(e) = result {
            self.log(format!("Not sent: the connection is too busy or closed ({e})."));
        }
        true
    }

    /// Whether `message` breaks a limit the broker's CONNACK set (and is logged instead of sent):
    /// rumqttc would end the connection over it.
    fn refused_by_limits(&self, message: &crate::mqtt::Outgoing) -> bool {
        if let Some(alias) = message.properties.topic_alias
            && alias > self.alias_max
        {
            self.log(format!(
                "Not sent: topic alias {alias} is above the broker's Topic Alias Maximum of {} [MQTT-3.3.2-9].",
                self.alias_max
            ));
            return true;
        }
        // The packet's size as rumqttc will encode it (at most a few bytes over: the length
        // fields are counted at their largest), properties included.
        let size = message.payload.len() + message.topic.len() + 9 + properties_len(&message.properties);
        if let Some(max) = self.broker_max_packet
            && size > max as usize
        {
            self.log(format!(
                "Not sent: the message to {} is about {size} bytes; the broker accepts packets of {max} bytes at most (Maximum Packet Size) [MQTT-3.2.2-15].",
                message.topic
            ));
            return true;
        }
        false
    }

    /// Acts on what one poll of rumqttc brought.
    pub(super) fn polled(&mut self, polled: Polled, report: &ReportSlot) -> Next {
        match polled {
            Polled::ConnAck { session_present, granted } => {
                let session = report.lock().ok().and_then(|r| r.session.clone());
                self.connected(session_present, session, granted);
            }
            Polled::Message(m) => self.sink.send(Event::Message(m)),
            Polled::SubAck { codes, reason } => self.subacked(codes, reason.as_deref()),
            Polled::UnsubAck => {
                if let Some(filter) = self.pending_unsubscriptions.pop_front() {
                    self.sink.send(Event::Unsubscribed { filter });
                }
            }
            Polled::Sent(pkid) => self.publishes.sent(pkid),
            Polled::Collided(pkid) => self.publishes.collided(pkid),
            Polled::Acked { pkid, code, reason } => self.acked(pkid, code, reason),
            Polled::Closed if self.closing.is_some() => return Next::Stop,
            // Not asked for: rumqttc ended the connection itself (a protocol error it found in
            // what the broker sent). Never end silently: say so.
            Polled::Closed => {
                let reason = "The MQTT library closed the connection with DISCONNECT 0x82 (protocol error): the broker sent a packet it could not accept; the packet inspector shows it.".to_owned();
                self.log(reason.clone());
                self.sink.send(Event::Status(ConnectionStatus::Failed(reason)));
                return Next::Stop;
            }
            Polled::Nothing => {}
            Polled::Lost(lost) => return self.lost(&lost, report),
        }
        Next::Poll
    }

    fn connected(&mut self, session_present: bool, session: Option<Session>, granted: Option<Box<Granted>>) {
        let prefix_hint = self.settings.client_id.contains('-');
        self.log(explain_connack(0, prefix_hint));
        if let Some(session) = &session {
            self.log(format!("Secured with {session}."));
        }
        self.keep_alive = self.settings.keep_alive;
        self.alias_max = granted.as_ref().and_then(|g| g.topic_alias_maximum).unwrap_or(0);
        self.broker_max_packet = granted.as_ref().and_then(|g| g.maximum_packet_size);
        if let Some(granted) = &granted {
            if let Some(secs) = granted.server_keep_alive {
                self.keep_alive = std::time::Duration::from_secs(u64::from(secs));
            }
            for note in granted.notes(self.settings.keep_alive.as_secs()) {
                self.log(note);
            }
        }
        self.sink.send(Event::Status(ConnectionStatus::Connected { session_present, session, granted }));
        let again = self.ever_online;
        self.online = true;
        self.ever_online = true;
        self.backoff.reset();
        if !session_present {
            self.publishes.forget();
        }
        if again && !session_present {
            let wanted = self.wanted.list();
            if !wanted.is_empty() {
                self.log(format!("Subscribing again to {} filter(s): the broker kept no session.", wanted.len()));
            }
            for (filter, qos, options) in wanted {
                self.command(Command::Subscribe { filter, qos, options });
            }
        }
        for command in self.offline.take() {
            self.command(command);
        }
    }

    fn subacked(&mut self, codes: Vec<SubCode>, reason: Option<&str>) {
        for code in codes {
            // A SUBACK for a subscription sent before a reconnect names no filter of ours.
            let Some((filter, asked)) = self.pending_subscriptions.pop_front() else { continue };
            let granted = match code {
                Ok(q) => {
                    if q < asked {
                        self.log(format!(
                            "Warning: the broker granted {filter} QoS {} only (asked: QoS {}); messages arrive at QoS {} at most.",
                            q.level(),
                            asked.level(),
                            q.level()
                        ));
                    }
                    Ok(q)
                }
                Err(code) => {
                    let text = reason::explain(code, ReasonPacket::SubAck, reason);
                    Err(Refusal { code, reason: reason.map(str::to_owned), text })
                }
            };
            self.sink.send(Event::Subscribed { filter, granted });
        }
    }

    fn acked(&mut self, pkid: u16, code: u8, reason: Option<String>) {
        let Some((topic, qos)) = self.publishes.acked(pkid) else { return };
        if code == 0 {
            return;
        }
        let packet = if qos == Qos::ExactlyOnce { ReasonPacket::PubRec } else { ReasonPacket::PubAck };
        let text = reason::explain(code, packet, reason.as_deref());
        let what = if code >= 0x80 { "refused" } else { "answered" };
        self.log(format!(
            "The broker {what} the message to {topic} (QoS {}) with {}: {text}",
            qos.level(),
            if packet == ReasonPacket::PubRec { "PUBREC" } else { "PUBACK" }
        ));
        self.sink.send(Event::PublishAcked { topic, qos, code, reason, text });
    }

    /// The connection failed or was lost: try again later, or give up with the reason.
    fn lost(&mut self, lost: &Lost, report: &ReportSlot) -> Next {
        let was_online = std::mem::replace(&mut self.online, false);
        self.pending_subscriptions.clear();
        self.pending_unsubscriptions.clear();
        let (relay_reason, connack_reason, disconnect) = report
            .lock()
            .ok()
            .map(|mut r| (r.failure.take(), r.connack_reason.take(), r.disconnect.take()))
            .unwrap_or_default();
        // The relay saw the broker's DISCONNECT where rumqttc could not read it.
        let seen;
        let lost = match (lost, disconnect) {
            (Lost::Other(_) | Lost::NotMqtt(_), Some((code, reason))) => {
                seen = Lost::ServerDisconnect { code, reason };
                &seen
            }
            _ => lost,
        };
        let v5 = self.settings.version == MqttVersion::V5;
        let prefix_hint = self.settings.client_id.contains('-');
        // What the broker said in MQTT (a refused CONNACK, a DISCONNECT) outranks what the relay
        // saw below it (a WebSocket close frame that followed, frames that broke the protocol).
        let relay_reason = relay_reason.filter(|_| !matches!(lost, Lost::Refused(_) | Lost::ServerDisconnect { .. }));
        let reason = match (lost, relay_reason) {
            (_, Some(reason)) => format!("{reason}."),
            (Lost::Refused(code), None) if v5 => {
                format!("Refused: {}", reason::explain(*code, ReasonPacket::ConnAck, connack_reason.as_deref()))
            }
            (Lost::Refused(code), None) => explain_connack(*code, prefix_hint),
            (Lost::Timeout, None) if !was_online => format!(
                "The broker accepted the connection but sent no CONNACK within {} s: is this port an MQTT listener, and is it TLS?",
                stall_timeout(&self.settings).as_secs()
            ),
            (Lost::Timeout, None) => "The broker stopped answering.".to_owned(),
            (Lost::NoPingResp, None) => format!(
                "The broker stopped answering: no PINGRESP to the last PINGREQ within the keepalive of {} s (the network or the broker is stalled).",
                self.keep_alive.as_secs()
            ),
            (Lost::TooLarge(n), None) => {
                format!(
                    "The broker sent a packet of {n} bytes, more than the {} MiB the app accepts.",
                    MAX_PACKET >> 20
                )
            }
            (Lost::NotMqtt(e), None) => format!(
                "The broker sent bytes that are not a valid MQTT packet ({e}); the packet inspector shows them."
            ),
            (Lost::NotConnAck(packet), None) => {
                format!("The broker answered CONNECT with {packet} instead of CONNACK: is this an MQTT broker?")
            }
            (Lost::ServerDisconnect { code, reason }, None) => format!(
                "The broker closed the connection with DISCONNECT {}",
                reason::explain(*code, ReasonPacket::Disconnect, reason.as_deref())
            ),
            (Lost::Other(other), None) if was_online => {
                format!("The connection to the broker was lost: it stopped, restarted, or closed it ({other}).")
            }
            (Lost::Other(other), None) => format!("The connection ended: {other}."),
        };
        let refused = matches!(lost, Lost::Refused(_));
        if self.settings.auto_reconnect && self.ever_online && !refused {
            let retry_in = self.backoff.next_delay();
            let attempt = self.backoff.attempts();
            let queued = self.offline.publishes_waiting();
            self.log(format!("{reason} Trying again in {} s (attempt {attempt}).", retry_in.as_secs()));
            self.sink.send(Event::Status(ConnectionStatus::Reconnecting { attempt, retry_in, reason, queued }));
            Next::RetryAfter(retry_in)
        } else {
            self.log(reason.clone());
            self.sink.send(Event::Status(ConnectionStatus::Failed(reason)));
            Next::Stop
        }
    }
}

/// The encoded size of a PUBLISH's MQTT 5 properties with their length field, counted at its
/// largest (4 bytes): what a broker's Maximum Packet Size is compared with.
fn properties_len(p: &crate::mqtt::PublishProperties) -> usize {
    let text = |t: &Option<String>| t.as_ref().map_or(0, |t| 3 + t.len());
    4 + p.payload_format.map_or(0, |_| 2)
        + p.message_expiry.map_or(0, |_| 5)
        + text(&p.content_type)
        + text(&p.response_topic)
        + p.correlation_data.as_ref().map_or(0, |d| 3 + d.len())
        + p.user_properties.iter().map(|u| 5 + u.name.len() + u.value.len()).sum::<usize>()
        + p.topic_alias.map_or(0, |_| 3)
}
