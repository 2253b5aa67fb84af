//! Errors of the MQTT 5.0 property and reason code decoders. Each message names the rule or the
//! section of the MQTT 5.0 specification that the input breaks, and [`PropertyError::reason_code`]
//! says what a broker answers: 0x81 Malformed Packet when the bytes cannot be parsed, 0x82
//! Protocol Error when they parse but the protocol forbids what they say (section 1.2).

use super::{PacketKind, PropertyId, ReasonCode, ReasonPacket};

/// Why a property block is malformed or breaks the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertyError {
    #[error("[MQTT-1.5.5] {what} uses more than the 4 bytes a variable byte integer may take")]
    VariableIntegerTooLong { what: &'static str },
    #[error("[MQTT-1.5.5-1] {what} is a variable byte integer in more bytes than its value needs")]
    VariableIntegerNotMinimal { what: &'static str },
    #[error("[MQTT-1.5.5] {what} {value} is more than 268435455, the largest variable byte integer")]
    VariableIntegerTooLarge { what: &'static str, value: u32 },
    #[error("[MQTT-2.2.2.1] property length {len} runs past the end of the packet ({available} bytes left)")]
    LengthBeyondPacket { len: usize, available: usize },
    #[error("[MQTT-2.2.2] {what} runs past the end of {within}")]
    Truncated { what: &'static str, within: &'static str },
    #[error("[MQTT-2.2.2.2] property identifier {0:#04x} is not defined by MQTT 5.0")]
    UnknownIdentifier(u32),
    #[error("[MQTT-2.2.2.2] {id} is not allowed in {packet}")]
    NotAllowed { id: PropertyId, packet: PacketKind },
    #[error("[MQTT-3.3.4-6] a PUBLISH sent by a client must not contain a Subscription Identifier")]
    SubscriptionIdFromClient,
    #[error("[MQTT-{section}] {id} appears more than once in {packet}, which is a Protocol Error")]
    Duplicate { id: PropertyId, packet: PacketKind, section: &'static str },
    #[error("[MQTT-1.5.4-1] {what} is not well-formed UTF-8")]
    InvalidUtf8 { what: &'static str },
    #[error("[MQTT-1.5.4-2] {what} contains the null character U+0000")]
    NullCharacter { what: &'static str },
    #[error("[MQTT-{rule}] {id} must not be 0")]
    Zero { id: PropertyId, rule: &'static str },
    #[error("[MQTT-{section}] {id} must be 0 or 1, got {value}")]
    NotZeroOrOne { id: PropertyId, section: &'static str, value: u8 },
    #[error("[MQTT-3.1.2.11.10] CONNECT has Authentication Data but no Authentication Method")]
    AuthenticationDataWithoutMethod,
    #[error("more than {limit} properties in one packet: this implementation's limit")]
    TooMany { limit: usize },
}

impl PropertyError {
    /// The reason code a broker sends in its CONNACK or DISCONNECT for this error.
    pub const fn reason_code(&self) -> ReasonCode {
        match self {
            Self::VariableIntegerTooLong { .. }
            | Self::VariableIntegerNotMinimal { .. }
            | Self::VariableIntegerTooLarge { .. }
            | Self::LengthBeyondPacket { .. }
            | Self::Truncated { .. }
            | Self::UnknownIdentifier(_)
            | Self::NotAllowed { .. }
            | Self::InvalidUtf8 { .. }
            | Self::NullCharacter { .. } => ReasonCode::MalformedPacket,
            Self::SubscriptionIdFromClient
            | Self::Duplicate { .. }
            | Self::Zero { .. }
            | Self::NotZeroOrOne { .. }
            | Self::AuthenticationDataWithoutMethod => ReasonCode::ProtocolError,
            Self::TooMany { .. } => ReasonCode::ImplementationSpecificError,
        }
    }
}

/// A reason code byte that the packet may not carry; the message cites the section listing the
/// codes the packet may carry. The packet parses, so a broker answers 0x82 Protocol Error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("[MQTT-{}] {code:#04x} is not a {packet} reason code", .packet.section())]
pub struct ReasonCodeError {
    pub packet: ReasonPacket,
    pub code: u8,
}
