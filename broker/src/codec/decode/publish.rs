//! PUBLISH and its four responses (PUBACK, PUBREC, PUBREL, PUBCOMP).

use bytes::Bytes;

use crate::codec::layout::Part;
use crate::codec::v5::{PacketKind, Properties, PropertyId, ReasonPacket};
use crate::codec::{Ack, DecodeError, PacketType, Protocol, Publish, QoS, QosPid, TopicName};

use super::connect::check_response_topic;
use super::reader::Reader;

pub(super) fn publish(r: &mut Reader<'_, '_>, flags: u8, protocol: Protocol) -> Result<Publish, DecodeError> {
    let dup = flags & 0x08 != 0;
    let qos = QoS::from_bits((flags >> 1) & 3, "PUBLISH")?;
    if dup && qos == QoS::AtMostOnce {
        return Err(DecodeError::DupOnQos0);
    }
    let topic = r.str_field("Topic name", "topic name")?;
    let qos_pid = match qos {
        QoS::AtMostOnce => QosPid::AtMostOnce,
        _ => QosPid::with(qos, r.pid(PacketType::Publish)?),
    };
    let (topic, properties) = if protocol.is_v5() {
        // Both directions' rules but one: a client's Subscription Identifier, which the broker
        // refuses itself [MQTT-3.3.4-6] (the inspector reads a broker's PUBLISH the same way).
        let properties = r.properties(PacketKind::PublishToClient)?;
        check_response_topic(&properties)?;
        let topic = if topic.is_empty() && properties.get(PropertyId::TopicAlias).is_some() {
            TopicName::alias_only()
        } else {
            TopicName::parse(topic)?
        };
        (topic, properties)
    } else {
        (TopicName::parse(topic)?, Properties::default())
    };
    r.part = Part::Payload;
    let start = r.pos;
    let payload = Bytes::copy_from_slice(r.take(r.remaining(), "payload")?);
    r.record("Payload", start, || format!("{:?}", String::from_utf8_lossy(&payload)));
    Ok(Publish { dup, qos_pid, retain: flags & 1 == 1, topic, payload, properties })
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP of `t`.
pub(super) fn ack(r: &mut Reader<'_, '_>, t: PacketType, protocol: Protocol) -> Result<Ack, DecodeError> {
    let pid = r.pid(t)?;
    if !protocol.is_v5() {
        return Ok(Ack::new(pid));
    }
    let (packet, kind) = match t {
        PacketType::PubAck => (ReasonPacket::PubAck, PacketKind::PubAck),
        PacketType::PubRec => (ReasonPacket::PubRec, PacketKind::PubRec),
        PacketType::PubRel => (ReasonPacket::PubRel, PacketKind::PubRel),
        _ => (ReasonPacket::PubComp, PacketKind::PubComp),
    };
    let (reason, properties) = r.tail(packet, kind, true)?;
    Ok(Ack { pid, reason, properties })
}
