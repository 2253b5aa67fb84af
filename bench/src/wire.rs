//! The few packets a load generator sends and reads at full speed, framed by hand so that the
//! generator costs less than the broker it measures (no allocation per message). CONNECT and
//! SUBSCRIBE, sent once, go through the broker's own codec.

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
pub const PINGRESP: u8 = 13;

/// Appends a PUBLISH; `pid` is ignored for QoS 0.
pub fn put_publish(buf: &mut BytesMut, topic: &str, qos: u8, retain: bool, pid: u16, payload: &[u8]) {
    let id_len = if qos > 0 { 2 } else { 0 };
    buf.put_u8(0x30 | (qos << 1) | u8::from(retain));
    put_remaining_length(buf, 2 + topic.len() + id_len + payload.len());
    buf.put_u16(topic.len() as u16);
    buf.put_slice(topic.as_bytes());
    if qos > 0 {
        buf.put_u16(pid);
    }
    buf.put_slice(payload);
}

/// Appends PUBACK, PUBREC, PUBREL or PUBCOMP.
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
    /// PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: the type and its packet id.
    Ack {
        kind: u8,
        pid: u16,
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
/// packet stays for the next read.
pub fn drain_frames(buf: &mut BytesMut, mut each: impl FnMut(Frame<'_>)) -> Result<(), FrameError> {
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
        match frame(rest[0], body) {
            Ok(f) => each(f),
            Err(e) => break Err(e),
        }
        at += total;
    };
    buf.advance(at);
    result
}

fn frame(first: u8, body: &[u8]) -> Result<Frame<'_>, FrameError> {
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
            Ok(Frame::Publish { qos, retain: first & 1 == 1, pid, topic, payload: &body[at..] })
        }
        PUBACK | PUBREC | PUBREL | PUBCOMP | 11 => {
            let id = body.get(0..2).ok_or_else(short)?;
            Ok(Frame::Ack { kind, pid: u16::from_be_bytes([id[0], id[1]]) })
        }
        _ => Ok(Frame::Other { kind, body }),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use mqtt_lab_broker::codec::{Packet, PacketId, Protocol, Publish, QosPid, TopicName};

    use super::*;

    #[test]
    fn hand_framed_publish_matches_the_codec() {
        for (qos_pid, qos, pid) in [
            (QosPid::AtMostOnce, 0, 0),
            (QosPid::AtLeastOnce(PacketId::new(7).unwrap()), 1, 7),
            (QosPid::ExactlyOnce(PacketId::new(300).unwrap()), 2, 300),
        ] {
            let payload = vec![b'p'; 200];
            let mut ours = BytesMut::new();
            put_publish(&mut ours, "bench/1", qos, true, pid, &payload);
            let codec = Packet::Publish(Publish {
                dup: false,
                qos_pid,
                retain: true,
                topic: TopicName::new("bench/1").unwrap(),
                payload: Bytes::from(payload.clone()),
                properties: mqtt_lab_broker::codec::v5::Properties::default(),
            })
            .to_bytes(Protocol::V311)
            .unwrap();
            assert_eq!(ours, codec);
            let mut frames = Vec::new();
            drain_frames(&mut ours, |f| frames.push(format!("{f:?}"))).unwrap();
            assert_eq!(frames.len(), 1);
            assert!(frames[0].contains(&format!("qos: {qos}, retain: true, pid: {pid}")), "{}", frames[0]);
            assert!(ours.is_empty());
        }
    }

    #[test]
    fn acks_frame_and_partial_packets_wait() {
        let mut buf = BytesMut::new();
        put_ack(&mut buf, PUBREL, 9);
        assert_eq!(&buf[..], &[0x62, 2, 0, 9]);
        put_ack(&mut buf, PUBACK, 10);
        buf.truncate(buf.len() - 1);
        let mut seen = Vec::new();
        drain_frames(&mut buf, |f| seen.push(format!("{f:?}"))).unwrap();
        assert_eq!(seen, ["Ack { kind: 6, pid: 9 }"]);
        assert_eq!(buf.len(), 3);
    }
}
