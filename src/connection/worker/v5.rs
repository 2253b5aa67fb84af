//! MQTT 5 through rumqttc's v5 client: CONNECT, PUBLISH and SUBSCRIBE properties from our
//! contract, and what comes back (CONNACK properties, reason codes, message properties) into it.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use rumqttc::Outgoing as MqttOutgoing;
use rumqttc::v5::mqttbytes::v5::{
    ConnAckProperties, ConnectProperties, ConnectReturnCode, Filter, LastWill, LastWillProperties, Packet,
    PubAckReason, PubRecReason, Publish, PublishProperties as MqttProperties, RetainForwardRule, SubscribeProperties,
    SubscribeReasonCode,
};
use rumqttc::v5::mqttbytes::{Error as MqttBytesError, QoS as MqttQos};
use rumqttc::v5::{AsyncClient, ConnectionError, Event as MqttEvent, EventLoop, MqttOptions, StateError};

use super::super::relay::Endpoint;
use super::super::{ConnectSettings, Granted};
use super::{Lost, MAX_PACKET, Outgoing, Polled, Qos, REQUEST_CAPACITY, ReceivedMessage, SubCode, SubOptions};
use crate::mqtt::{PayloadFormat, PublishProperties, RetainHandling, UserProperty};

const fn to_mqtt(q: Qos) -> MqttQos {
    match q {
        Qos::AtMostOnce => MqttQos::AtMostOnce,
        Qos::AtLeastOnce => MqttQos::AtLeastOnce,
        Qos::ExactlyOnce => MqttQos::ExactlyOnce,
    }
}

const fn from_mqtt(q: MqttQos) -> Qos {
    match q {
        MqttQos::AtMostOnce => Qos::AtMostOnce,
        MqttQos::AtLeastOnce => Qos::AtLeastOnce,
        MqttQos::ExactlyOnce => Qos::ExactlyOnce,
    }
}

fn pairs(user: &[UserProperty]) -> Vec<(String, String)> {
    user.iter().map(|u| (u.name.clone(), u.value.clone())).collect()
}

fn users(pairs: Vec<(String, String)>) -> Vec<UserProperty> {
    pairs.into_iter().map(|(name, value)| UserProperty { name, value }).collect()
}

const fn format_byte(f: PayloadFormat) -> u8 {
    match f {
        PayloadFormat::Bytes => 0,
        PayloadFormat::Utf8 => 1,
    }
}

fn properties(p: &PublishProperties) -> MqttProperties {
    MqttProperties {
        payload_format_indicator: p.payload_format.map(format_byte),
        message_expiry_interval: p.message_expiry,
        topic_alias: p.topic_alias,
        response_topic: p.response_topic.clone(),
        correlation_data: p.correlation_data.clone(),
        user_properties: pairs(&p.user_properties),
        subscription_identifiers: Vec::new(),
        content_type: p.content_type.clone(),
    }
}

fn received(p: Option<MqttProperties>) -> PublishProperties {
    let Some(p) = p else { return PublishProperties::default() };
    PublishProperties {
        payload_format: p
            .payload_format_indicator
            .map(|b| if b == 1 { PayloadFormat::Utf8 } else { PayloadFormat::Bytes }),
        message_expiry: p.message_expiry_interval,
        content_type: p.content_type,
        response_topic: p.response_topic,
        correlation_data: p.correlation_data,
        user_properties: users(p.user_properties),
        topic_alias: p.topic_alias,
        // Identifiers are at most 268,435,455 [MQTT-3.8.2.1.2]; rumqttc decodes them as usize.
        subscription_ids: p.subscription_identifiers.into_iter().filter_map(|id| u32::try_from(id).ok()).collect(),
    }
}

fn granted(p: ConnAckProperties) -> Granted {
    Granted {
        session_expiry: p.session_expiry_interval,
        receive_maximum: p.receive_max,
        maximum_qos: p.max_qos.and_then(Qos::from_level),
        retain_available: p.retain_available.map(|b| b != 0),
        maximum_packet_size: p.max_packet_size,
        assigned_client_id: p.assigned_client_identifier,
        topic_alias_maximum: p.topic_alias_max,
        reason: p.reason_string,
        user_properties: users(p.user_properties),
        wildcard_subscriptions: p.wildcard_subscription_available.map(|b| b != 0),
        subscription_identifiers: p.subscription_identifiers_available.map(|b| b != 0),
        shared_subscriptions: p.shared_subscription_available.map(|b| b != 0),
        server_keep_alive: p.server_keep_alive,
        response_information: p.response_information,
        server_reference: p.server_reference,
    }
}

fn options(settings: &ConnectSettings, endpoint: &Endpoint, stall: Duration) -> MqttOptions {
    let (host, port, transport) = super::address(endpoint);
    let mut options = MqttOptions::new(&settings.client_id, host, port);
    options.set_transport(transport);
    // rumqttc's MQTT 5 client panics below 5 s; profiles refuse that, and this keeps a worker
    // given one anyway alive.
    options.set_keep_alive(settings.keep_alive.max(std::time::Duration::from_secs(5)));
    options.set_clean_start(settings.clean_session);
    options.set_connection_timeout(stall.as_secs());
    if let Some(user) = &settings.username {
        options.set_credentials(user, settings.password.clone().unwrap_or_default());
    }
    let v5 = &settings.v5;
    let mut connect = ConnectProperties::new();
    connect.session_expiry_interval = (v5.session_expiry != 0).then_some(v5.session_expiry);
    connect.receive_maximum = v5.receive_maximum;
    connect.max_packet_size = Some(v5.maximum_packet_size.unwrap_or(MAX_PACKET as u32));
    connect.topic_alias_max = (v5.topic_alias_maximum != 0).then_some(v5.topic_alias_maximum);
    connect.request_response_info = v5.request_response_information.then_some(1);
    connect.request_problem_info = (!v5.request_problem_information).then_some(0);
    connect.user_properties = pairs(&v5.user_properties);
    options.set_connect_properties(connect);
    if let Some(will) = &settings.will {
        let p = &will.properties;
        let props = LastWillProperties {
            delay_interval: (will.delay_secs != 0).then_some(will.delay_secs),
            payload_format_indicator: p.payload_format.map(format_byte),
            message_expiry_interval: p.message_expiry,
            content_type: p.content_type.clone(),
            response_topic: p.response_topic.clone(),
            correlation_data: p.correlation_data.clone(),
            user_properties: pairs(&p.user_properties),
        };
        let props = (will.delay_secs != 0 || !p.is_empty()).then_some(props);
        options.set_last_will(LastWill::new(&will.topic, will.payload.clone(), to_mqtt(will.qos), will.retain, props));
    }
    options
}

/// rumqttc's MQTT 5 client and event loop for `settings`, connecting to the relay's endpoint.
pub(super) fn open(settings: &ConnectSettings, endpoint: &Endpoint, stall: Duration) -> (Client, Poller) {
    let (client, eventloop) = AsyncClient::new(options(settings, endpoint, stall), REQUEST_CAPACITY);
    (Client(client), Poller { eventloop, aliases: HashMap::new() })
}

pub(super) struct Client(AsyncClient);

impl Client {
    pub(super) fn subscribe(&self, filter: &str, qos: Qos, options: SubOptions) -> Result<(), String> {
        let filter = Filter {
            path: filter.to_owned(),
            qos: to_mqtt(qos),
            nolocal: options.no_local,
            preserve_retain: options.retain_as_published,
            retain_forward_rule: match options.retain_handling {
                RetainHandling::OnSubscribe => RetainForwardRule::OnEverySubscribe,
                RetainHandling::OnNewSubscription => RetainForwardRule::OnNewSubscribe,
                RetainHandling::Never => RetainForwardRule::Never,
            },
        };
        let sent = match options.id {
            Some(id) => self.0.try_subscribe_many_with_properties(
                [filter],
                SubscribeProperties { id: Some(id as usize), user_properties: Vec::new() },
            ),
            None => self.0.try_subscribe_many([filter]),
        };
        sent.map_err(|e| e.to_string())
    }

    pub(super) fn unsubscribe(&self, filter: &str) -> Result<(), String> {
        self.0.try_unsubscribe(filter).map_err(|e| e.to_string())
    }

    pub(super) fn publish(&self, m: &Outgoing) -> Result<(), String> {
        let props = properties(&m.properties);
        self.0
            .try_publish_with_properties(m.topic.as_str(), to_mqtt(m.qos), m.retain, m.payload.clone(), props)
            .map_err(|e| e.to_string())
    }

    pub(super) fn disconnect(&self) -> Result<(), String> {
        self.0.try_disconnect().map_err(|e| e.to_string())
    }
}

pub(super) struct Poller {
    eventloop: EventLoop,
    /// The broker's topic aliases on this network connection. rumqttc resolves them too, but
    /// only after it has reported the PUBLISH, which then has an empty topic.
    aliases: HashMap<u16, String>,
}

impl Poller {
    pub(super) async fn poll(&mut self) -> Polled {
        match self.eventloop.poll().await {
            Ok(MqttEvent::Incoming(Packet::ConnAck(ack))) => {
                self.aliases.clear();
                Polled::ConnAck {
                    session_present: ack.session_present,
                    granted: Some(Box::new(ack.properties.map(granted).unwrap_or_default())),
                }
            }
            Ok(MqttEvent::Incoming(Packet::Publish(p))) => Polled::Message(self.message(p)),
            Ok(MqttEvent::Incoming(Packet::SubAck(ack))) => Polled::SubAck {
                codes: ack.return_codes.into_iter().map(sub_code).collect(),
                reason: ack.properties.and_then(|p| p.reason_string),
            },
            Ok(MqttEvent::Incoming(Packet::UnsubAck(_))) => Polled::UnsubAck,
            Ok(MqttEvent::Incoming(Packet::PubAck(ack))) => Polled::Acked {
                pkid: ack.pkid,
                code: puback_code(ack.reason),
                reason: ack.properties.and_then(|p| p.reason_string),
            },
            Ok(MqttEvent::Incoming(Packet::PubRec(rec))) => Polled::Acked {
                pkid: rec.pkid,
                code: pubrec_code(rec.reason),
                reason: rec.properties.and_then(|p| p.reason_string),
            },
            Ok(MqttEvent::Outgoing(MqttOutgoing::Publish(pkid))) => Polled::Sent(pkid),
            Ok(MqttEvent::Outgoing(MqttOutgoing::AwaitAck(pkid))) => Polled::Collided(pkid),
            Ok(MqttEvent::Outgoing(MqttOutgoing::Disconnect)) => Polled::Closed,
            Ok(_) => Polled::Nothing,
            Err(e) => Polled::Lost(lost(e)),
        }
    }

    /// A received PUBLISH with its topic, resolving a topic alias the broker set [MQTT-3.3.2-12].
    fn message(&mut self, p: Publish) -> ReceivedMessage {
        let mut topic = String::from_utf8_lossy(&p.topic).into_owned();
        let properties = received(p.properties);
        if let Some(alias) = properties.topic_alias {
            if topic.is_empty() {
                topic = self.aliases.get(&alias).cloned().unwrap_or_default();
            } else {
                self.aliases.insert(alias, topic.clone());
            }
        }
        ReceivedMessage {
            topic,
            payload: p.payload,
            qos: from_mqtt(p.qos),
            retain: p.retain,
            dup: p.dup,
            at: SystemTime::now(),
            properties,
        }
    }
}

const fn sub_code(code: SubscribeReasonCode) -> SubCode {
    match code {
        SubscribeReasonCode::Success(q) => Ok(from_mqtt(q)),
        SubscribeReasonCode::Failure | SubscribeReasonCode::Unspecified => Err(0x80),
        SubscribeReasonCode::ImplementationSpecific => Err(0x83),
        SubscribeReasonCode::NotAuthorized => Err(0x87),
        SubscribeReasonCode::TopicFilterInvalid => Err(0x8F),
        SubscribeReasonCode::PkidInUse => Err(0x91),
        SubscribeReasonCode::QuotaExceeded => Err(0x97),
        SubscribeReasonCode::SharedSubscriptionsNotSupported => Err(0x9E),
        SubscribeReasonCode::SubscriptionIdNotSupported => Err(0xA1),
        SubscribeReasonCode::WildcardSubscriptionsNotSupported => Err(0xA2),
    }
}

const fn puback_code(reason: PubAckReason) -> u8 {
    match reason {
        PubAckReason::Success => 0x00,
        PubAckReason::NoMatchingSubscribers => 0x10,
        PubAckReason::UnspecifiedError => 0x80,
        PubAckReason::ImplementationSpecificError => 0x83,
        PubAckReason::NotAuthorized => 0x87,
        PubAckReason::TopicNameInvalid => 0x90,
        PubAckReason::PacketIdentifierInUse => 0x91,
        PubAckReason::QuotaExceeded => 0x97,
        PubAckReason::PayloadFormatInvalid => 0x99,
    }
}

const fn pubrec_code(reason: PubRecReason) -> u8 {
    match reason {
        PubRecReason::Success => 0x00,
        PubRecReason::NoMatchingSubscribers => 0x10,
        PubRecReason::UnspecifiedError => 0x80,
        PubRecReason::ImplementationSpecificError => 0x83,
        PubRecReason::NotAuthorized => 0x87,
        PubRecReason::TopicNameInvalid => 0x90,
        PubRecReason::PacketIdentifierInUse => 0x91,
        PubRecReason::QuotaExceeded => 0x97,
        PubRecReason::PayloadFormatInvalid => 0x99,
    }
}

const fn connack_code(code: ConnectReturnCode) -> u8 {
    match code {
        ConnectReturnCode::Success => 0x00,
        // 3.1.1's codes, which rumqttc's v5 enum shares; an MQTT 5 broker sends 0x84, 0x85, 0x88.
        ConnectReturnCode::RefusedProtocolVersion | ConnectReturnCode::UnsupportedProtocolVersion => 0x84,
        ConnectReturnCode::BadClientId | ConnectReturnCode::ClientIdentifierNotValid => 0x85,
        ConnectReturnCode::ServiceUnavailable | ConnectReturnCode::ServerUnavailable => 0x88,
        ConnectReturnCode::UnspecifiedError => 0x80,
        ConnectReturnCode::MalformedPacket => 0x81,
        ConnectReturnCode::ProtocolError => 0x82,
        ConnectReturnCode::ImplementationSpecificError => 0x83,
        ConnectReturnCode::BadUserNamePassword => 0x86,
        ConnectReturnCode::NotAuthorized => 0x87,
        ConnectReturnCode::ServerBusy => 0x89,
        ConnectReturnCode::Banned => 0x8A,
        ConnectReturnCode::BadAuthenticationMethod => 0x8C,
        ConnectReturnCode::TopicNameInvalid => 0x90,
        ConnectReturnCode::PacketTooLarge => 0x95,
        ConnectReturnCode::QuotaExceeded => 0x97,
        ConnectReturnCode::PayloadFormatInvalid => 0x99,
        ConnectReturnCode::RetainNotSupported => 0x9A,
        ConnectReturnCode::QoSNotSupported => 0x9B,
        ConnectReturnCode::UseAnotherServer => 0x9C,
        ConnectReturnCode::ServerMoved => 0x9D,
        ConnectReturnCode::ConnectionRateExceeded => 0x9F,
    }
}

fn lost(error: ConnectionError) -> Lost {
    match error {
        ConnectionError::ConnectionRefused(code)
        | ConnectionError::MqttState(StateError::ConnFail { reason: code }) => Lost::Refused(connack_code(code)),
        ConnectionError::Timeout(_) => Lost::Timeout,
        ConnectionError::MqttState(StateError::AwaitPingResp) => Lost::NoPingResp,
        ConnectionError::MqttState(StateError::ServerDisconnect { reason_code, reason_string }) => {
            Lost::ServerDisconnect { code: reason_code as u8, reason: reason_string }
        }
        ConnectionError::MqttState(
            StateError::Deserialization(MqttBytesError::PayloadSizeLimitExceeded { pkt_size, .. })
            | StateError::IncomingPacketTooLarge { pkt_size, .. },
        ) => Lost::TooLarge(pkt_size),
        ConnectionError::MqttState(StateError::Deserialization(e)) => Lost::NotMqtt(e.to_string()),
        ConnectionError::NotConnAck(packet) => Lost::NotConnAck(format!("{packet:?}")),
        other => Lost::Other(other.to_string()),
    }
}
