//! The worker of one connection: starts the relay, drives rumqttc's event loop, carries out
//! commands without blocking on rumqttc's request channel, and turns what happens into events.

use std::time::SystemTime;

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event as MqttEvent, MqttOptions, Outgoing, Packet, QoS as MqttQos,
    SubscribeReasonCode, Transport,
};
use tokio::sync::mpsc::UnboundedReceiver;

use super::relay::{Endpoint, Relay, Target};
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

/// Runs one connection until it is closed or fails.
pub(super) async fn run(settings: ConnectSettings, mut commands: UnboundedReceiver<Command>, sink: EventSink) {
    sink.send(Event::Status(ConnectionStatus::Connecting));
    let target = Target {
        host: settings.host.clone(),
        port: settings.port,
        connect_timeout: settings.connect_timeout,
        mqtt_v31: settings.mqtt_v31,
        security: settings.security.clone(),
    };
    let relay = match Relay::start(target, sink.clone()) {
        Ok(r) => r,
        Err(e) => {
            sink.send(Event::Status(ConnectionStatus::Failed(format!("Cannot open the local relay: {e}."))));
            return;
        }
    };
    let (client, mut eventloop) = AsyncClient::new(options(&settings, &relay.endpoint), REQUEST_CAPACITY);
    let prefix_hint = settings.client_id.contains('-');
    // Subscriptions in the order sent, to name the filter each SUBACK answers.
    let mut pending_subscriptions: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    let mut pending_unsubscriptions: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    loop {
        tokio::select! {
            command = commands.recv() => {
                let Some(command) = command else { break };
                let result = match command {
                    Command::Subscribe { filter, qos } => {
                        pending_subscriptions.push_back(filter.clone());
                        client.try_subscribe(filter, to_mqtt(qos))
                    }
                    Command::Unsubscribe { filter } => {
                        pending_unsubscriptions.push_back(filter.clone());
                        client.try_unsubscribe(filter)
                    }
                    Command::Publish { topic, payload, qos, retain } => {
                        let published = client.try_publish(topic.clone(), to_mqtt(qos), retain, payload.to_vec());
                        if published.is_ok() {
                            sink.send(Event::Published { topic, qos });
                        }
                        published
                    }
                    Command::Disconnect => {
                        let _ = client.try_disconnect();
                        sink.send(Event::Status(ConnectionStatus::Disconnected));
                        break;
                    }
                };
                if let Err(e) = result {
                    sink.send(Event::Log(format!("Not sent: the connection is too busy or closed ({e}).")));
                }
            }
            event = eventloop.poll() => match event {
                Ok(MqttEvent::Incoming(packet)) => match packet {
                    Packet::ConnAck(ack) => {
                        sink.send(Event::Log(explain_connack(connack_code(ack.code), prefix_hint)));
                        sink.send(Event::Status(ConnectionStatus::Connected { session_present: ack.session_present }));
                    }
                    Packet::Publish(p) => sink.send(Event::Message(ReceivedMessage {
                        topic: p.topic,
                        payload: p.payload,
                        qos: from_mqtt(p.qos),
                        retain: p.retain,
                        dup: p.dup,
                        at: SystemTime::now(),
                    })),
                    Packet::SubAck(ack) => {
                        for code in ack.return_codes {
                            let filter = pending_subscriptions.pop_front().unwrap_or_default();
                            let granted = match code {
                                SubscribeReasonCode::Success(q) => Some(from_mqtt(q)),
                                SubscribeReasonCode::Failure => None,
                            };
                            sink.send(Event::Subscribed { filter, granted });
                        }
                    }
                    Packet::UnsubAck(_) => {
                        let filter = pending_unsubscriptions.pop_front().unwrap_or_default();
                        sink.send(Event::Unsubscribed { filter });
                    }
                    _ => {}
                },
                Ok(MqttEvent::Outgoing(Outgoing::Disconnect)) => break,
                Ok(MqttEvent::Outgoing(_)) => {}
                Err(e) => {
                    let relay_reason = relay.failure.lock().ok().and_then(|mut slot| slot.take());
                    let reason = match (&e, relay_reason) {
                        (_, Some(reason)) => reason,
                        (ConnectionError::ConnectionRefused(code), None) => explain_connack(connack_code(*code), prefix_hint),
                        (ConnectionError::NetworkTimeout, None) => "The broker did not answer in time.".to_owned(),
                        (other, None) => format!("The connection ended: {other}."),
                    };
                    sink.send(Event::Log(reason.clone()));
                    sink.send(Event::Status(ConnectionStatus::Failed(reason)));
                    break;
                }
            },
        }
    }
    drop(relay);
}
