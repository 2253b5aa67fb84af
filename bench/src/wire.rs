//! The few packets a load generator sends and reads at full speed, framed by hand so that the
//! generator costs less than the broker it measures (no allocation per message). CONNECT and
//! SUBSCRIBE, sent once, go through the broker's own codec.
//!
//! MQTT 5 changes two things here: a PUBLISH carries a property block after its packet id (a
//! Variable Byte Integer length, then the properties), and PUBACK, PUBREC, PUBREL and PUBCOMP
//! may carry a reason code after the packet id (the 2-byte short form means 0x00 Success,
//! [MQTT-3.4.2-1]). Only the PUBLISH needs to know the version: a 3.1.1 ack is never longer
//! than 2 bytes, so reading an optional third byte costs 3.1.1 nothing.

use bytes::{Buf, BufMut, BytesMut};
use mqtt_lab_broker::codec::{MAX_REMAINING_LENGTH, decode_header, put_remaining_length};

/// Packet type nibbles.
pub const CONNACK: u8 = 2;
pub const PUBLISH: u8 = 3;
pub const PUBACK: u8 = 4;
pub const PUBREC: u8 = 5;
pub const PUBREL: u8 = 6;
pub const PUBCOMP: u8 = 7;
pub const SUBACK: u8 = 9;
pub const UNSUBACK: u8 = 11;
pub const PINGRESP: u8 = 13;

/// Appends a PUBLISH; `pid` is ignored for QoS 0. With `v5`, an empty property block (one 0
/// byte) goes between the packet id and the payload [MQTT-3.3.2.3].
pub fn put_publish(buf: &mut BytesMut, v5: bool, topic: &str, qos: u8, retain: bool, pid: u16, payload: &[u8]) {
    let id_len = if qos > 0 { 2 } else { 0 };
    buf.put_u8(0x30 | (qos << 1) | u8::from(retain));
    put_remaining_length(buf, 2 + topic.len() + id_len + usize::from(v5) + payload.len());
    buf.put_u16(topic.len() as u16);
    buf.put_slice(topic.as_bytes());
    if qos > 0 {
        buf.put_u16(pid);
    }
    if v5 {
        buf.put_u8(0);
    }
    buf.put_slice(payload);
}

/// Appends PUBACK, PUBREC, PUBREL or PUBCOMP, in the 2-byte form: 3.1.1's only one, and
/// MQTT 5's for reason 0x00 Success with no properties.
pub fn put_ack(buf: &mut BytesMut, kind: u8, pid: u16) {
    // PUBREL has the flags 0b0010 [MQTT-3.6.1-1].
    let flags = if kind == PUBREL { 0x02 } else { 0 };
    buf.put_u8((kind << 4) | flags);
    buf.put_u8(2);
    buf.put_u16(pid);
}

pub fn put_pingreq(buf: &mut BytesMut) {
    buf.put_slice(&[0xC0, 0]);
}

/// One packet read from the front of a buffer, borrowing its bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Publish {
        qos: u8,
        retain: bool,
        pid: u16,
        topic: &'a [u8],
        payload: &'a [u8],
    },
    /// PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: the type, its packet id and (MQTT 5) its
    /// reason code, 0x00 when absent; 0x80 and above is a failure [MQTT-2.4].
    Ack {
        kind: u8,
        pid: u16,
        reason: u8,
    },
    /// Anything else: its type and body.
    Other {
        kind: u8,
        body: &'a [u8],
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("malformed packet from the broker: {0}")]
    Malformed(String),
}

/// Calls `each` for every whole packet at the front of `buf` and removes them; a partial
/// packet stays for the next read. `v5`: the connection speaks MQTT 5.
pub fn drain_frames(buf: &mut BytesMut, v5: bool, mut each: impl FnMut(Frame<'_>)) -> Result<(), FrameError> {
    let mut at = 0;
    let result = loop {
        let rest = &buf[at..];
        let header = match decode_header(rest) {
            Ok(Some(h)) => h,
            Ok(None) => break Ok(()),
            Err(e) => break Err(FrameError::Malformed(e.to_string())),
        };
        let total = header.header_len + header.remaining_length;
        if header.remaining_length > MAX_REMAINING_LENGTH || rest.len() < total {
            break Ok(());
        }
        let body = &rest[header.header_len..total];
        match frame(rest[0], body, v5) {
            Ok(f) => each(f),
            Err(e) => break Err(e),
        }
        at += total;
    };
    buf.advance(at);
    result
}

fn frame(first: u8, body: &[u8], v5: bool) -> Result<Frame<'_>, FrameError> {
    let kind = first >> 4;
    let short = || FrameError::Malformed(format!("packet type {kind} too short ({} bytes)", body.len()));
    match kind {
        PUBLISH => {
            let qos = (first >> 1) & 3;
            let topic_len =
                usize::from(u16::from_be_bytes([*body.first().ok_or_else(short)?, *body.get(1).ok_or_else(short)?]));
            let topic = body.get(2..2 + topic_len).ok_or_else(short)?;
            let mut at = 2 + topic_len;
            let mut pid = 0;
            if qos > 0 {
                let id = body.get(at..at + 2).ok_or_else(short)?;
                pid = u16::from_be_bytes([id[0], id[1]]);
                at += 2;
            }
            if v5 {
                at = skip_properties(body, at).ok_or_else(short)?;
            }
            Ok(Frame::Publish { qos, retain: first & 1 == 1, pid, topic, payload: &body[at..] })
        }
        PUBACK | PUBREC | PUBREL | PUBCOMP => {
            let id = body.get(0..2).ok_or_else(short)?;
            let reason = body.get(2).copied().unwrap_or(0);
            Ok(Frame::Ack { kind, pid: u16::from_be_bytes([id[0], id[1]]), reason })
        }
        UNSUBACK => {
            // MQTT 5: properties, then a reason code per filter; the bench never reads them.
            let id = body.get(0..2).ok_or_else(short)?;
            Ok(Frame::Ack { kind, pid: u16::from_be_bytes([id[0], id[1]]), reason: 0 })
        }
        _ => Ok(Frame::Other { kind, body }),
    }
}

/// The index just past the MQTT 5 property block that starts at `at`: a Variable Byte Integer
/// length (at most 4 bytes [MQTT-1.5.5-1]) then that many bytes; `None` if the body ends first.
pub fn skip_properties(body: &[u8], at: usize) -> Option<usize> {
    let mut len = 0usize;
    for i in 0..4 {
        let byte = *body.get(at + i)?;
        len |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let end = at + i + 1 + len;
            return (end <= body.len()).then_some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use mqtt_lab_broker::codec::v5::{PacketKind, Properties, Property, ReasonCode};
    use mqtt_lab_broker::codec::{Ack, Packet, PacketId, Protocol, Publish, QosPid, TopicName};

    use super::*;

    fn publish(qos_pid: QosPid, payload: &[u8], properties: Properties) -> Packet {
        Packet::Publish(Publish {
            dup: false,
            qos_pid,
            retain: true,
            topic: TopicName::new("bench/1").unwrap(),
            payload: Bytes::from(payload.to_vec()),
            properties,
        })
    }

    #[test]
    fn hand_framed_publish_matches_the_codec_in_both_versions() {
        for (protocol, v5) in [(Protocol::V311, false), (Protocol::V5, true)] {
            for (qos_pid, qos, pid) in [
                (QosPid::AtMostOnce, 0, 0),
                (QosPid::AtLeastOnce(PacketId::new(7).unwrap()), 1, 7),
                (QosPid::ExactlyOnce(PacketId::new(300).unwrap()), 2, 300),
            ] {
                let payload = vec![b'p'; 200];
                let mut ours = BytesMut::new();
                put_publish(&mut ours, v5, "bench/1", qos, true, pid, &payload);
                let codec = publish(qos_pid, &payload, Properties::default()).to_bytes(protocol).unwrap();
                assert_eq!(ours, codec, "{protocol:?} QoS {qos}");
                let mut frames = Vec::new();
                drain_frames(&mut ours, v5, |f| frames.push(format!("{f:?}"))).unwrap();
                assert_eq!(frames.len(), 1);
                assert!(frames[0].contains(&format!("qos: {qos}, retain: true, pid: {pid}")), "{}", frames[0]);
                assert!(ours.is_empty());
            }
        }
    }

    #[test]
    fn a_v5_publish_with_properties_yields_the_payload_after_them() {
        let properties = Properties::new(
            PacketKind::PublishToClient,
            vec![Property::MessageExpiryInterval(60), Property::UserProperty("k".into(), "v".repeat(200))],
        )
        .unwrap();
        let pid = PacketId::new(5).unwrap();
        let mut buf = BytesMut::from(
            &publish(QosPid::AtLeastOnce(pid), b"stamp", properties).to_bytes(Protocol::V5).unwrap()[..],
        );
        let mut payloads = Vec::new();
        drain_frames(&mut buf, true, |f| {
            if let Frame::Publish { payload, pid, .. } = f {
                payloads.push((payload.to_vec(), pid));
            }
        })
        .unwrap();
        assert_eq!(payloads, [(b"stamp".to_vec(), 5)]);
        // A property length running past the packet is malformed, not a short payload.
        let mut bad = BytesMut::from(&[0x30, 5, 0, 1, b't', 9, b'x'][..]);
        assert!(drain_frames(&mut bad, true, |_| {}).is_err());
        assert_eq!(skip_properties(&[0x80, 0x80, 0x80, 0x80, 0], 0), None, "five length bytes");
    }

    #[test]
    fn acks_frame_with_or_without_a_reason_and_partial_packets_wait() {
        let mut buf = BytesMut::new();
        put_ack(&mut buf, PUBREL, 9);
        assert_eq!(&buf[..], &[0x62, 2, 0, 9]);
        let refused = Ack {
            pid: PacketId::new(12).unwrap(),
            reason: ReasonCode::QuotaExceeded,
            properties: Properties::default(),
        };
        buf.extend_from_slice(&Packet::PubAck(refused).to_bytes(Protocol::V5).unwrap());
        put_ack(&mut buf, PUBACK, 10);
        buf.truncate(buf.len() - 1);
        let mut seen = Vec::new();
        drain_frames(&mut buf, true, |f| seen.push(format!("{f:?}"))).unwrap();
        assert_eq!(seen, ["Ack { kind: 6, pid: 9, reason: 0 }", "Ack { kind: 4, pid: 12, reason: 151 }"]);
        assert_eq!(buf.len(), 3);
    }
}
