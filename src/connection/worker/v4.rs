//! MQTT 3.1 and 3.1.1 through rumqttc's 3.1.1 client (the relay turns its CONNECT into 3.1's).

use std::time::{Duration, SystemTime};

use rumqttc::mqttbytes::Error as MqttBytesError;
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event as MqttEvent, EventLoop, MqttOptions, NetworkOptions,
    Outgoing as MqttOutgoing, Packet, QoS as MqttQos, StateError, SubscribeReasonCode,
};

use super::super::relay::Endpoint;
use super::{ConnectSettings, Lost, MAX_PACKET, Outgoing, Polled, Qos, REQUEST_CAPACITY, ReceivedMessage};

pub(super) const fn to_mqtt(q: Qos) -> MqttQos {
    match q {
        Qos::AtMostOnce => MqttQos::AtMostOnce,
        Qos::AtLeastOnce => MqttQos::AtLeastOnce,
        Qos::ExactlyOnce => MqttQos::ExactlyOnce,
    }
}

pub(super) const fn from_mqtt(q: MqttQos) -> Qos {
    match q {
        MqttQos::AtMostOnce => Qos::AtMostOnce,
        MqttQos::AtLeastOnce => Qos::AtLeastOnce,
        MqttQos::ExactlyOnce => Qos::ExactlyOnce,
    }
}

const fn connack_code(code: ConnectReturnCode) -> u8 {
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
    let (host, port, transport) = super::address(endpoint);
    let mut options = MqttOptions::new(&settings.client_id, host, port);
    options.set_transport(transport);
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

/// rumqttc's 3.1.1 client and event loop for `settings`, connecting to the relay's endpoint.
pub(super) fn open(settings: &ConnectSettings, endpoint: &Endpoint, stall: Duration) -> (Client, Poller) {
    let (client, mut eventloop) = AsyncClient::new(options(settings, endpoint), REQUEST_CAPACITY);
    let mut network = NetworkOptions::new();
    network.set_connection_timeout(stall.as_secs());
    eventloop.set_network_options(network);
    (Client(client), Poller(eventloop))
}

pub(super) struct Client(AsyncClient);

impl Client {
    pub(super) fn subscribe(&self, filter: &str, qos: Qos) -> Result<(), String> {
        self.0.try_subscribe(filter, to_mqtt(qos)).map_err(|e| e.to_string())
    }

    pub(super) fn unsubscribe(&self, filter: &str) -> Result<(), String> {
        self.0.try_unsubscribe(filter).map_err(|e| e.to_string())
    }

    pub(super) fn publish(&self, m: &Outgoing) -> Result<(), String> {
        self.0.try_publish(m.topic.as_str(), to_mqtt(m.qos), m.retain, m.payload.to_vec()).map_err(|e| e.to_string())
    }

    pub(super) fn disconnect(&self) -> Result<(), String> {
        self.0.try_disconnect().map_err(|e| e.to_string())
    }
}

pub(super) struct Poller(EventLoop);

impl Poller {
    pub(super) async fn poll(&mut self) -> Polled {
        match self.0.poll().await {
            Ok(MqttEvent::Incoming(Packet::ConnAck(ack))) => {
                Polled::ConnAck { session_present: ack.session_present, granted: None }
            }
            Ok(MqttEvent::Incoming(Packet::Publish(p))) => Polled::Message(ReceivedMessage {
                topic: p.topic,
                payload: p.payload,
                qos: from_mqtt(p.qos),
                retain: p.retain,
                dup: p.dup,
                at: SystemTime::now(),
                properties: crate::mqtt::PublishProperties::default(),
            }),
            Ok(MqttEvent::Incoming(Packet::SubAck(ack))) => Polled::SubAck {
                codes: ack
                    .return_codes
                    .into_iter()
                    .map(|code| match code {
                        SubscribeReasonCode::Success(q) => Ok(from_mqtt(q)),
                        SubscribeReasonCode::Failure => Err(0x80),
                    })
                    .collect(),
                reason: None,
            },
            Ok(MqttEvent::Incoming(Packet::UnsubAck(_))) => Polled::UnsubAck,
            Ok(MqttEvent::Outgoing(MqttOutgoing::Disconnect)) => Polled::Closed,
            Ok(_) => Polled::Nothing,
            Err(e) => Polled::Lost(lost(e)),
        }
    }
}

fn lost(error: ConnectionError) -> Lost {
    match error {
        ConnectionError::ConnectionRefused(code) => Lost::Refused(connack_code(code)),
        ConnectionError::NetworkTimeout => Lost::Timeout,
        ConnectionError::MqttState(StateError::AwaitPingResp) => Lost::NoPingResp,
        ConnectionError::MqttState(StateError::Deserialization(MqttBytesError::PayloadSizeLimitExceeded(n))) => {
            Lost::TooLarge(n)
        }
        ConnectionError::MqttState(StateError::Deserialization(e)) => Lost::NotMqtt(e.to_string()),
        ConnectionError::NotConnAck(packet) => Lost::NotConnAck(format!("{packet:?}")),
        other => Lost::Other(other.to_string()),
    }
}
