//! The 27 property identifiers of MQTT 5.0 (table of section 2.2.2.2), the type of each value,
//! and which packets may carry each one.
//!
//! The single source for "where may this property appear" is [`PacketKind::properties`]: one
//! list per packet, in the order of that packet's section of the specification, each entry with
//! the number of the section that defines the property there. Errors cite that section (e.g.
//! Receive Maximum twice in a CONNACK cites 3.2.2.3.3), and [`PropertyId::packets`] is derived from
//! the lists; a test checks the result against the table of section 2.2.2.2.

use std::fmt;

/// How a property's value is encoded (section 1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    Byte,
    TwoByteInteger,
    FourByteInteger,
    VariableByteInteger,
    Utf8String,
    BinaryData,
    Utf8StringPair,
}

/// A property identifier. The specification defines it as a variable byte integer, but every
/// identifier of MQTT 5.0 fits in one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum PropertyId {
    PayloadFormatIndicator = 0x01,
    MessageExpiryInterval = 0x02,
    ContentType = 0x03,
    ResponseTopic = 0x08,
    CorrelationData = 0x09,
    SubscriptionIdentifier = 0x0B,
    SessionExpiryInterval = 0x11,
    AssignedClientIdentifier = 0x12,
    ServerKeepAlive = 0x13,
    AuthenticationMethod = 0x15,
    AuthenticationData = 0x16,
    RequestProblemInformation = 0x17,
    WillDelayInterval = 0x18,
    RequestResponseInformation = 0x19,
    ResponseInformation = 0x1A,
    ServerReference = 0x1C,
    ReasonString = 0x1F,
    ReceiveMaximum = 0x21,
    TopicAliasMaximum = 0x22,
    TopicAlias = 0x23,
    MaximumQos = 0x24,
    RetainAvailable = 0x25,
    UserProperty = 0x26,
    MaximumPacketSize = 0x27,
    WildcardSubscriptionAvailable = 0x28,
    SubscriptionIdentifiersAvailable = 0x29,
    SharedSubscriptionAvailable = 0x2A,
}

impl PropertyId {
    /// Every identifier, in numeric order.
    pub const ALL: [Self; 27] = {
        use PropertyId as P;
        [
            P::PayloadFormatIndicator,
            P::MessageExpiryInterval,
            P::ContentType,
            P::ResponseTopic,
            P::CorrelationData,
            P::SubscriptionIdentifier,
            P::SessionExpiryInterval,
            P::AssignedClientIdentifier,
            P::ServerKeepAlive,
            P::AuthenticationMethod,
            P::AuthenticationData,
            P::RequestProblemInformation,
            P::WillDelayInterval,
            P::RequestResponseInformation,
            P::ResponseInformation,
            P::ServerReference,
            P::ReasonString,
            P::ReceiveMaximum,
            P::TopicAliasMaximum,
            P::TopicAlias,
            P::MaximumQos,
            P::RetainAvailable,
            P::UserProperty,
            P::MaximumPacketSize,
            P::WildcardSubscriptionAvailable,
            P::SubscriptionIdentifiersAvailable,
            P::SharedSubscriptionAvailable,
        ]
    };

    /// The identifier with this number, if MQTT 5.0 defines one.
    pub fn from_u32(id: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|p| u32::from(*p as u8) == id)
    }

    /// The name used by the specification.
    pub const fn name(self) -> &'static str {
        match self {
            Self::PayloadFormatIndicator => "Payload Format Indicator",
            Self::MessageExpiryInterval => "Message Expiry Interval",
            Self::ContentType => "Content Type",
            Self::ResponseTopic => "Response Topic",
            Self::CorrelationData => "Correlation Data",
            Self::SubscriptionIdentifier => "Subscription Identifier",
            Self::SessionExpiryInterval => "Session Expiry Interval",
            Self::AssignedClientIdentifier => "Assigned Client Identifier",
            Self::ServerKeepAlive => "Server Keep Alive",
            Self::AuthenticationMethod => "Authentication Method",
            Self::AuthenticationData => "Authentication Data",
            Self::RequestProblemInformation => "Request Problem Information",
            Self::WillDelayInterval => "Will Delay Interval",
            Self::RequestResponseInformation => "Request Response Information",
            Self::ResponseInformation => "Response Information",
            Self::ServerReference => "Server Reference",
            Self::ReasonString => "Reason String",
            Self::ReceiveMaximum => "Receive Maximum",
            Self::TopicAliasMaximum => "Topic Alias Maximum",
            Self::TopicAlias => "Topic Alias",
            Self::MaximumQos => "Maximum QoS",
            Self::RetainAvailable => "Retain Available",
            Self::UserProperty => "User Property",
            Self::MaximumPacketSize => "Maximum Packet Size",
            Self::WildcardSubscriptionAvailable => "Wildcard Subscription Available",
            Self::SubscriptionIdentifiersAvailable => "Subscription Identifier Available",
            Self::SharedSubscriptionAvailable => "Shared Subscription Available",
        }
    }

    pub const fn value_type(self) -> ValueType {
        use ValueType as V;
        match self {
            Self::PayloadFormatIndicator
            | Self::RequestProblemInformation
            | Self::RequestResponseInformation
            | Self::MaximumQos
            | Self::RetainAvailable
            | Self::WildcardSubscriptionAvailable
            | Self::SubscriptionIdentifiersAvailable
            | Self::SharedSubscriptionAvailable => V::Byte,
            Self::ServerKeepAlive | Self::ReceiveMaximum | Self::TopicAliasMaximum | Self::TopicAlias => {
                V::TwoByteInteger
            }
            Self::MessageExpiryInterval
            | Self::SessionExpiryInterval
            | Self::WillDelayInterval
            | Self::MaximumPacketSize => V::FourByteInteger,
            Self::SubscriptionIdentifier => V::VariableByteInteger,
            Self::ContentType
            | Self::ResponseTopic
            | Self::AssignedClientIdentifier
            | Self::AuthenticationMethod
            | Self::ResponseInformation
            | Self::ServerReference
            | Self::ReasonString => V::Utf8String,
            Self::CorrelationData | Self::AuthenticationData => V::BinaryData,
            Self::UserProperty => V::Utf8StringPair,
        }
    }

    /// The places this property may appear in (the table of section 2.2.2.2).
    pub fn packets(self) -> impl Iterator<Item = PacketKind> {
        PacketKind::ALL.into_iter().filter(move |kind| kind.section(self).is_some())
    }
}

impl fmt::Display for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:#04x})", self.name(), *self as u8)
    }
}

/// Where a property block sits: in a packet's variable header, or the will properties in
/// CONNECT's payload. PUBLISH comes in two directions because they differ: a client must not
/// send a Subscription Identifier [MQTT-3.3.4-6], a server may send several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    Connect,
    Will,
    ConnAck,
    PublishToServer,
    PublishToClient,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth,
}

type Sections = &'static [(PropertyId, &'static str)];

impl PacketKind {
    pub const ALL: [Self; 15] = [
        Self::Connect,
        Self::Will,
        Self::ConnAck,
        Self::PublishToServer,
        Self::PublishToClient,
        Self::PubAck,
        Self::PubRec,
        Self::PubRel,
        Self::PubComp,
        Self::Subscribe,
        Self::SubAck,
        Self::Unsubscribe,
        Self::UnsubAck,
        Self::Disconnect,
        Self::Auth,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Will => "the will properties",
            Self::ConnAck => "CONNACK",
            Self::PublishToServer => "PUBLISH (client to server)",
            Self::PublishToClient => "PUBLISH (server to client)",
            Self::PubAck => "PUBACK",
            Self::PubRec => "PUBREC",
            Self::PubRel => "PUBREL",
            Self::PubComp => "PUBCOMP",
            Self::Subscribe => "SUBSCRIBE",
            Self::SubAck => "SUBACK",
            Self::Unsubscribe => "UNSUBSCRIBE",
            Self::UnsubAck => "UNSUBACK",
            Self::Disconnect => "DISCONNECT",
            Self::Auth => "AUTH",
        }
    }

    /// The properties this packet may carry, in the order of its section of the specification,
    /// each with the section that defines it there.
    pub const fn properties(self) -> Sections {
        use PropertyId as P;
        match self {
            Self::Connect => &[
                (P::SessionExpiryInterval, "3.1.2.11.2"),
                (P::ReceiveMaximum, "3.1.2.11.3"),
                (P::MaximumPacketSize, "3.1.2.11.4"),
                (P::TopicAliasMaximum, "3.1.2.11.5"),
                (P::RequestResponseInformation, "3.1.2.11.6"),
                (P::RequestProblemInformation, "3.1.2.11.7"),
                (P::UserProperty, "3.1.2.11.8"),
                (P::AuthenticationMethod, "3.1.2.11.9"),
                (P::AuthenticationData, "3.1.2.11.10"),
            ],
            Self::Will => &[
                (P::WillDelayInterval, "3.1.3.2.2"),
                (P::PayloadFormatIndicator, "3.1.3.2.3"),
                (P::MessageExpiryInterval, "3.1.3.2.4"),
                (P::ContentType, "3.1.3.2.5"),
                (P::ResponseTopic, "3.1.3.2.6"),
                (P::CorrelationData, "3.1.3.2.7"),
                (P::UserProperty, "3.1.3.2.8"),
            ],
            Self::ConnAck => &[
                (P::SessionExpiryInterval, "3.2.2.3.2"),
                (P::ReceiveMaximum, "3.2.2.3.3"),
                (P::MaximumQos, "3.2.2.3.4"),
                (P::RetainAvailable, "3.2.2.3.5"),
                (P::MaximumPacketSize, "3.2.2.3.6"),
                (P::AssignedClientIdentifier, "3.2.2.3.7"),
                (P::TopicAliasMaximum, "3.2.2.3.8"),
                (P::ReasonString, "3.2.2.3.9"),
                (P::UserProperty, "3.2.2.3.10"),
                (P::WildcardSubscriptionAvailable, "3.2.2.3.11"),
                (P::SubscriptionIdentifiersAvailable, "3.2.2.3.12"),
                (P::SharedSubscriptionAvailable, "3.2.2.3.13"),
                (P::ServerKeepAlive, "3.2.2.3.14"),
                (P::ResponseInformation, "3.2.2.3.15"),
                (P::ServerReference, "3.2.2.3.16"),
                (P::AuthenticationMethod, "3.2.2.3.17"),
                (P::AuthenticationData, "3.2.2.3.18"),
            ],
            Self::PublishToServer | Self::PublishToClient => &[
                (P::PayloadFormatIndicator, "3.3.2.3.2"),
                (P::MessageExpiryInterval, "3.3.2.3.3"),
                (P::TopicAlias, "3.3.2.3.4"),
                (P::ResponseTopic, "3.3.2.3.5"),
                (P::CorrelationData, "3.3.2.3.6"),
                (P::UserProperty, "3.3.2.3.7"),
                (P::SubscriptionIdentifier, "3.3.2.3.8"),
                (P::ContentType, "3.3.2.3.9"),
            ],
            Self::PubAck => &[(P::ReasonString, "3.4.2.2.2"), (P::UserProperty, "3.4.2.2.3")],
            Self::PubRec => &[(P::ReasonString, "3.5.2.2.2"), (P::UserProperty, "3.5.2.2.3")],
            Self::PubRel => &[(P::ReasonString, "3.6.2.2.2"), (P::UserProperty, "3.6.2.2.3")],
            Self::PubComp => &[(P::ReasonString, "3.7.2.2.2"), (P::UserProperty, "3.7.2.2.3")],
            Self::Subscribe => &[(P::SubscriptionIdentifier, "3.8.2.1.2"), (P::UserProperty, "3.8.2.1.3")],
            Self::SubAck => &[(P::ReasonString, "3.9.2.1.2"), (P::UserProperty, "3.9.2.1.3")],
            Self::Unsubscribe => &[(P::UserProperty, "3.10.2.1.2")],
            Self::UnsubAck => &[(P::ReasonString, "3.11.2.1.2"), (P::UserProperty, "3.11.2.1.3")],
            Self::Disconnect => &[
                (P::SessionExpiryInterval, "3.14.2.2.2"),
                (P::ReasonString, "3.14.2.2.3"),
                (P::UserProperty, "3.14.2.2.4"),
                (P::ServerReference, "3.14.2.2.5"),
            ],
            Self::Auth => &[
                (P::AuthenticationMethod, "3.15.2.2.2"),
                (P::AuthenticationData, "3.15.2.2.3"),
                (P::ReasonString, "3.15.2.2.4"),
                (P::UserProperty, "3.15.2.2.5"),
            ],
        }
    }

    /// The section defining `id` in this packet, or `None` if the packet may not carry it.
    pub fn section(self, id: PropertyId) -> Option<&'static str> {
        self.properties().iter().find(|(p, _)| *p == id).map(|(_, section)| *section)
    }

    /// Whether `id` may appear more than once: User Property anywhere, and Subscription
    /// Identifier in a PUBLISH to a client, one per matching subscription (section 3.3.4).
    /// The packet whose reason codes this block's packet carries, if it carries any.
    pub const fn reason_packet(self) -> Option<super::ReasonPacket> {
        use super::ReasonPacket as R;
        Some(match self {
            Self::ConnAck => R::ConnAck,
            Self::PubAck => R::PubAck,
            Self::PubRec => R::PubRec,
            Self::PubRel => R::PubRel,
            Self::PubComp => R::PubComp,
            Self::SubAck => R::SubAck,
            Self::UnsubAck => R::UnsubAck,
            Self::Disconnect => R::Disconnect,
            Self::Auth => R::Auth,
            _ => return None,
        })
    }

    pub fn may_repeat(self, id: PropertyId) -> bool {
        id == PropertyId::UserProperty || (self == Self::PublishToClient && id == PropertyId::SubscriptionIdentifier)
    }
}

impl fmt::Display for PacketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
