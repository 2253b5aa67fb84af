//! The worker of one connection: starts the relay, drives rumqttc's event loop, carries out
//! commands without blocking on rumqttc's request channel, and turns what happens into events.
//! When a connection that worked is lost, it tries again with backoff, subscribes again, and
//! sends the QoS 1/2 messages held meanwhile.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use rumqttc::mqttbytes::Error as MqttBytesError;
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event as MqttEvent, MqttOptions, NetworkOptions, Outgoing, Packet,
    QoS as MqttQos, StateError, SubscribeReasonCode, Transport,
};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use super::reconnect::{Backoff, Held, Offline, Wanted};
use super::relay::{Endpoint, Relay, ReportSlot};
use super::transport::{Session, Target};
use super::{Command, ConnectSettings, ConnectionStatus, Event, EventSink, Qos, ReceivedMessage, explain_connack};

/// Requests rumqttc may hold before `try_*` reports the connection as too busy.
const REQUEST_CAPACITY: usize = 1000;

fn to_mqtt(q: Qos) -> MqttQos {
    match q {
        Qos::AtMostOnce => MqttQos::AtMostOnce,
        Qos::AtLeastOnce => MqttQos::AtLeastOnce,
        Qos::ExactlyOnce => MqttQos::ExactlyOnce,
    }
}

fn from_mqtt(q: MqttQos) -> Qos {
    match q {
        MqttQos::AtMostOnce => Qos::AtMostOnce,
        MqttQos::AtLeastOnce => Qos::AtLeastOnce,
        MqttQos::ExactlyOnce => Qos::ExactlyOnce,
    }
}

fn connack_code(code: ConnectReturnCode) -> u8 {
    match code {
        ConnectReturnCode::Success => 0,
        ConnectReturnCode::RefusedProtocolVersion => 1,
        ConnectReturnCode::BadClientId => 2,
        ConnectReturnCode::ServiceUnavailable => 3,
        ConnectReturnCode::BadUserNamePassword => 4,
        ConnectReturnCode::NotAuthorized => 5,
    }
}

/// The largest packet the app sends or accepts: far above any lab's message, and a bound on
/// what a broker can make it hold. rumqttc's default (10 KB) refused ordinary files and JSON.
pub const MAX_PACKET: usize = 16 * 1024 * 1024;

fn options(settings: &ConnectSettings, endpoint: &Endpoint) -> MqttOptions {
    let mut options = match endpoint {
        #[cfg(unix)]
        Endpoint::Unix(path) => {
            let mut o = MqttOptions::new(&settings.client_id, path.to_string_lossy(), 0);
            o.set_transport(Transport::Unix);
            o
        }
        #[cfg(not(unix))]
        Endpoint::Tcp(addr) => {
            let mut o = MqttOptions::new(&settings.client_id, addr.ip().to_string(), addr.port());
            o.set_transport(Transport::Tcp);
            o
        }
    };
    options.set_keep_alive(settings.keep_alive);
    options.set_max_packet_size(MAX_PACKET, MAX_PACKET);
    options.set_clean_session(settings.clean_session);
    if let Some(user) = &settings.username {
        options.set_credentials(user, settings.password.clone().unwrap_or_default());
    }
    if let Some(will) = &settings.will {
        options.set_last_will(rumqttc::LastWill::new(
            &will.topic,
            will.payload.to_vec(),
            to_mqtt(will.qos),
            will.retain,
        ));
    }
    options
}

/// What the event loop should do after an event.
enum Next {
    Poll,
    RetryAfter(Duration),
    Stop,
}

/// The worker's state between rumqttc and the UI.
struct Link {
    client: AsyncClient,
    sink: EventSink,
    settings: ConnectSettings,
    online: bool,
    ever_online: bool,
    backoff: Backoff,
    offline: Offline,
    wanted: Wanted,
    /// Subscriptions in the order sent, to name the filter each SUBACK answers.
    pending_subscriptions: VecDeque<String>,
    pending_unsubscriptions: VecDeque<String>,
    /// DISCONNECT asked for while online: until this deadline, what waits is sent first.
    closing: Option<Instant>,
}

/// How long a disconnect waits for queued messages and DISCONNECT to reach the broker.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

impl Link {
    /// Carries out a command now, or holds it until the connection is up; false on Disconnect.
    fn command(&mut self, command: Command) -> bool {
        if matches!(command, Command::Disconnect) {
            if self.closing.is_some() {
                return true;
            }
            if self.online && self.client.try_disconnect().is_ok() {
                // Messages queued before it go out first; Disconnected is reported once they have.
                self.closing = Some(Instant::now() + CLOSE_GRACE);
                return true;
            }
            let left = self.offline.publishes_waiting();
            if left > 0 {
                self.sink.send(Event::Log(format!(
                    "{left} held message(s) were not sent: disconnected before the broker came back."
                )));
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
                (Held::Kept { publishes_waiting }, Some(topic)) => self.sink.send(Event::Log(format!(
                    "Offline: the message to {topic} waits for the connection ({publishes_waiting} waiting)."
                ))),
                (Held::DroppedQos0, Some(topic)) => self.sink.send(Event::Log(format!(
                    "Not sent: offline, and a QoS 0 message to {topic} is not kept (use QoS 1 or 2 to queue it)."
                ))),
                (Held::DroppedFull, Some(topic)) => self.sink.send(Event::Log(format!(
                    "Not sent: {} messages already wait for the connection; the message to {topic} was dropped.",
                    Offline::MAX_PUBLISHES
                ))),
                _ => {}
            }
            return true;
        }
        let result = match command {
            Command::Subscribe { filter, qos, .. } => {
                self.wanted.subscribed(&filter, qos);
                self.pending_subscriptions.push_back(filter.clone());
                self.client.try_subscribe(filter, to_mqtt(qos))
            }
            Command::Unsubscribe { filter } => {
                self.wanted.unsubscribed(&filter);
                self.pending_unsubscriptions.push_back(filter.clone());
                self.client.try_unsubscribe(filter)
            }
            // Too large for the connection: refused here, or rumqttc would end the connection.
            Command::Publish(crate::mqtt::Outgoing { topic, payload, .. })
                if payload.len() + topic.len() + 8 > MAX_PACKET =>
            {
                self.sink.send(Event::Log(format!(
                    "Not sent: the message to {topic} is {} bytes; the app sends at most {} MiB.",
                    payload.len(),
                    MAX_PACKET >> 20
                )));
                return true;
            }
            Command::Publish(crate::mqtt::Outgoing { topic, payload, qos, retain, .. }) => {
                let published = self.client.try_publish(topic.clone(), to_mqtt(qos), retain, payload.to_vec());
                if published.is_ok() {
                    self.sink.send(Event::Published { topic, qos });
                }
                published
            }
            Command::Disconnect => Ok(()),
        };
        if let Err(e) = result {
            self.sink.send(Event::Log(format!("Not sent: the connection is too busy or closed ({e}).")));
        }
        true
    }

    fn connected(&mut self, session_present: bool, session: Option<Session>) {
        let prefix_hint = self.settings.client_id.contains('-');
        self.sink.send(Event::Log(explain_connack(0, prefix_hint)));
        if let Some(session) = &session {
            self.sink.send(Event::Log(format!("Secured with {session}.")));
        }
        self.sink.send(Event::Status(ConnectionStatus::Connected { session_present, session }));
        let again = self.ever_online;
        self.online = true;
        self.ever_online = true;
        self.backoff.reset();
        if again && !session_present {
            let wanted = self.wanted.list();
            if !wanted.is_empty() {
                self.sink.send(Event::Log(format!(
                    "Subscribing again to {} filter(s): the broker kept no session.",
                    wanted.len()
                )));
            }
            for (filter, qos) in wanted {
                self.command(Command::Subscribe { filter, qos, options: crate::mqtt::SubOptions::default() });
            }
        }
        for command in self.offline.take() {
            self.command(command);
        }
    }

    fn incoming(&mut self, packet: Packet) {
        match packet {
            Packet::Publish(p) => self.sink.send(Event::Message(ReceivedMessage {
                topic: p.topic,
                payload: p.payload,
                qos: from_mqtt(p.qos),
                retain: p.retain,
                dup: p.dup,
                at: SystemTime::now(),
                properties: crate::mqtt::PublishProperties::default(),
            })),
            Packet::SubAck(ack) => {
                for code in ack.return_codes {
                    // A SUBACK for a subscription sent before a reconnect names no filter of ours.
                    let Some(filter) = self.pending_subscriptions.pop_front() else { continue };
                    let granted = match code {
                        SubscribeReasonCode::Success(q) => Some(from_mqtt(q)),
                        SubscribeReasonCode::Failure => None,
                    };
                    self.sink.send(Event::Subscribed { filter, granted });
                }
            }
            Packet::UnsubAck(_) => {
                if let Some(filter) = self.pending_unsubscriptions.pop_front() {
                    self.sink.send(Event::Unsubscribed { filter });
                }
            }
            _ => {}
        }
    }

    /// The connection failed or was lost: try again later, or give up with the reason.
    fn lost(&mut self, error: &ConnectionError, report: &ReportSlot) -> Next {
        let was_online = std::mem::replace(&mut self.online, false);
        self.pending_subscriptions.clear();
        self.pending_unsubscriptions.clear();
        let relay_reason = report.lock().ok().and_then(|mut r| r.failure.take());
        let prefix_hint = self.settings.client_id.contains('-');
        let reason = match (error, relay_reason) {
            (_, Some(reason)) => format!("{reason}."),
            (ConnectionError::ConnectionRefused(code), None) => explain_connack(connack_code(*code), prefix_hint),
            (ConnectionError::NetworkTimeout, None) if !was_online => format!(
                "The broker accepted the connection but sent no CONNACK within {} s: is this port an MQTT listener, and is it TLS?",
                stall_timeout(&self.settings).as_secs()
            ),
            (ConnectionError::NetworkTimeout, None) => "The broker stopped answering.".to_owned(),
            (ConnectionError::MqttState(StateError::AwaitPingResp), None) => format!(
                "The broker stopped answering: no PINGRESP to the last PINGREQ within the keepalive of {} s (the network or the broker is stalled).",
                self.settings.keep_alive.as_secs()
            ),
            (
                ConnectionError::MqttState(StateError::Deserialization(MqttBytesError::PayloadSizeLimitExceeded(n))),
                None,
            ) => {
                format!(
                    "The broker sent a packet of {n} bytes, more than the {} MiB the app accepts.",
                    MAX_PACKET >> 20
                )
            }
            (ConnectionError::MqttState(StateError::Deserialization(e)), None) => format!(
                "The broker sent bytes that are not a valid MQTT packet ({e}); the packet inspector shows them."
            ),
            (ConnectionError::NotConnAck(packet), None) => {
                format!("The broker answered CONNECT with {packet:?} instead of CONNACK: is this an MQTT broker?")
            }
            (other, None) if was_online => {
                format!("The connection to the broker was lost: it stopped, restarted, or closed it ({other}).")
            }
            (other, None) => format!("The connection ended: {other}."),
        };
        let refused = matches!(error, ConnectionError::ConnectionRefused(_));
        if self.settings.auto_reconnect && self.ever_online && !refused {
            let retry_in = self.backoff.next_delay();
            let attempt = self.backoff.attempts();
            let queued = self.offline.publishes_waiting();
            self.sink
                .send(Event::Log(format!("{reason} Trying again in {} s (attempt {attempt}).", retry_in.as_secs())));
            self.sink.send(Event::Status(ConnectionStatus::Reconnecting { attempt, retry_in, reason, queued }));
            Next::RetryAfter(retry_in)
        } else {
            self.sink.send(Event::Log(reason.clone()));
            self.sink.send(Event::Status(ConnectionStatus::Failed(reason)));
            Next::Stop
        }
    }
}

/// How long rumqttc waits for CONNACK. The relay resolves, dials and runs the handshake first,
/// each within `connect_timeout`, and reports its own failures, so this comes after all three.
fn stall_timeout(settings: &ConnectSettings) -> Duration {
    settings.connect_timeout * 3 + Duration::from_secs(2)
}

/// Runs one connection until it is closed or fails.
pub(super) async fn run(settings: ConnectSettings, mut commands: UnboundedReceiver<Command>, sink: EventSink) {
    sink.send(Event::Status(ConnectionStatus::Connecting));
    let target = Target::of(&settings);
    let relay = match Relay::start(target, settings.version == crate::mqtt::MqttVersion::V31, sink.clone()) {
        Ok(r) => r,
        Err(e) => {
            sink.send(Event::Status(ConnectionStatus::Failed(format!("Cannot open the local relay: {e}."))));
            return;
        }
    };
    let (client, mut eventloop) = AsyncClient::new(options(&settings, &relay.endpoint), REQUEST_CAPACITY);
    let mut network = NetworkOptions::new();
    network.set_connection_timeout(stall_timeout(&settings).as_secs());
    eventloop.set_network_options(network);
    let mut link = Link {
        client,
        sink,
        settings,
        online: false,
        ever_online: false,
        backoff: Backoff::new(),
        offline: Offline::default(),
        wanted: Wanted::default(),
        pending_subscriptions: VecDeque::new(),
        pending_unsubscriptions: VecDeque::new(),
        closing: None,
    };
    let mut retry_at: Option<Instant> = None;
    loop {
        let next = tokio::select! {
            command = commands.recv(), if link.closing.is_none() => match command.map(|c| link.command(c)) {
                Some(true) => Next::Poll,
                _ => Next::Stop,
            },
            () = tokio::time::sleep_until(link.closing.unwrap_or_else(Instant::now)), if link.closing.is_some() => Next::Stop,
            () = tokio::time::sleep_until(retry_at.unwrap_or_else(Instant::now)), if retry_at.is_some() => {
                retry_at = None;
                link.sink.send(Event::Status(ConnectionStatus::Connecting));
                Next::Poll
            }
            event = eventloop.poll(), if retry_at.is_none() => match event {
                Ok(MqttEvent::Incoming(Packet::ConnAck(ack))) => {
                    let session = relay.report.lock().ok().and_then(|r| r.session.clone());
                    link.connected(ack.session_present, session);
                    Next::Poll
                }
                Ok(MqttEvent::Incoming(packet)) => {
                    link.incoming(packet);
                    Next::Poll
                }
                Ok(MqttEvent::Outgoing(Outgoing::Disconnect)) => Next::Stop,
                Ok(MqttEvent::Outgoing(_)) => Next::Poll,
                Err(e) => link.lost(&e, &relay.report),
            },
        };
        match next {
            Next::Poll => {}
            Next::RetryAfter(delay) => retry_at = Some(Instant::now() + delay),
            Next::Stop => break,
        }
    }
    // Closing rumqttc's side lets the relay forward what it has read, then end.
    drop(eventloop);
    relay.finish(CLOSE_GRACE).await;
    if link.closing.is_some() {
        link.sink.send(Event::Status(ConnectionStatus::Disconnected));
    }
}
