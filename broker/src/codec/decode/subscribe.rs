//! SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK.

use crate::codec::layout::Part;
use crate::codec::v5::{PacketKind, Properties, ReasonCode, ReasonPacket};
use crate::codec::{
    DecodeError, PacketType, Protocol, QoS, RetainHandling, SubAck, SubAckCode, SubOptions, Subscribe, TopicFilter,
    UnsubAck, Unsubscribe,
};

use super::reader::Reader;

fn properties(r: &mut Reader<'_, '_>, protocol: Protocol, kind: PacketKind) -> Result<Properties, DecodeError> {
    if protocol.is_v5() { r.properties(kind) } else { Ok(Properties::default()) }
}

pub(super) fn subscribe(r: &mut Reader<'_, '_>, protocol: Protocol) -> Result<Subscribe, DecodeError> {
    let pid = r.pid(PacketType::Subscribe)?;
    let properties = properties(r, protocol, PacketKind::Subscribe)?;
    r.part = Part::Payload;
    let mut filters = Vec::new();
    while r.remaining() > 0 {
        let n = filters.len() + 1;
        let filter = TopicFilter::new(r.string(&format!("Topic filter {n}"), "SUBSCRIBE topic filter")?)?;
        let start = r.pos;
        let byte = r.take(1, "subscription options")?[0];
        let options = if protocol.is_v5() { options_v5(byte, &filter)? } else { options_v3(byte)? };
        // 3.1.1 calls the byte Requested QoS (3.8.3), 5.0 Subscription Options (3.8.3.1).
        let name = if protocol.is_v5() { "Subscription options" } else { "Requested QoS" };
        r.record(&format!("{name} {n}"), start, || describe(byte, protocol));
        filters.push((filter, options));
    }
    if filters.is_empty() {
        return Err(DecodeError::SubscribeWithoutFilters);
    }
    Ok(Subscribe { pid, properties, filters })
}

fn options_v3(byte: u8) -> Result<SubOptions, DecodeError> {
    if byte & 0xFC != 0 || byte == 3 {
        return Err(DecodeError::InvalidRequestedQos(byte));
    }
    Ok(SubOptions::from(QoS::from_u8(byte).unwrap_or_default()))
}

fn options_v5(byte: u8, filter: &TopicFilter) -> Result<SubOptions, DecodeError> {
    if byte & 0xC0 != 0 {
        return Err(DecodeError::SubscriptionOptionsReserved(byte));
    }
    let qos = QoS::from_u8(byte & 3).ok_or(DecodeError::MaximumQos3)?;
    let retain_handling = match (byte >> 4) & 3 {
        0 => RetainHandling::OnSubscribe,
        1 => RetainHandling::OnNewSubscription,
        2 => RetainHandling::Never,
        _ => return Err(DecodeError::RetainHandling3),
    };
    let no_local = byte & 0x04 != 0;
    if no_local && filter.share().is_some() {
        return Err(DecodeError::NoLocalOnSharedSubscription(filter.as_str().to_owned()));
    }
    Ok(SubOptions { qos, no_local, retain_as_published: byte & 0x08 != 0, retain_handling })
}

fn describe(byte: u8, protocol: Protocol) -> String {
    if protocol.is_v5() {
        format!(
            "{byte:#04x} (QoS {}, no local {}, retain as published {}, retain handling {})",
            byte & 3,
            (byte >> 2) & 1,
            (byte >> 3) & 1,
            (byte >> 4) & 3
        )
    } else {
        byte.to_string()
    }
}

pub(super) fn suback(r: &mut Reader<'_, '_>, protocol: Protocol) -> Result<SubAck, DecodeError> {
    let pid = r.pid(PacketType::SubAck)?;
    let properties = properties(r, protocol, PacketKind::SubAck)?;
    r.part = Part::Payload;
    let mut codes = Vec::new();
    while r.remaining() > 0 {
        let name = format!("Return code {}", codes.len() + 1);
        let code = if protocol.is_v5() {
            match r.reason(&name, ReasonPacket::SubAck)? {
                ReasonCode::Success => SubAckCode::Granted(QoS::AtMostOnce),
                ReasonCode::GrantedQos1 => SubAckCode::Granted(QoS::AtLeastOnce),
                ReasonCode::GrantedQos2 => SubAckCode::Granted(QoS::ExactlyOnce),
                failure => SubAckCode::Failure(failure),
            }
        } else {
            let start = r.pos;
            let byte = r.take(1, "SUBACK return code")?[0];
            let code = match byte {
                0x80 => SubAckCode::FAILURE,
                b => SubAckCode::Granted(QoS::from_u8(b).ok_or(DecodeError::InvalidSubAckCode(b))?),
            };
            r.record(&name, start, || match code {
                SubAckCode::Failure(_) => "0x80 (failure)".into(),
                SubAckCode::Granted(q) => format!("{q} (granted QoS {q})"),
            });
            code
        };
        codes.push(code);
    }
    Ok(SubAck { pid, properties, codes })
}

pub(super) fn unsubscribe(r: &mut Reader<'_, '_>, protocol: Protocol) -> Result<Unsubscribe, DecodeError> {
    let pid = r.pid(PacketType::Unsubscribe)?;
    let properties = properties(r, protocol, PacketKind::Unsubscribe)?;
    r.part = Part::Payload;
    let mut filters = Vec::new();
    while r.remaining() > 0 {
        let name = format!("Topic filter {}", filters.len() + 1);
        filters.push(TopicFilter::new(r.string(&name, "UNSUBSCRIBE topic filter")?)?);
    }
    if filters.is_empty() {
        return Err(DecodeError::UnsubscribeWithoutFilters);
    }
    Ok(Unsubscribe { pid, properties, filters })
}

pub(super) fn unsuback(r: &mut Reader<'_, '_>, protocol: Protocol) -> Result<UnsubAck, DecodeError> {
    let pid = r.pid(PacketType::UnsubAck)?;
    if !protocol.is_v5() {
        return Ok(UnsubAck::new(pid));
    }
    let properties = r.properties(PacketKind::UnsubAck)?;
    r.part = Part::Payload;
    let mut reasons = Vec::new();
    while r.remaining() > 0 {
        let name = format!("Reason code {}", reasons.len() + 1);
        reasons.push(r.reason(&name, ReasonPacket::UnsubAck)?);
    }
    Ok(UnsubAck { pid, properties, reasons })
}
