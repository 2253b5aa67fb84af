//! The reason codes of MQTT 5.0 (section 2.4) and which packet may carry which.
//!
//! The single source for "may this packet carry this code" is [`ReasonPacket::codes`]: the list
//! of each packet's own section. [`ReasonCode::packets`] is derived from it; a test checks the
//! result against the table of section 2.4.

use std::fmt;

use super::ReasonCodeError;

/// A reason code: below 0x80 success, from 0x80 on failure (section 2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum ReasonCode {
    /// Also "Normal disconnection" in DISCONNECT and "Granted QoS 0" in SUBACK.
    #[default]
    Success = 0x00,
    GrantedQos1 = 0x01,
    GrantedQos2 = 0x02,
    DisconnectWithWillMessage = 0x04,
    NoMatchingSubscribers = 0x10,
    NoSubscriptionExisted = 0x11,
    ContinueAuthentication = 0x18,
    ReAuthenticate = 0x19,
    UnspecifiedError = 0x80,
    MalformedPacket = 0x81,
    ProtocolError = 0x82,
    ImplementationSpecificError = 0x83,
    UnsupportedProtocolVersion = 0x84,
    ClientIdentifierNotValid = 0x85,
    BadUserNameOrPassword = 0x86,
    NotAuthorized = 0x87,
    ServerUnavailable = 0x88,
    ServerBusy = 0x89,
    Banned = 0x8A,
    ServerShuttingDown = 0x8B,
    BadAuthenticationMethod = 0x8C,
    KeepAliveTimeout = 0x8D,
    SessionTakenOver = 0x8E,
    TopicFilterInvalid = 0x8F,
    TopicNameInvalid = 0x90,
    PacketIdentifierInUse = 0x91,
    PacketIdentifierNotFound = 0x92,
    ReceiveMaximumExceeded = 0x93,
    TopicAliasInvalid = 0x94,
    PacketTooLarge = 0x95,
    MessageRateTooHigh = 0x96,
    QuotaExceeded = 0x97,
    AdministrativeAction = 0x98,
    PayloadFormatInvalid = 0x99,
    RetainNotSupported = 0x9A,
    QosNotSupported = 0x9B,
    UseAnotherServer = 0x9C,
    ServerMoved = 0x9D,
    SharedSubscriptionsNotSupported = 0x9E,
    ConnectionRateExceeded = 0x9F,
    MaximumConnectTime = 0xA0,
    SubscriptionIdentifiersNotSupported = 0xA1,
    WildcardSubscriptionsNotSupported = 0xA2,
}

impl ReasonCode {
    /// Every reason code, in numeric order.
    pub const ALL: [Self; 43] = {
        use ReasonCode as R;
        [
            R::Success,
            R::GrantedQos1,
            R::GrantedQos2,
            R::DisconnectWithWillMessage,
            R::NoMatchingSubscribers,
            R::NoSubscriptionExisted,
            R::ContinueAuthentication,
            R::ReAuthenticate,
            R::UnspecifiedError,
            R::MalformedPacket,
            R::ProtocolError,
            R::ImplementationSpecificError,
            R::UnsupportedProtocolVersion,
            R::ClientIdentifierNotValid,
            R::BadUserNameOrPassword,
            R::NotAuthorized,
            R::ServerUnavailable,
            R::ServerBusy,
            R::Banned,
            R::ServerShuttingDown,
            R::BadAuthenticationMethod,
            R::KeepAliveTimeout,
            R::SessionTakenOver,
            R::TopicFilterInvalid,
            R::TopicNameInvalid,
            R::PacketIdentifierInUse,
            R::PacketIdentifierNotFound,
            R::ReceiveMaximumExceeded,
            R::TopicAliasInvalid,
            R::PacketTooLarge,
            R::MessageRateTooHigh,
            R::QuotaExceeded,
            R::AdministrativeAction,
            R::PayloadFormatInvalid,
            R::RetainNotSupported,
            R::QosNotSupported,
            R::UseAnotherServer,
            R::ServerMoved,
            R::SharedSubscriptionsNotSupported,
            R::ConnectionRateExceeded,
            R::MaximumConnectTime,
            R::SubscriptionIdentifiersNotSupported,
            R::WildcardSubscriptionsNotSupported,
        ]
    };

    /// The reason code with this value, whatever the packet.
    pub fn from_u8(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| *r as u8 == code)
    }

    /// The code `code` if `packet` may carry it, else an error citing the packet's section.
    pub fn decode(packet: ReasonPacket, code: u8) -> Result<Self, ReasonCodeError> {
        Self::from_u8(code).filter(|r| r.valid_in(packet)).ok_or(ReasonCodeError { packet, code })
    }

    pub fn valid_in(self, packet: ReasonPacket) -> bool {
        packet.codes().contains(&self)
    }

    /// The packets that may carry this code (the table of section 2.4).
    pub fn packets(self) -> impl Iterator<Item = ReasonPacket> {
        ReasonPacket::ALL.into_iter().filter(move |p| self.valid_in(*p))
    }

    pub const fn is_error(self) -> bool {
        self as u8 >= 0x80
    }

    /// The name in the specification's table; 0x00 is named by [`Self::name_in`].
    pub const fn name(self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::GrantedQos1 => "Granted QoS 1",
            Self::GrantedQos2 => "Granted QoS 2",
            Self::DisconnectWithWillMessage => "Disconnect with Will Message",
            Self::NoMatchingSubscribers => "No matching subscribers",
            Self::NoSubscriptionExisted => "No subscription existed",
            Self::ContinueAuthentication => "Continue authentication",
            Self::ReAuthenticate => "Re-authenticate",
            Self::UnspecifiedError => "Unspecified error",
            Self::MalformedPacket => "Malformed Packet",
            Self::ProtocolError => "Protocol Error",
            Self::ImplementationSpecificError => "Implementation specific error",
            Self::UnsupportedProtocolVersion => "Unsupported Protocol Version",
            Self::ClientIdentifierNotValid => "Client Identifier not valid",
            Self::BadUserNameOrPassword => "Bad User Name or Password",
            Self::NotAuthorized => "Not authorized",
            Self::ServerUnavailable => "Server unavailable",
            Self::ServerBusy => "Server busy",
            Self::Banned => "Banned",
            Self::ServerShuttingDown => "Server shutting down",
            Self::BadAuthenticationMethod => "Bad authentication method",
            Self::KeepAliveTimeout => "Keep Alive timeout",
            Self::SessionTakenOver => "Session taken over",
            Self::TopicFilterInvalid => "Topic Filter invalid",
            Self::TopicNameInvalid => "Topic Name invalid",
            Self::PacketIdentifierInUse => "Packet Identifier in use",
            Self::PacketIdentifierNotFound => "Packet Identifier not found",
            Self::ReceiveMaximumExceeded => "Receive Maximum exceeded",
            Self::TopicAliasInvalid => "Topic Alias invalid",
            Self::PacketTooLarge => "Packet too large",
            Self::MessageRateTooHigh => "Message rate too high",
            Self::QuotaExceeded => "Quota exceeded",
            Self::AdministrativeAction => "Administrative action",
            Self::PayloadFormatInvalid => "Payload format invalid",
            Self::RetainNotSupported => "Retain not supported",
            Self::QosNotSupported => "QoS not supported",
            Self::UseAnotherServer => "Use another server",
            Self::ServerMoved => "Server moved",
            Self::SharedSubscriptionsNotSupported => "Shared Subscriptions not supported",
            Self::ConnectionRateExceeded => "Connection rate exceeded",
            Self::MaximumConnectTime => "Maximum connect time",
            Self::SubscriptionIdentifiersNotSupported => "Subscription Identifiers not supported",
            Self::WildcardSubscriptionsNotSupported => "Wildcard Subscriptions not supported",
        }
    }

    /// The name as `packet` uses it: 0x00 is "Normal disconnection" in DISCONNECT and
    /// "Granted QoS 0" in SUBACK.
    pub const fn name_in(self, packet: ReasonPacket) -> &'static str {
        match (self, packet) {
            (Self::Success, ReasonPacket::Disconnect) => "Normal disconnection",
            (Self::Success, ReasonPacket::SubAck) => "Granted QoS 0",
            _ => self.name(),
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#04x} ({})", *self as u8, self.name())
    }
}

/// The packets that carry a reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonPacket {
    ConnAck,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    SubAck,
    UnsubAck,
    Disconnect,
    Auth,
}

impl ReasonPacket {
    pub const ALL: [Self; 9] = [
        Self::ConnAck,
        Self::PubAck,
        Self::PubRec,
        Self::PubRel,
        Self::PubComp,
        Self::SubAck,
        Self::UnsubAck,
        Self::Disconnect,
        Self::Auth,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::ConnAck => "CONNACK",
            Self::PubAck => "PUBACK",
            Self::PubRec => "PUBREC",
            Self::PubRel => "PUBREL",
            Self::PubComp => "PUBCOMP",
            Self::SubAck => "SUBACK",
            Self::UnsubAck => "UNSUBACK",
            Self::Disconnect => "DISCONNECT",
            Self::Auth => "AUTH",
        }
    }

    /// The section that lists this packet's reason codes.
    pub const fn section(self) -> &'static str {
        match self {
            Self::ConnAck => "3.2.2.2",
            Self::PubAck => "3.4.2.1",
            Self::PubRec => "3.5.2.1",
            Self::PubRel => "3.6.2.1",
            Self::PubComp => "3.7.2.1",
            Self::SubAck => "3.9.3",
            Self::UnsubAck => "3.11.3",
            Self::Disconnect => "3.14.2.1",
            Self::Auth => "3.15.2.1",
        }
    }

    /// The codes this packet may carry, as listed in its section.
    pub const fn codes(self) -> &'static [ReasonCode] {
        use ReasonCode as R;
        match self {
            Self::ConnAck => &[
                R::Success,
                R::UnspecifiedError,
                R::MalformedPacket,
                R::ProtocolError,
                R::ImplementationSpecificError,
                R::UnsupportedProtocolVersion,
                R::ClientIdentifierNotValid,
                R::BadUserNameOrPassword,
                R::NotAuthorized,
                R::ServerUnavailable,
                R::ServerBusy,
                R::Banned,
                R::BadAuthenticationMethod,
                R::TopicNameInvalid,
                R::PacketTooLarge,
                R::QuotaExceeded,
                R::PayloadFormatInvalid,
                R::RetainNotSupported,
                R::QosNotSupported,
                R::UseAnotherServer,
                R::ServerMoved,
                R::ConnectionRateExceeded,
            ],
            Self::PubAck | Self::PubRec => &[
                R::Success,
                R::NoMatchingSubscribers,
                R::UnspecifiedError,
                R::ImplementationSpecificError,
                R::NotAuthorized,
                R::TopicNameInvalid,
                R::PacketIdentifierInUse,
                R::QuotaExceeded,
                R::PayloadFormatInvalid,
            ],
            Self::PubRel | Self::PubComp => &[R::Success, R::PacketIdentifierNotFound],
            Self::SubAck => &[
                R::Success,
                R::GrantedQos1,
                R::GrantedQos2,
                R::UnspecifiedError,
                R::ImplementationSpecificError,
                R::NotAuthorized,
                R::TopicFilterInvalid,
                R::PacketIdentifierInUse,
                R::QuotaExceeded,
                R::SharedSubscriptionsNotSupported,
                R::SubscriptionIdentifiersNotSupported,
                R::WildcardSubscriptionsNotSupported,
            ],
            Self::UnsubAck => &[
                R::Success,
                R::NoSubscriptionExisted,
                R::UnspecifiedError,
                R::ImplementationSpecificError,
                R::NotAuthorized,
                R::TopicFilterInvalid,
                R::PacketIdentifierInUse,
            ],
            Self::Disconnect => &[
                R::Success,
                R::DisconnectWithWillMessage,
                R::UnspecifiedError,
                R::MalformedPacket,
                R::ProtocolError,
                R::ImplementationSpecificError,
                R::NotAuthorized,
                R::ServerBusy,
                R::ServerShuttingDown,
                R::BadAuthenticationMethod,
                R::KeepAliveTimeout,
                R::SessionTakenOver,
                R::TopicFilterInvalid,
                R::TopicNameInvalid,
                R::ReceiveMaximumExceeded,
                R::TopicAliasInvalid,
                R::PacketTooLarge,
                R::MessageRateTooHigh,
                R::QuotaExceeded,
                R::AdministrativeAction,
                R::PayloadFormatInvalid,
                R::RetainNotSupported,
                R::QosNotSupported,
                R::UseAnotherServer,
                R::ServerMoved,
                R::SharedSubscriptionsNotSupported,
                R::ConnectionRateExceeded,
                R::MaximumConnectTime,
                R::SubscriptionIdentifiersNotSupported,
                R::WildcardSubscriptionsNotSupported,
            ],
            Self::Auth => &[R::Success, R::ContinueAuthentication, R::ReAuthenticate],
        }
    }
}

impl fmt::Display for ReasonPacket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
