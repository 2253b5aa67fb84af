//! MQTT 5.0 in the codec: properties and reason codes, with no I/O and no async
//! runtime, and the MQTT 5 forms of the packets that carry them (CONNECT, CONNACK, the QoS
//! responses, DISCONNECT, AUTH).
//!
//! # Layout
//!
//! - `identifier`: the 27 property identifiers of section 2.2.2.2, the type of each value,
//!   and for each [`PacketKind`] the properties it may carry with the section defining each.
//! - `properties`: [`Property`] values and [`Properties`], a validated block in wire order,
//!   decoded from the bytes of a packet (optionally recording a [`Field`](super::Field) per
//!   identifier, length and value for the packet inspector) and encoded back, exact length first.
//! - `reader`: the cursor the decoder reads with (variable byte integers, strings, limits).
//! - `reason`: the reason codes of section 2.4 and which packet may carry which.
//! - [`packet`]: the MQTT 5.0 forms of CONNECT, CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP,
//!   DISCONNECT and AUTH, each decoded from its body and encoded whole with exact length.
//! - `error`: [`PropertyError`], whose messages name the rule or section broken and which says
//!   the reason code a broker answers (0x81 Malformed Packet or 0x82 Protocol Error), and
//!   [`ReasonCodeError`], and [`PacketError`] for packet-level rules.

mod error;
mod identifier;
pub mod packet;
mod properties;
mod reader;
mod reason;

pub use error::{PacketError, PropertyError, ReasonCodeError};
pub use identifier::{PacketKind, PropertyId, ValueType};
pub use properties::{Properties, Property, Secret};
pub use reason::{ReasonCode, ReasonPacket};

#[cfg(test)]
mod tests;
