//! The control packets of MQTT 3.1, 3.1.1 and 5.0: one type per packet for every version.

use std::fmt;

use bytes::Bytes;

use super::v5::{Properties, ReasonCode};
use super::{PacketId, PacketType, Protocol, QoS, QosPid, TopicFilter, TopicName};

/// One MQTT control packet, of any protocol version: the MQTT 5.0 parts (properties, reason
/// codes) are empty or success for MQTT 3.1 and 3.1.1, and encoding for those leaves them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Boxed: a CONNECT is large and comes once per connection, while every other packet is
    /// moved through queues by value.
    Connect(Box<Connect>),
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(Ack),
    PubRec(Ack),
    PubRel(Ack),
    PubComp(Ack),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(UnsubAck),
    PingReq,
    PingResp,
    Disconnect(Disconnect),
    /// MQTT 5.0 only.
    Auth(Auth),
}

impl Packet {
    pub const fn packet_type(&self) -> PacketType {
        match self {
            Self::Connect(_) => PacketType::Connect,
            Self::ConnAck(_) => PacketType::ConnAck,
            Self::Publish(_) => PacketType::Publish,
            Self::PubAck(_) => PacketType::PubAck,
            Self::PubRec(_) => PacketType::PubRec,
            Self::PubRel(_) => PacketType::PubRel,
            Self::PubComp(_) => PacketType::PubComp,
            Self::Subscribe(_) => PacketType::Subscribe,
            Self::SubAck(_) => PacketType::SubAck,
            Self::Unsubscribe(_) => PacketType::Unsubscribe,
            Self::UnsubAck(_) => PacketType::UnsubAck,
            Self::PingReq => PacketType::PingReq,
            Self::PingResp => PacketType::PingResp,
            Self::Disconnect(_) => PacketType::Disconnect,
            Self::Auth(_) => PacketType::Auth,
        }
    }

    /// A DISCONNECT with reason 0x00 (normal disconnection) and no properties: the only
    /// DISCONNECT of MQTT 3.1.1.
    pub fn disconnect() -> Self {
        Self::Disconnect(Disconnect::default())
    }
}

/// CONNECT: the first packet of every connection.
#[derive(Clone, PartialEq, Eq)]
pub struct Connect {
    pub protocol: Protocol,
    /// A bridge announcing itself (protocol level | 0x80, Mosquitto's `try_private`): a broker
    /// that knows the bit sends the bridge nothing it published itself.
    pub bridge: bool,
    /// Clean Session in MQTT 3.1.1, Clean Start in MQTT 5.0 (where the Session Expiry
    /// Interval, not this flag, says whether the session outlives the connection).
    pub clean_session: bool,
    /// Seconds; 0 turns the keepalive mechanism off.
    pub keep_alive: u16,
    /// MQTT 5.0 (3.1.2.11); empty otherwise.
    pub properties: Properties,
    pub client_id: String,
    pub will: Option<LastWill>,
    pub username: Option<String>,
    pub password: Option<Bytes>,
}

// Hand-written so that a password never reaches a log line through `{:?}`.
impl fmt::Debug for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connect")
            .field("protocol", &self.protocol)
            .field("bridge", &self.bridge)
            .field("clean_session", &self.clean_session)
            .field("keep_alive", &self.keep_alive)
            .field("properties", &self.properties)
            .field("client_id", &self.client_id)
            .field("will", &self.will)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<REDACTED>"))
            .finish()
    }
}

/// The message a broker publishes for a client whose connection ends without DISCONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWill {
    pub topic: TopicName,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    /// MQTT 5.0 will properties (3.1.3.2): the delay, and what the will message carries.
    pub properties: Properties,
}

/// CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectReturnCode {
    Accepted = 0,
    UnacceptableProtocolVersion = 1,
    IdentifierRejected = 2,
    ServerUnavailable = 3,
    BadUsernameOrPassword = 4,
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    pub const fn from_u8(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Accepted,
            1 => Self::UnacceptableProtocolVersion,
            2 => Self::IdentifierRejected,
            3 => Self::ServerUnavailable,
            4 => Self::BadUsernameOrPassword,
            5 => Self::NotAuthorized,
            _ => return None,
        })
    }

    /// The MQTT 5.0 reason code with the same meaning (section 3.2.2.2).
    pub const fn reason(self) -> ReasonCode {
        match self {
            Self::Accepted => ReasonCode::Success,
            Self::UnacceptableProtocolVersion => ReasonCode::UnsupportedProtocolVersion,
            Self::IdentifierRejected => ReasonCode::ClientIdentifierNotValid,
            Self::ServerUnavailable => ReasonCode::ServerUnavailable,
            Self::BadUsernameOrPassword => ReasonCode::BadUserNameOrPassword,
            Self::NotAuthorized => ReasonCode::NotAuthorized,
        }
    }

    /// The 3.1.1 return code nearest to an MQTT 5.0 CONNACK reason code, as Mosquitto maps them
    /// for older clients: refusals without a 3.1.1 code become "not authorized" (banned, quota)
    /// or "server unavailable" (busy, moved, errors).
    pub const fn from_reason(reason: ReasonCode) -> Self {
        use ReasonCode as R;
        match reason {
            R::Success => Self::Accepted,
            R::UnsupportedProtocolVersion => Self::UnacceptableProtocolVersion,
            R::ClientIdentifierNotValid => Self::IdentifierRejected,
            R::BadUserNameOrPassword => Self::BadUsernameOrPassword,
            R::NotAuthorized | R::Banned | R::BadAuthenticationMethod | R::QuotaExceeded => Self::NotAuthorized,
            _ => Self::ServerUnavailable,
        }
    }

    /// The meaning of the code in words, as the specification states it.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Accepted => "connection accepted",
            Self::UnacceptableProtocolVersion => "the server does not support the requested protocol level",
            Self::IdentifierRejected => "the client identifier is not allowed by the server",
            Self::ServerUnavailable => "the MQTT service is unavailable",
            Self::BadUsernameOrPassword => "the user name or password is malformed",
            Self::NotAuthorized => "the client is not authorized to connect",
        }
    }
}

/// CONNACK. MQTT 3.1.1 return codes are carried as their MQTT 5.0 reason codes
/// ([`ConnectReturnCode::reason`]) and mapped back when encoded for a 3.1.1 client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnAck {
    pub session_present: bool,
    pub reason: ReasonCode,
    pub properties: Properties,
}

impl ConnAck {
    /// A CONNACK with a 3.1.1 return code and no properties.
    pub fn new(session_present: bool, code: ConnectReturnCode) -> Self {
        Self { session_present, reason: code.reason(), properties: Properties::default() }
    }

    /// The 3.1.1 return code this CONNACK has (or would have) for a 3.1.1 client.
    pub const fn code(&self) -> ConnectReturnCode {
        ConnectReturnCode::from_reason(self.reason)
    }
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP: a packet identifier, and in MQTT 5.0 a reason code and
/// properties (left out on the wire when 0x00 and empty [MQTT-3.4.2.1]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub pid: PacketId,
    pub reason: ReasonCode,
    pub properties: Properties,
}

impl Ack {
    /// Success, no properties: the only form MQTT 3.1.1 has.
    pub fn new(pid: PacketId) -> Self {
        Self { pid, reason: ReasonCode::Success, properties: Properties::default() }
    }

    pub fn with_reason(pid: PacketId, reason: ReasonCode) -> Self {
        Self { pid, reason, properties: Properties::default() }
    }
}

impl From<PacketId> for Ack {
    fn from(pid: PacketId) -> Self {
        Self::new(pid)
    }
}

/// PUBLISH: an application message on a topic.
#[derive(Clone, PartialEq, Eq)]
pub struct Publish {
    pub dup: bool,
    pub qos_pid: QosPid,
    pub retain: bool,
    /// Empty only in an MQTT 5.0 PUBLISH that names its topic by a Topic Alias alone
    /// (3.3.2.3.4); a receiver resolves it before anything else sees the message.
    pub topic: TopicName,
    pub payload: Bytes,
    /// MQTT 5.0 (3.3.2.3): forwarded unchanged and in order; empty for 3.1.1.
    pub properties: Properties,
}

impl Publish {
    pub const fn qos(&self) -> QoS {
        self.qos_pid.qos()
    }
}

// Payloads can be large or binary: Debug shows their size only.
impl fmt::Debug for Publish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publish")
            .field("dup", &self.dup)
            .field("qos_pid", &self.qos_pid)
            .field("retain", &self.retain)
            .field("topic", &self.topic)
            .field("payload_len", &self.payload.len())
            .field("properties", &self.properties)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    pub pid: PacketId,
    /// MQTT 5.0: a Subscription Identifier and user properties (3.8.2.1).
    pub properties: Properties,
    pub filters: Vec<(TopicFilter, SubOptions)>,
}

/// What a client asks of one subscription: the maximum QoS, and in MQTT 5.0 the
/// subscription options of section 3.8.3.1 (all off in 3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubOptions {
    pub qos: QoS,
    /// Do not send the client its own messages [MQTT-3.8.3-3].
    pub no_local: bool,
    /// Keep the RETAIN flag of messages forwarded live (3.8.3.1).
    pub retain_as_published: bool,
    pub retain_handling: RetainHandling,
}

impl SubOptions {
    /// The subscription options byte.
    pub const fn to_u8(self) -> u8 {
        self.qos as u8
            | (self.no_local as u8) << 2
            | (self.retain_as_published as u8) << 3
            | (self.retain_handling as u8) << 4
    }
}

impl From<QoS> for SubOptions {
    fn from(qos: QoS) -> Self {
        Self { qos, ..Self::default() }
    }
}

/// When retained messages are sent for a subscription (3.8.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RetainHandling {
    /// At the time of the subscribe.
    #[default]
    OnSubscribe = 0,
    /// Only if the subscription did not exist.
    OnNewSubscription = 1,
    Never = 2,
}

/// One return code of a SUBACK: the granted QoS or a failure (0x80 in MQTT 3.1.1; in MQTT 5.0
/// one of the reason codes of section 3.9.3, which a 3.1.1 client receives as 0x80).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubAckCode {
    Granted(QoS),
    Failure(ReasonCode),
}

impl SubAckCode {
    /// The 3.1.1 failure: 0x80.
    pub const FAILURE: Self = Self::Failure(ReasonCode::UnspecifiedError);

    /// The byte for a client of `protocol`.
    pub const fn to_u8(self, protocol: Protocol) -> u8 {
        match self {
            Self::Granted(q) => q as u8,
            Self::Failure(r) if protocol.is_v5() => r as u8,
            Self::Failure(_) => 0x80,
        }
    }

    pub const fn is_failure(self) -> bool {
        matches!(self, Self::Failure(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    pub pid: PacketId,
    pub properties: Properties,
    pub codes: Vec<SubAckCode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub pid: PacketId,
    pub properties: Properties,
    pub filters: Vec<TopicFilter>,
}

/// UNSUBACK: in MQTT 5.0 a reason code per filter (3.11.3); 3.1.1 has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    pub pid: PacketId,
    pub properties: Properties,
    pub reasons: Vec<ReasonCode>,
}

impl UnsubAck {
    /// The 3.1.1 form: no reason codes.
    pub fn new(pid: PacketId) -> Self {
        Self { pid, properties: Properties::default(), reasons: Vec::new() }
    }
}

/// DISCONNECT: in MQTT 5.0 with a reason code and properties (3.14.2), which a remaining
/// length of 0 leaves at 0x00 Normal disconnection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disconnect {
    pub reason: ReasonCode,
    pub properties: Properties,
}

impl Disconnect {
    pub fn with_reason(reason: ReasonCode) -> Self {
        Self { reason, properties: Properties::default() }
    }
}

/// AUTH (MQTT 5.0, section 3.15): enhanced authentication.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auth {
    pub reason: ReasonCode,
    pub properties: Properties,
}
