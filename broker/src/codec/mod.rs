//! The MQTT codec (3.1, 3.1.1 and 5.0): packets to bytes and back, with no I/O and no async
//! runtime. One [`Packet`] type serves every version: MQTT 5.0's properties and reason codes
//! are fields that 3.1.1 leaves empty, and decoding and encoding take the connection's
//! [`Protocol`].
//!
//! - [`decode`] takes bytes from the front of a buffer that may hold part of a packet and
//!   answers [`Decoded::Incomplete`] when it needs more: a value, not an error.
//! - [`Packet::encode`] appends a packet's bytes to a buffer.
//! - [`inspect`] decodes one packet and lists every field with its byte range, for the app's
//!   packet inspector.
//! - [`v5`]: MQTT 5.0 properties (validated per packet) and reason codes.
//!
//! Decoding is strict: malformed input is a [`DecodeError`] whose message names the rule of the
//! specification it breaks, e.g. `[MQTT-3.3.2-2] PUBLISH topic "a/+" contains a wildcard`.

mod decode;
mod encode;
mod error;
mod layout;
mod packet;
mod topic;
mod types;
pub mod v5;

pub use decode::{Decoded, FixedHeader, Inspection, MAX_REMAINING_LENGTH, decode, decode_header, inspect};
pub use encode::put_remaining_length;
pub use error::{DecodeError, EncodeError, TopicError};
pub use layout::{Field, Part};
pub use packet::{
    Ack, Auth, ConnAck, Connect, ConnectReturnCode, Disconnect, LastWill, Packet, Publish, RetainHandling, SubAck,
    SubAckCode, SubOptions, Subscribe, UnsubAck, Unsubscribe,
};
pub use topic::{SHARE_PREFIX, TopicFilter, TopicName, matches};
pub use types::{PacketId, PacketType, Protocol, QoS, QosPid};

#[cfg(test)]
mod tests;
