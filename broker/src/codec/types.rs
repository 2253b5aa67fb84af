//! Small validated values of the protocol: QoS, packet identifiers and protocol versions.

use std::fmt;
use std::num::NonZeroU16;

use super::DecodeError;

/// Quality of service level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum QoS {
    #[default]
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS of a two-bit field; `what` names the field for the error.
    pub fn from_bits(bits: u8, what: &'static str) -> Result<Self, DecodeError> {
        match bits {
            0 => Ok(Self::AtMostOnce),
            1 => Ok(Self::AtLeastOnce),
            2 => Ok(Self::ExactlyOnce),
            _ => Err(DecodeError::InvalidQos { what }),
        }
    }

    pub fn from_u8(value: u8) -> Option<Self> {
        Self::from_bits(value, "").ok()
    }
}

impl fmt::Display for QoS {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", *self as u8)
    }
}

/// A packet identifier: never 0 [MQTT-2.3.1-1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PacketId(NonZeroU16);

impl PacketId {
    pub const fn new(value: u16) -> Option<Self> {
        match NonZeroU16::new(value) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    pub const fn get(self) -> u16 {
        self.0.get()
    }

    /// The identifier after this one: 65535 wraps to 1, never to 0.
    #[must_use]
    pub const fn next(self) -> Self {
        match NonZeroU16::new(self.0.get().wrapping_add(1)) {
            Some(v) => Self(v),
            None => Self(NonZeroU16::MIN),
        }
    }
}

impl fmt::Display for PacketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// QoS of a PUBLISH together with the packet identifier that QoS 1 and 2 require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QosPid {
    AtMostOnce,
    AtLeastOnce(PacketId),
    ExactlyOnce(PacketId),
}

impl QosPid {
    pub const fn qos(self) -> QoS {
        match self {
            Self::AtMostOnce => QoS::AtMostOnce,
            Self::AtLeastOnce(_) => QoS::AtLeastOnce,
            Self::ExactlyOnce(_) => QoS::ExactlyOnce,
        }
    }

    pub const fn pid(self) -> Option<PacketId> {
        match self {
            Self::AtMostOnce => None,
            Self::AtLeastOnce(p) | Self::ExactlyOnce(p) => Some(p),
        }
    }

    /// Combines a QoS with a packet id; QoS 0 ignores the id.
    pub const fn with(qos: QoS, pid: PacketId) -> Self {
        match qos {
            QoS::AtMostOnce => Self::AtMostOnce,
            QoS::AtLeastOnce => Self::AtLeastOnce(pid),
            QoS::ExactlyOnce => Self::ExactlyOnce(pid),
        }
    }
}

/// The protocol version a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// MQTT 3.1: protocol name "MQIsdp", level 3.
    V31,
    /// MQTT 3.1.1: protocol name "MQTT", level 4.
    V311,
    /// MQTT 5.0: protocol name "MQTT", level 5; packets carry properties and reason codes.
    V5,
}

impl Protocol {
    pub const fn name(self) -> &'static str {
        match self {
            Self::V31 => "MQIsdp",
            Self::V311 | Self::V5 => "MQTT",
        }
    }

    pub const fn level(self) -> u8 {
        match self {
            Self::V31 => 3,
            Self::V311 => 4,
            Self::V5 => 5,
        }
    }

    /// MQTT 5.0: properties, reason codes, AUTH.
    pub const fn is_v5(self) -> bool {
        matches!(self, Self::V5)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V31 => "MQTT 3.1",
            Self::V311 => "MQTT 3.1.1",
            Self::V5 => "MQTT 5.0",
        })
    }
}

/// The control packet types, numbered as in the fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
    /// MQTT 5.0 only: authentication exchange (section 3.15).
    Auth = 15,
}

impl PacketType {
    pub fn from_nibble(nibble: u8) -> Result<Self, DecodeError> {
        use PacketType as T;
        Ok(match nibble {
            1 => T::Connect,
            2 => T::ConnAck,
            3 => T::Publish,
            4 => T::PubAck,
            5 => T::PubRec,
            6 => T::PubRel,
            7 => T::PubComp,
            8 => T::Subscribe,
            9 => T::SubAck,
            10 => T::Unsubscribe,
            11 => T::UnsubAck,
            12 => T::PingReq,
            13 => T::PingResp,
            14 => T::Disconnect,
            15 => T::Auth,
            _ => return Err(DecodeError::ReservedPacketType0),
        })
    }

    /// The fixed-header flags every packet but PUBLISH must carry [MQTT-2.2.2-1].
    pub const fn required_flags(self) -> Option<u8> {
        match self {
            Self::Publish => None,
            Self::PubRel | Self::Subscribe | Self::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::ConnAck => "CONNACK",
            Self::Publish => "PUBLISH",
            Self::PubAck => "PUBACK",
            Self::PubRec => "PUBREC",
            Self::PubRel => "PUBREL",
            Self::PubComp => "PUBCOMP",
            Self::Subscribe => "SUBSCRIBE",
            Self::SubAck => "SUBACK",
            Self::Unsubscribe => "UNSUBSCRIBE",
            Self::UnsubAck => "UNSUBACK",
            Self::PingReq => "PINGREQ",
            Self::PingResp => "PINGRESP",
            Self::Disconnect => "DISCONNECT",
            Self::Auth => "AUTH",
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_id_wraps_from_65535_to_1_never_0() {
        assert_eq!(PacketId::new(65535).unwrap().next().get(), 1);
        assert_eq!(PacketId::new(1).unwrap().next().get(), 2);
        assert!(PacketId::new(0).is_none());
    }

    #[test]
    fn qos_3_is_rejected_with_the_spec_rule() {
        let err = QoS::from_bits(3, "PUBLISH").unwrap_err();
        assert!(err.to_string().starts_with("[MQTT-3.3.1-4]"), "{err}");
    }
}
