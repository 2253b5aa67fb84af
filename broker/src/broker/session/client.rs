//! What an MQTT 5.0 client asked for in CONNECT that bounds what the broker sends it: Receive
//! Maximum (its QoS 1/2 window, 3.1.2.11.3) and Maximum Packet Size (3.1.2.11.4).

use super::{Message, Session};
use crate::codec::v5::{Properties, Property};
use crate::codec::{Protocol, QoS};

/// The client's own limits; MQTT 3.1.1 clients have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ClientLimits {
    /// 65535 unless the client said less.
    pub(super) receive_maximum: u16,
    /// 0: no limit but the protocol's.
    pub(super) max_packet_size: u32,
    /// Topic aliases the broker may assign toward the client; 0: none.
    pub(super) topic_alias_maximum: u16,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self { receive_maximum: u16::MAX, max_packet_size: 0, topic_alias_maximum: 0 }
    }
}

impl Session {
    /// A connection attaches: its protocol (how the outbox is encoded) and its limits.
    pub fn set_client(&mut self, protocol: Protocol, connect: &Properties) {
        self.protocol = protocol;
        let mut limits = ClientLimits::default();
        for p in connect {
            match p {
                Property::ReceiveMaximum(max) => limits.receive_maximum = max.get(),
                Property::MaximumPacketSize(max) => limits.max_packet_size = max.get(),
                Property::TopicAliasMaximum(max) => limits.topic_alias_maximum = *max,
                _ => {}
            }
        }
        self.client = limits;
    }

    /// The largest packet the client takes, if it said (MQTT 5.0).
    pub fn client_max_packet_size(&self) -> Option<usize> {
        (self.client.max_packet_size != 0).then_some(self.client.max_packet_size as usize)
    }

    /// QoS 1/2 messages that may be in flight at once: the broker's `max_inflight_messages`
    /// (0: no limit) and the client's Receive Maximum [MQTT-3.3.4-9], whichever is lower.
    pub(super) fn inflight_limit(&self) -> usize {
        let client = usize::from(self.client.receive_maximum);
        match self.limits.max_inflight {
            0 => client,
            broker => broker.min(client),
        }
    }

    /// A PUBLISH of `message` would be larger than the client's Maximum Packet Size: the
    /// broker discards it as if sent [MQTT-3.1.2-25].
    pub(super) fn too_large_for_client(&self, message: &Message, qos: QoS) -> bool {
        if self.client.max_packet_size == 0 {
            return false;
        }
        // A Topic Alias the broker may add (alias.rs) takes 3 bytes, and the property length
        // may grow by one.
        let alias = if self.client.topic_alias_maximum > 0 { 4 } else { 0 };
        let properties = message.properties.encoded_len().unwrap_or(usize::MAX).saturating_add(alias);
        let remaining = 2
            + message.topic.as_str().len()
            + if qos == QoS::AtMostOnce { 0 } else { 2 }
            + properties
            + message.payload.len();
        let header = 1 + match remaining {
            0..=127 => 1,
            128..=16_383 => 2,
            16_384..=2_097_151 => 3,
            _ => 4,
        };
        header + remaining > self.client.max_packet_size as usize
    }
}
