//! MQTT 5.0 in the codec: properties and reason codes, with no I/O and no async runtime. The
//! packets that carry them are the codec's one [`Packet`](super::Packet) type, decoded and
//! encoded for the connection's protocol version.
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
//! - `error`: [`PropertyError`], whose messages name the rule or section broken and which says
//!   the reason code a broker answers (0x81 Malformed Packet or 0x82 Protocol Error), and
//!   and [`ReasonCodeError`].

mod error;
mod identifier;
mod properties;
mod reader;
mod reason;

pub use error::{PropertyError, ReasonCodeError};
pub use identifier::{PacketKind, PropertyId, ValueType};
pub use properties::{MAX_PROPERTIES, Properties, Property, Secret};
pub use reason::{ReasonCode, ReasonPacket};

#[cfg(test)]
mod tests;
