//! MQTT 5.0 property values, and [`Properties`]: a validated block of them in wire order, so a
//! broker can forward a PUBLISH's properties unchanged and in order.

use std::num::{NonZeroU16, NonZeroU32};
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use super::reader::Reader;
use super::{PacketKind, PropertyError, PropertyId};
use crate::codec::{EncodeError, Field, MAX_REMAINING_LENGTH, Part, QoS, put_remaining_length};

/// Authentication Data: it proves who a client is, so `Debug` shows only its length and it never
/// reaches a log through `{:?}` (the packet inspector hides it too).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Bytes);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

/// One property with its value. Values the protocol forbids cannot be built where a type can
/// say so (Topic Alias 0, Receive Maximum 0); the rest are checked by [`Properties::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Property {
    /// `true`: the payload is UTF-8 encoded character data; `false`: unspecified bytes.
    PayloadFormatIndicator(bool),
    MessageExpiryInterval(u32),
    ContentType(String),
    ResponseTopic(String),
    CorrelationData(Bytes),
    /// At most 268,435,455, the largest variable byte integer.
    SubscriptionIdentifier(NonZeroU32),
    SessionExpiryInterval(u32),
    AssignedClientIdentifier(String),
    ServerKeepAlive(u16),
    AuthenticationMethod(String),
    AuthenticationData(Secret),
    RequestProblemInformation(bool),
    WillDelayInterval(u32),
    RequestResponseInformation(bool),
    ResponseInformation(String),
    ServerReference(String),
    ReasonString(String),
    ReceiveMaximum(NonZeroU16),
    TopicAliasMaximum(u16),
    TopicAlias(NonZeroU16),
    /// QoS 0 or 1: a server that supports QoS 2 leaves this property out.
    MaximumQos(QoS),
    RetainAvailable(bool),
    /// A name and a value; the only property that may repeat in every packet.
    UserProperty(String, String),
    MaximumPacketSize(NonZeroU32),
    WildcardSubscriptionAvailable(bool),
    SubscriptionIdentifiersAvailable(bool),
    SharedSubscriptionAvailable(bool),
}

/// A property value as the wire sees it (section 1.5), for encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Value<'a> {
    Byte(u8),
    TwoByte(u16),
    FourByte(u32),
    Variable(u32),
    Utf8(&'a str),
    Binary(&'a [u8]),
    Pair(&'a str, &'a str),
}

impl Property {
    pub const fn id(&self) -> PropertyId {
        use PropertyId as P;
        match self {
            Self::PayloadFormatIndicator(_) => P::PayloadFormatIndicator,
            Self::MessageExpiryInterval(_) => P::MessageExpiryInterval,
            Self::ContentType(_) => P::ContentType,
            Self::ResponseTopic(_) => P::ResponseTopic,
            Self::CorrelationData(_) => P::CorrelationData,
            Self::SubscriptionIdentifier(_) => P::SubscriptionIdentifier,
            Self::SessionExpiryInterval(_) => P::SessionExpiryInterval,
            Self::AssignedClientIdentifier(_) => P::AssignedClientIdentifier,
            Self::ServerKeepAlive(_) => P::ServerKeepAlive,
            Self::AuthenticationMethod(_) => P::AuthenticationMethod,
            Self::AuthenticationData(_) => P::AuthenticationData,
            Self::RequestProblemInformation(_) => P::RequestProblemInformation,
            Self::WillDelayInterval(_) => P::WillDelayInterval,
            Self::RequestResponseInformation(_) => P::RequestResponseInformation,
            Self::ResponseInformation(_) => P::ResponseInformation,
            Self::ServerReference(_) => P::ServerReference,
            Self::ReasonString(_) => P::ReasonString,
            Self::ReceiveMaximum(_) => P::ReceiveMaximum,
            Self::TopicAliasMaximum(_) => P::TopicAliasMaximum,
            Self::TopicAlias(_) => P::TopicAlias,
            Self::MaximumQos(_) => P::MaximumQos,
            Self::RetainAvailable(_) => P::RetainAvailable,
            Self::UserProperty(..) => P::UserProperty,
            Self::MaximumPacketSize(_) => P::MaximumPacketSize,
            Self::WildcardSubscriptionAvailable(_) => P::WildcardSubscriptionAvailable,
            Self::SubscriptionIdentifiersAvailable(_) => P::SubscriptionIdentifiersAvailable,
            Self::SharedSubscriptionAvailable(_) => P::SharedSubscriptionAvailable,
        }
    }

    pub(super) fn value(&self) -> Value<'_> {
        match self {
            Self::PayloadFormatIndicator(b)
            | Self::RequestProblemInformation(b)
            | Self::RequestResponseInformation(b)
            | Self::RetainAvailable(b)
            | Self::WildcardSubscriptionAvailable(b)
            | Self::SubscriptionIdentifiersAvailable(b)
            | Self::SharedSubscriptionAvailable(b) => Value::Byte(u8::from(*b)),
            Self::MaximumQos(q) => Value::Byte(*q as u8),
            Self::ServerKeepAlive(v) | Self::TopicAliasMaximum(v) => Value::TwoByte(*v),
            Self::ReceiveMaximum(v) | Self::TopicAlias(v) => Value::TwoByte(v.get()),
            Self::MessageExpiryInterval(v) | Self::SessionExpiryInterval(v) | Self::WillDelayInterval(v) => {
                Value::FourByte(*v)
            }
            Self::MaximumPacketSize(v) => Value::FourByte(v.get()),
            Self::SubscriptionIdentifier(v) => Value::Variable(v.get()),
            Self::ContentType(s)
            | Self::ResponseTopic(s)
            | Self::AssignedClientIdentifier(s)
            | Self::AuthenticationMethod(s)
            | Self::ResponseInformation(s)
            | Self::ServerReference(s)
            | Self::ReasonString(s) => Value::Utf8(s),
            Self::CorrelationData(b) | Self::AuthenticationData(Secret(b)) => Value::Binary(b),
            Self::UserProperty(name, value) => Value::Pair(name, value),
        }
    }

    /// Reads the value of property `id` in a block of `kind`, checking what the protocol
    /// forbids in it.
    fn read(r: &mut Reader<'_, '_>, id: PropertyId, kind: PacketKind) -> Result<Self, PropertyError> {
        use PropertyId as P;
        let what = id.name();
        let section = kind.section(id).unwrap_or("2.2.2.2");
        let flag = |value: u8| match value {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(PropertyError::NotZeroOrOne { id, section, value }),
        };
        let zero = |rule| PropertyError::Zero { id, rule };
        let string = |r: &mut Reader<'_, '_>| r.string(what).map(str::to_owned);
        Ok(match id {
            P::PayloadFormatIndicator => Self::PayloadFormatIndicator(flag(r.u8(what)?)?),
            P::MessageExpiryInterval => Self::MessageExpiryInterval(r.u32(what)?),
            P::ContentType => Self::ContentType(string(r)?),
            P::ResponseTopic => Self::ResponseTopic(string(r)?),
            P::CorrelationData => Self::CorrelationData(Bytes::copy_from_slice(r.binary(what, false)?)),
            P::SubscriptionIdentifier => {
                Self::SubscriptionIdentifier(NonZeroU32::new(r.variable_field(what)?).ok_or(zero(section))?)
            }
            P::SessionExpiryInterval => Self::SessionExpiryInterval(r.u32(what)?),
            P::AssignedClientIdentifier => Self::AssignedClientIdentifier(string(r)?),
            P::ServerKeepAlive => Self::ServerKeepAlive(r.u16(what)?),
            P::AuthenticationMethod => Self::AuthenticationMethod(string(r)?),
            P::AuthenticationData => Self::AuthenticationData(Secret(Bytes::copy_from_slice(r.binary(what, true)?))),
            P::RequestProblemInformation => Self::RequestProblemInformation(flag(r.u8(what)?)?),
            P::WillDelayInterval => Self::WillDelayInterval(r.u32(what)?),
            P::RequestResponseInformation => Self::RequestResponseInformation(flag(r.u8(what)?)?),
            P::ResponseInformation => Self::ResponseInformation(string(r)?),
            P::ServerReference => Self::ServerReference(string(r)?),
            P::ReasonString => Self::ReasonString(string(r)?),
            P::ReceiveMaximum => Self::ReceiveMaximum(NonZeroU16::new(r.u16(what)?).ok_or(zero(section))?),
            P::TopicAliasMaximum => Self::TopicAliasMaximum(r.u16(what)?),
            P::TopicAlias => Self::TopicAlias(NonZeroU16::new(r.u16(what)?).ok_or(zero("3.3.2-8"))?),
            P::MaximumQos => Self::MaximumQos(if flag(r.u8(what)?)? { QoS::AtLeastOnce } else { QoS::AtMostOnce }),
            P::RetainAvailable => Self::RetainAvailable(flag(r.u8(what)?)?),
            P::UserProperty => {
                let name = r.string("User Property name")?.to_owned();
                Self::UserProperty(name, r.string("User Property value")?.to_owned())
            }
            P::MaximumPacketSize => Self::MaximumPacketSize(NonZeroU32::new(r.u32(what)?).ok_or(zero(section))?),
            P::WildcardSubscriptionAvailable => Self::WildcardSubscriptionAvailable(flag(r.u8(what)?)?),
            P::SubscriptionIdentifiersAvailable => Self::SubscriptionIdentifiersAvailable(flag(r.u8(what)?)?),
            P::SharedSubscriptionAvailable => Self::SharedSubscriptionAvailable(flag(r.u8(what)?)?),
        })
    }

    /// The checks of [`Self::read`] that a built value can fail.
    fn check_value(&self, kind: PacketKind) -> Result<(), PropertyError> {
        let id = self.id();
        match self.value() {
            Value::Byte(value @ 2..) => {
                Err(PropertyError::NotZeroOrOne { id, section: kind.section(id).unwrap_or("2.2.2.2"), value })
            }
            Value::Variable(value @ 268_435_456..) => {
                Err(PropertyError::VariableIntegerTooLarge { what: id.name(), value })
            }
            Value::Utf8(s) => no_null(s, id.name()),
            Value::Pair(name, value) => no_null(name, "User Property name").and(no_null(value, "User Property value")),
            _ => Ok(()),
        }
    }
}

fn no_null(s: &str, what: &'static str) -> Result<(), PropertyError> {
    if s.contains('\0') { Err(PropertyError::NullCharacter { what }) } else { Ok(()) }
}

impl Value<'_> {
    #[cfg(test)]
    pub(super) const fn value_type(self) -> super::ValueType {
        use super::ValueType;
        match self {
            Self::Byte(_) => ValueType::Byte,
            Self::TwoByte(_) => ValueType::TwoByteInteger,
            Self::FourByte(_) => ValueType::FourByteInteger,
            Self::Variable(_) => ValueType::VariableByteInteger,
            Self::Utf8(_) => ValueType::Utf8String,
            Self::Binary(_) => ValueType::BinaryData,
            Self::Pair(..) => ValueType::Utf8StringPair,
        }
    }

    fn encoded_len(self, what: &'static str) -> Result<usize, EncodeError> {
        let prefixed = |len: usize| {
            if len > usize::from(u16::MAX) {
                return Err(EncodeError::StringTooLong { what, len });
            }
            Ok(2 + len)
        };
        Ok(match self {
            Self::Byte(_) => 1,
            Self::TwoByte(_) => 2,
            Self::FourByte(_) => 4,
            Self::Variable(v) => variable_len(v as usize),
            Self::Utf8(s) => prefixed(s.len())?,
            Self::Binary(b) => prefixed(b.len())?,
            Self::Pair(name, value) => prefixed(name.len())? + prefixed(value.len())?,
        })
    }

    // Lengths were checked by `encoded_len` before anything was written.
    fn put(self, buf: &mut BytesMut) {
        let prefixed = |buf: &mut BytesMut, b: &[u8]| {
            buf.put_u16(b.len() as u16);
            buf.put_slice(b);
        };
        match self {
            Self::Byte(v) => buf.put_u8(v),
            Self::TwoByte(v) => buf.put_u16(v),
            Self::FourByte(v) => buf.put_u32(v),
            Self::Variable(v) => put_remaining_length(buf, v as usize),
            Self::Utf8(s) => prefixed(buf, s.as_bytes()),
            Self::Binary(b) => prefixed(buf, b),
            Self::Pair(name, value) => {
                prefixed(buf, name.as_bytes());
                prefixed(buf, value.as_bytes());
            }
        }
    }
}

/// Bytes a variable byte integer takes (section 1.5.5).
const fn variable_len(v: usize) -> usize {
    match v {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// The identifiers seen so far in a block, one bit each (every identifier is below 64).
#[derive(Default)]
struct Seen(u64);

impl Seen {
    const fn has(&self, id: PropertyId) -> bool {
        self.0 & (1 << id as u8) != 0
    }

    /// Checks that `id` may come next in a block of `kind`, and notes it.
    fn admit(&mut self, id: PropertyId, kind: PacketKind) -> Result<(), PropertyError> {
        let Some(section) = kind.section(id) else {
            return Err(PropertyError::NotAllowed { id, packet: kind });
        };
        if kind == PacketKind::PublishToServer && id == PropertyId::SubscriptionIdentifier {
            return Err(PropertyError::SubscriptionIdFromClient);
        }
        if self.has(id) && !kind.may_repeat(id) {
            return Err(PropertyError::Duplicate { id, packet: kind, section });
        }
        self.0 |= 1 << id as u8;
        Ok(())
    }

    /// Rules about the block as a whole, once every property is in.
    fn finish(&self, kind: PacketKind) -> Result<(), PropertyError> {
        if kind == PacketKind::Connect
            && self.has(PropertyId::AuthenticationData)
            && !self.has(PropertyId::AuthenticationMethod)
        {
            return Err(PropertyError::AuthenticationDataWithoutMethod);
        }
        Ok(())
    }
}

/// The most properties one block may hold here. The protocol sets no number, but a property
/// takes about ten times the memory its smallest wire form does (an empty User Property is 5
/// bytes), so a packet of many would cost a broker far more than its size; 4096 user
/// properties is more than any application sends.
pub const MAX_PROPERTIES: usize = 4096;

/// The properties of one packet (or of a will), validated for that packet, in wire order.
///
/// Shared, not owned: a broker forwards one PUBLISH's properties to every subscriber, so a
/// clone is a reference count, and the empty block (every 3.1.1 message) is a null pointer.
/// A thin pointer (to a `Vec`, not a slice): 8 bytes in every PUBLISH, 3.1.1 ones too, where a
/// slice pointer took 16 and made the broker measurably slower on 3.1.1 traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties(Option<Arc<Vec<Property>>>);

impl Properties {
    /// Checks `properties` against the rules for a block of `kind`, as decoding would.
    pub fn new(kind: PacketKind, properties: Vec<Property>) -> Result<Self, PropertyError> {
        let mut seen = Seen::default();
        for p in &properties {
            seen.admit(p.id(), kind)?;
            p.check_value(kind)?;
        }
        seen.finish(kind)?;
        Ok(Self::from_vec(properties))
    }

    /// The block holding `properties`, unchecked: for values already validated for the
    /// packet they go to (a forwarded PUBLISH with a Subscription Identifier added).
    pub(crate) fn from_vec(properties: Vec<Property>) -> Self {
        if properties.is_empty() { Self(None) } else { Self(Some(Arc::new(properties))) }
    }

    /// Decodes the property block (Property Length, then the properties) that starts at offset
    /// `at` of `packet`, a whole packet, and answers the properties and the offset after them.
    pub fn decode(packet: &[u8], at: usize, kind: PacketKind) -> Result<(Self, usize), PropertyError> {
        Self::read(Reader::new(packet, at, part(kind), None), kind)
    }

    /// [`Self::decode`] that also records every field it reads, for the packet inspector: the
    /// property length, then per property its identifier, any length prefix, and its value.
    /// Fields read before an error stay recorded.
    pub fn inspect(
        packet: &[u8],
        at: usize,
        kind: PacketKind,
        fields: &mut Vec<Field>,
    ) -> Result<(Self, usize), PropertyError> {
        Self::read(Reader::new(packet, at, part(kind), Some(fields)), kind)
    }

    fn read(mut r: Reader<'_, '_>, kind: PacketKind) -> Result<(Self, usize), PropertyError> {
        let len = r.variable_field("Property length")?;
        r.limit(len as usize)?;
        let mut properties = Vec::new();
        let mut seen = Seen::default();
        while !r.at_end() {
            if properties.len() == MAX_PROPERTIES {
                return Err(PropertyError::TooMany { limit: MAX_PROPERTIES });
            }
            let start = r.pos();
            let raw = r.variable("property identifier")?;
            let id = PropertyId::from_u32(raw);
            r.record(
                start,
                || id.map_or_else(|| "Property identifier".to_owned(), |id| format!("{} identifier", id.name())),
                || id.map_or_else(|| format!("{raw:#04x} (not defined)"), |id| format!("{:#04x}", id as u8)),
            );
            let id = id.ok_or(PropertyError::UnknownIdentifier(raw))?;
            seen.admit(id, kind)?;
            properties.push(Property::read(&mut r, id, kind)?);
        }
        seen.finish(kind)?;
        Ok((Self::from_vec(properties), r.pos()))
    }

    /// The encoded size of the block, Property Length included.
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        let body = self.body_len()?;
        Ok(variable_len(body) + body)
    }

    /// Appends the block: Property Length, then each property in order.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let body = self.body_len()?;
        buf.reserve(variable_len(body) + body);
        put_remaining_length(buf, body);
        for p in self {
            // Every MQTT 5.0 identifier is below 128: a one-byte variable byte integer.
            buf.put_u8(p.id() as u8);
            p.value().put(buf);
        }
        Ok(())
    }

    fn body_len(&self) -> Result<usize, EncodeError> {
        let mut len = 0;
        for p in self {
            len += 1 + p.value().encoded_len(p.id().name())?;
        }
        if len > MAX_REMAINING_LENGTH {
            return Err(EncodeError::PacketTooLarge(len));
        }
        Ok(len)
    }

    pub fn as_slice(&self) -> &[Property] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Property> {
        self.as_slice().iter()
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub const fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The first property with identifier `id`.
    pub fn get(&self, id: PropertyId) -> Option<&Property> {
        self.iter().find(|p| p.id() == id)
    }

    /// The user properties, in order, repeats included.
    pub fn user_properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.iter().filter_map(|p| match p {
            Property::UserProperty(name, value) => Some((name.as_str(), value.as_str())),
            _ => None,
        })
    }

    pub fn into_vec(self) -> Vec<Property> {
        self.as_slice().to_vec()
    }
}

impl<'a> IntoIterator for &'a Properties {
    type Item = &'a Property;
    type IntoIter = std::slice::Iter<'a, Property>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Will properties sit in CONNECT's payload; every other block in a variable header.
fn part(kind: PacketKind) -> Part {
    if kind == PacketKind::Will { Part::Payload } else { Part::VariableHeader }
}
