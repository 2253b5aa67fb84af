//! Decoding and encoding errors. Every protocol error names the rule of the MQTT 3.1.1 (or,
//! for what only MQTT 5.0 has, 5.0) specification that the input breaks, so that a log line or
//! the packet inspector can point the student to the exact sentence of the standard, and
//! [`DecodeError::reason_code`] says what a broker answers an MQTT 5.0 client.

use super::PacketType;
use super::v5::{PropertyError, ReasonCode, ReasonCodeError};

/// Why bytes could not be decoded as an MQTT packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("[MQTT-2.2.1] packet type 0 is reserved")]
    ReservedPacketType0,
    #[error("[MQTT-2.2.1] packet type 15 (AUTH) exists only in MQTT 5.0; it is reserved in MQTT 3.1.1")]
    ReservedPacketType15,
    #[error("[MQTT-2.2.2-2] {packet} fixed header flags must be {expected:#06b}, got {got:#06b}")]
    ReservedFlags { packet: PacketType, expected: u8, got: u8 },
    #[error("[MQTT-2.2.3] remaining length uses more than 4 bytes")]
    RemainingLengthTooLong,
    #[error("[MQTT-2.2.3] packet of {size} bytes exceeds the limit of {limit} bytes")]
    PacketTooLarge { size: usize, limit: usize },
    #[error("[MQTT-1.5.3] {what} length {len} runs past the end of the packet")]
    LengthBeyondPacket { what: &'static str, len: usize },
    #[error("[MQTT-2.2.3] {packet} has {extra} bytes after its last field")]
    TrailingBytes { packet: PacketType, extra: usize },
    #[error("[MQTT-1.5.3-1] {what} is not well-formed UTF-8")]
    InvalidUtf8 { what: &'static str },
    #[error("[MQTT-1.5.3-2] {what} contains the null character U+0000")]
    NullCharacter { what: &'static str },
    #[error("[MQTT-3.1.2-1] protocol name {name:?} is neither \"MQTT\" nor \"MQIsdp\"")]
    InvalidProtocolName { name: String },
    #[error("[MQTT-3.1.2-2] protocol level {level} is not supported (3.1 = 3, 3.1.1 = 4, 5.0 = 5)")]
    UnsupportedProtocolLevel { level: u8 },
    #[error("[MQTT-3.1.2-3] CONNECT reserved flag bit 0 must be 0")]
    ConnectReservedFlag,
    #[error("[MQTT-3.1.2-13] will QoS must be 0 when the will flag is 0")]
    WillQosWithoutWill,
    #[error("[MQTT-3.1.2-15] will retain must be 0 when the will flag is 0")]
    WillRetainWithoutWill,
    #[error("[MQTT-3.1.2-22] password flag is set but the user name flag is not")]
    PasswordWithoutUsername,
    #[error("[MQTT-3.2.2-1] CONNACK flags bits 7-1 are reserved and must be 0, got {0:#04x}")]
    ConnAckReservedFlags(u8),
    #[error("[MQTT-3.2.2-3] CONNACK return code {0} is reserved")]
    ReservedReturnCode(u8),
    #[error("[MQTT-3.3.1-4] {what} QoS 3 is not a QoS level")]
    InvalidQos { what: &'static str },
    #[error("[MQTT-3.3.1-2] DUP must be 0 in a QoS 0 PUBLISH")]
    DupOnQos0,
    #[error("[MQTT-2.3.1-1] {packet} packet identifier must be non-zero")]
    ZeroPacketId { packet: PacketType },
    #[error("{0}")]
    Topic(#[from] TopicError),
    #[error("[MQTT-3.8.3-4] SUBSCRIBE requested QoS byte {0:#04x}: bits 7-2 are reserved and QoS 3 is invalid")]
    InvalidRequestedQos(u8),
    #[error("[MQTT-3.8.3-3] SUBSCRIBE must contain at least one topic filter")]
    SubscribeWithoutFilters,
    #[error("[MQTT-3.10.3-2] UNSUBSCRIBE must contain at least one topic filter")]
    UnsubscribeWithoutFilters,
    #[error("[MQTT-3.9.3-2] SUBACK return code {0:#04x} is reserved")]
    InvalidSubAckCode(u8),
    #[error("{0}")]
    Property(#[from] PropertyError),
    #[error("{0}")]
    ReasonCode(#[from] ReasonCodeError),
    #[error("[MQTT-3.2.2-6] CONNACK session present must be 0 with the error reason code {0}")]
    SessionPresentWithError(ReasonCode),
    #[error("[MQTT-3.3.2-14] Response Topic {topic:?} is not a topic name: {why}")]
    InvalidResponseTopic { topic: String, why: TopicError },
    #[error("[MQTT-3.8.3-5] subscription options {0:#04x}: bits 7-6 are reserved and must be 0")]
    SubscriptionOptionsReserved(u8),
    #[error("[MQTT-3.8.3.1] Retain Handling 3 is a Protocol Error")]
    RetainHandling3,
    #[error("[MQTT-3.8.3.1] subscription option Maximum QoS 3 is a Protocol Error")]
    MaximumQos3,
    #[error("[MQTT-3.8.3-4] No Local on the shared subscription {0:?} is a Protocol Error")]
    NoLocalOnSharedSubscription(String),
    #[error("[MQTT-3.15.2.2.2] AUTH must carry an Authentication Method")]
    AuthWithoutMethod,
}

impl DecodeError {
    /// What a broker sends an MQTT 5.0 client in the CONNACK or DISCONNECT that answers this
    /// error: 0x81 Malformed Packet when the bytes cannot be parsed, 0x82 Protocol Error when
    /// they parse but say what the protocol forbids (section 4.13), and the specific codes where
    /// the specification names one.
    pub const fn reason_code(&self) -> ReasonCode {
        match self {
            Self::Property(e) => e.reason_code(),
            Self::PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            Self::InvalidProtocolName { .. } | Self::UnsupportedProtocolLevel { .. } => {
                ReasonCode::UnsupportedProtocolVersion
            }
            Self::Topic(TopicError::WildcardInName(_)) | Self::InvalidResponseTopic { .. } => {
                ReasonCode::TopicNameInvalid
            }
            Self::ReasonCode(_)
            | Self::Topic(TopicError::NameTooDeep { .. })
            | Self::SessionPresentWithError(_)
            | Self::RetainHandling3
            | Self::MaximumQos3
            | Self::NoLocalOnSharedSubscription(_)
            | Self::ZeroPacketId { .. }
            | Self::AuthWithoutMethod
            | Self::ReservedPacketType15 => ReasonCode::ProtocolError,
            _ => ReasonCode::MalformedPacket,
        }
    }
}

/// Why a string is not a valid topic name or topic filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    #[error("[MQTT-4.7.3-1] topic {kind} must be at least one character long")]
    Empty { kind: &'static str },
    #[error("[MQTT-4.7.3-3] topic {kind} is {len} bytes long, more than 65535")]
    TooLong { kind: &'static str, len: usize },
    #[error("[MQTT-4.7.3-2] topic {kind} contains the null character U+0000")]
    NullCharacter { kind: &'static str },
    #[error("[MQTT-3.3.2-2] PUBLISH topic {0:?} contains a wildcard (+ or #)")]
    WildcardInName(String),
    #[error("[MQTT-4.7.1-2] '#' in filter {0:?} must be the last character and stand alone in its level")]
    MisplacedMultiLevel(String),
    #[error("[MQTT-4.7.1-3] '+' in filter {0:?} must occupy an entire level")]
    MisplacedSingleLevel(String),
    #[error("[MQTT-4.8.2-1] shared subscription {0:?}: $share/ must be followed by a share name and a filter")]
    SharedWithoutFilter(String),
    #[error("[MQTT-4.8.2-2] shared subscription {0:?}: the share name must not contain '+' or '#'")]
    WildcardInShareName(String),
    #[error("[Mosquitto topic depth] topic name of {levels} levels, over the limit of 201 (200 '/' separators)")]
    NameTooDeep { levels: usize },
    #[error("[Mosquitto topic depth] topic filter of {levels} levels, over the limit of 201 (200 '/' separators)")]
    FilterTooDeep { levels: usize },
}

/// Why a packet could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("[MQTT-1.5.3] {what} is {len} bytes long, more than the 65535 a length prefix can say")]
    StringTooLong { what: &'static str, len: usize },
    #[error("[MQTT-2.2.3] packet body of {0} bytes exceeds the maximum remaining length 268435455")]
    PacketTooLarge(usize),
    #[error("[MQTT-1.5.3-2] {what} contains the null character U+0000, which a receiver must refuse")]
    NullCharacter { what: &'static str },
    #[error("[MQTT-3.8.3-3] SUBSCRIBE must contain at least one topic filter")]
    SubscribeWithoutFilters,
    #[error("[MQTT-3.10.3-2] UNSUBSCRIBE must contain at least one topic filter")]
    UnsubscribeWithoutFilters,
    #[error("{0}")]
    Property(PropertyError),
    #[error("{0}")]
    ReasonCode(ReasonCodeError),
    #[error("[MQTT-3.2.2-6] CONNACK session present must be 0 with the error reason code {0}")]
    SessionPresentWithError(ReasonCode),
    #[error("[MQTT-2.2.1] AUTH exists only in MQTT 5.0")]
    AuthBeforeV5,
    #[error("[MQTT-3.15.2.2.2] AUTH must carry an Authentication Method")]
    AuthWithoutMethod,
}
