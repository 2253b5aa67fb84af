//! The packet inspector's list: the relay's byte chunks cut into whole control packets per
//! direction (with the broker crate's codec), each with a one-line summary, and the packets of one
//! exchange linked as a flow: CONNECT -> CONNACK, PUBLISH -> PUBACK, PUBLISH -> PUBREC -> PUBREL ->
//! PUBCOMP, SUBSCRIBE -> SUBACK, UNSUBSCRIBE -> UNSUBACK, PINGREQ -> PINGRESP.

use std::collections::{HashMap, VecDeque};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use mqtt_lab_broker::codec::{
    Ack, DecodeError, Decoded, Packet, PacketType, Protocol, QosPid, UnsubAck, decode, decode_header,
};

use crate::connection::{Direction, Tap};

mod summary;
#[cfg(test)]
mod v5_tests;

use summary::summary;

/// Packets kept for the inspector.
const KEEP: usize = 100_000;
/// Past this many packets the log takes its whole room (see `push`).
const GROW_ALL_AT: usize = 4_096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedPacket {
    /// Position in the capture: stable while older packets are dropped.
    pub seq: u64,
    pub at: SystemTime,
    pub direction: Direction,
    pub bytes: Bytes,
    /// The protocol the packet was decoded in: its connection's CONNECT's, or MQTT 3.1.1 before
    /// a CONNECT was seen (the app's client speaks 3.1.1).
    pub protocol: Protocol,
    /// From the first byte; `None` for a reserved type.
    pub kind: Option<PacketType>,
    pub summary: String,
    /// Why the packet is malformed (with the spec rule), if it is.
    pub error: Option<String>,
    /// The exchange it belongs to, numbered from 1.
    pub flow: Option<u64>,
}

const fn other(d: Direction) -> Direction {
    match d {
        Direction::Sent => Direction::Received,
        Direction::Received => Direction::Sent,
    }
}

const fn index(d: Direction) -> usize {
    match d {
        Direction::Sent => 0,
        Direction::Received => 1,
    }
}

#[derive(Debug, Clone, Default)]
pub struct PacketLog {
    pub packets: VecDeque<CapturedPacket>,
    /// Bytes of a packet not yet whole, per direction.
    partial: [BytesMut; 2],
    next_seq: u64,
    next_flow: u64,
    /// Open exchanges: (the side that started it, packet id; 0 for CONNECT and PINGREQ) -> flow.
    open: HashMap<(usize, u16), u64>,
    /// The protocol of the current connection, from its CONNECT: packets after it are decoded
    /// in it (MQTT 5.0 packets carry properties and reason codes that 3.1.1 ones do not).
    protocol: Option<Protocol>,
}

impl PacketLog {
    /// A new connection: partial bytes of the old one are dropped, open exchanges forgotten.
    pub fn new_connection(&mut self) {
        self.partial = [BytesMut::new(), BytesMut::new()];
        self.open.clear();
        self.protocol = None;
    }

    /// Adds a chunk of bytes; every packet it completes is listed. The packets are cut out of
    /// the chunk without copying (`Bytes` slices); only a packet split across chunks is copied
    /// into `partial`: at 50,000 messages a second this runs on the UI thread.
    pub fn tap(&mut self, tap: &Tap) {
        let d = index(tap.direction);
        let mut chunk = if self.partial[d].is_empty() {
            tap.bytes.clone()
        } else {
            self.partial[d].extend_from_slice(&tap.bytes);
            std::mem::take(&mut self.partial[d]).freeze()
        };
        while !chunk.is_empty() {
            let len = match decode_header(&chunk) {
                Ok(Some(h)) if chunk.len() >= h.packet_len() => h.packet_len(),
                Ok(_) => break,
                // A broken header: the rest of the stream cannot be cut into packets.
                Err(_) => chunk.len(),
            };
            let bytes = chunk.split_to(len);
            self.push(tap.direction, tap.at, bytes);
        }
        if !chunk.is_empty() {
            self.partial[d] = BytesMut::from(&chunk[..]);
        }
    }

    fn push(&mut self, direction: Direction, at: SystemTime, bytes: Bytes) {
        let protocol = self.protocol.unwrap_or(Protocol::V311);
        // Decoded only, not laid out field by field: that (`inspect`) waits until a packet is
        // shown, since at 50,000 messages a second this runs on the UI thread for each one.
        let packet = match decode(&bytes, usize::MAX, protocol) {
            Ok(Decoded::Packet(packet, _)) => Ok(packet),
            Ok(Decoded::Incomplete) => Err(DecodeError::LengthBeyondPacket { what: "packet", len: bytes.len() + 1 }),
            Err(e) => Err(e),
        };
        // A CONNECT says its own protocol (and is decoded in it whatever `protocol` is).
        let protocol = match &packet {
            Ok(Packet::Connect(c)) => {
                self.protocol = Some(c.protocol);
                c.protocol
            }
            _ => protocol,
        };
        let kind = bytes.first().and_then(|b| PacketType::from_nibble(b >> 4).ok());
        let (summary, error, flow) = match &packet {
            Ok(packet) => (summary(packet, protocol), None, self.flow_of(direction, packet)),
            Err(e) => (format!("malformed: {e}"), Some(e.to_string()), None),
        };
        if self.packets.len() == KEEP {
            self.packets.pop_front();
        } else if self.packets.len() == self.packets.capacity() && self.packets.len() >= GROW_ALL_AT {
            // A busy connection: its room for all `KEEP` at once, while the copy is still small.
            // Doubling on to 100,000 would copy up to 6 MB in one frame (`three` bench: 13 ms).
            self.packets.reserve_exact(KEEP - self.packets.len());
        }
        self.packets.push_back(CapturedPacket {
            seq: self.next_seq,
            at,
            direction,
            bytes,
            protocol,
            kind,
            summary,
            error,
            flow,
        });
        self.next_seq += 1;
    }

    fn start(&mut self, side: Direction, id: u16) -> u64 {
        self.next_flow += 1;
        self.open.insert((index(side), id), self.next_flow);
        self.next_flow
    }

    /// The flow a packet belongs to; `end` closes it.
    fn follow(&mut self, side: Direction, id: u16, end: bool) -> Option<u64> {
        let key = (index(side), id);
        if end { self.open.remove(&key) } else { self.open.get(&key).copied() }
    }

    fn flow_of(&mut self, d: Direction, packet: &Packet) -> Option<u64> {
        match packet {
            Packet::Connect(_) | Packet::PingReq => Some(self.start(d, 0)),
            Packet::ConnAck(_) | Packet::PingResp => self.follow(other(d), 0, true),
            Packet::Publish(p) => match p.qos_pid {
                QosPid::AtMostOnce => None,
                QosPid::AtLeastOnce(id) | QosPid::ExactlyOnce(id) => Some(self.start(d, id.get())),
            },
            Packet::PubAck(Ack { pid, .. })
            | Packet::PubComp(Ack { pid, .. })
            | Packet::UnsubAck(UnsubAck { pid, .. }) => self.follow(other(d), pid.get(), true),
            Packet::PubRec(a) => self.follow(other(d), a.pid.get(), false),
            // PUBREL comes from the side that published.
            Packet::PubRel(a) => self.follow(d, a.pid.get(), false),
            Packet::Subscribe(s) => Some(self.start(d, s.pid.get())),
            Packet::Unsubscribe(u) => Some(self.start(d, u.pid.get())),
            Packet::SubAck(s) => self.follow(other(d), s.pid.get(), true),
            Packet::Disconnect(_) | Packet::Auth(_) => None,
        }
    }

    pub fn by_seq(&self, seq: u64) -> Option<&CapturedPacket> {
        let first = self.packets.front()?.seq;
        self.packets.get(usize::try_from(seq.checked_sub(first)?).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_lab_broker::codec::inspect;

    fn tap(direction: Direction, bytes: &[u8]) -> Tap {
        Tap { direction, at: SystemTime::now(), bytes: Bytes::copy_from_slice(bytes) }
    }

    #[test]
    fn chunks_are_cut_into_packets_whatever_their_boundaries() {
        let mut log = PacketLog::default();
        // PINGREQ, then a PUBLISH QoS 0 "a" "hi" split across three chunks, then a PINGREQ.
        let stream = [0xC0, 0x00, 0x30, 0x05, 0x00, 0x01, b'a', b'h', b'i', 0xC0, 0x00];
        log.tap(&tap(Direction::Sent, &stream[..3]));
        log.tap(&tap(Direction::Sent, &stream[3..7]));
        assert_eq!(log.packets.len(), 1);
        log.tap(&tap(Direction::Sent, &stream[7..]));
        let kinds: Vec<Option<PacketType>> = log.packets.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [Some(PacketType::PingReq), Some(PacketType::Publish), Some(PacketType::PingReq)]);
        assert_eq!(log.packets[1].summary, "a QoS 0, 2 byte(s)");
        assert_eq!(&log.packets[1].bytes[..], &stream[2..9]);
    }

    #[test]
    fn a_qos_2_exchange_is_one_flow_and_pings_pair_up() {
        let mut log = PacketLog::default();
        log.tap(&tap(Direction::Sent, &[0x34, 0x06, 0x00, 0x01, b't', 0x00, 0x07, b'x'])); // PUBLISH QoS 2 id 7
        log.tap(&tap(Direction::Received, &[0x50, 0x02, 0x00, 0x07])); // PUBREC 7
        log.tap(&tap(Direction::Sent, &[0x62, 0x02, 0x00, 0x07])); // PUBREL 7
        log.tap(&tap(Direction::Sent, &[0xC0, 0x00])); // PINGREQ in between
        log.tap(&tap(Direction::Received, &[0x70, 0x02, 0x00, 0x07])); // PUBCOMP 7
        log.tap(&tap(Direction::Received, &[0xD0, 0x00])); // PINGRESP
        let flows: Vec<Option<u64>> = log.packets.iter().map(|p| p.flow).collect();
        assert_eq!(flows, [Some(1), Some(1), Some(1), Some(2), Some(1), Some(2)]);
        assert_eq!(log.packets[0].summary, "t QoS 2, id 7, 1 byte(s)");
    }

    #[test]
    fn malformed_bytes_are_listed_with_the_rule_they_break() {
        let mut log = PacketLog::default();
        log.tap(&tap(Direction::Received, &[0x30, 0x05, 0x00, 0x03, b'a', b'/', b'+']));
        let p = &log.packets[0];
        assert!(p.error.as_deref().unwrap().contains("[MQTT-3.3.2-2]"), "{:?}", p.error);
        assert!(p.summary.starts_with("malformed: "));
        // A reserved packet type (0): the stream cannot be cut further, the bytes are kept as one.
        log.tap(&tap(Direction::Received, &[0x00, 0x00, 0xC0]));
        assert_eq!(log.packets.len(), 2);
        assert_eq!(log.packets[1].kind, None);
        assert_eq!(log.by_seq(1).unwrap().bytes.len(), 3);
    }

    #[test]
    fn after_an_mqtt_5_connect_the_connection_is_decoded_as_mqtt_5() {
        use mqtt_lab_broker::codec::v5::{PacketKind, Properties, Property};
        use mqtt_lab_broker::codec::{Connect, Publish, TopicName};
        let connect = Packet::Connect(Box::new(Connect {
            bridge: false,
            protocol: Protocol::V5,
            clean_session: true,
            keep_alive: 60,
            properties: Properties::default(),
            client_id: "pv-meter".into(),
            will: None,
            username: None,
            password: None,
        }));
        let properties =
            Properties::new(PacketKind::PublishToServer, vec![Property::UserProperty("unit".into(), "kWh".into())])
                .unwrap();
        let publish = Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain: false,
            topic: TopicName::new("PV/energy").unwrap(),
            payload: Bytes::from_static(b"4.25"),
            properties,
        });
        let publish = publish.to_bytes(Protocol::V5).unwrap();
        let mut log = PacketLog::default();
        log.tap(&tap(Direction::Sent, &connect.to_bytes(Protocol::V5).unwrap()));
        log.tap(&tap(Direction::Sent, &publish));
        let p = &log.packets[1];
        assert_eq!((log.packets[0].protocol, p.protocol), (Protocol::V5, Protocol::V5));
        assert_eq!((p.summary.as_str(), p.error.as_deref()), ("PV/energy QoS 0, 4 byte(s), 1 property", None));
        let fields = inspect(&p.bytes, p.protocol).fields;
        let field = |name: &str| fields.iter().find(|f| f.name == name).map(|f| (f.range.clone(), f.value.as_str()));
        // Topic "PV/energy" takes bytes 2-12; the property block follows it, then the payload.
        assert_eq!(field("Property length"), Some((13..14, "12")), "{fields:#?}");
        assert_eq!(field("User Property identifier"), Some((14..15, "0x26")), "{fields:#?}");
        assert_eq!(field("User Property name"), Some((17..21, "\"unit\"")), "{fields:#?}");
        assert_eq!(field("User Property value"), Some((23..26, "\"kWh\"")), "{fields:#?}");
        assert_eq!(field("Payload"), Some((26..30, "\"4.25\"")), "{fields:#?}");

        // A new connection starts over in MQTT 3.1.1: the same bytes have no properties there.
        log.new_connection();
        log.tap(&tap(Direction::Sent, &publish));
        let p = &log.packets[2];
        assert_eq!(p.protocol, Protocol::V311);
        assert!(inspect(&p.bytes, p.protocol).fields.iter().all(|f| !f.name.contains("User Property")));
    }
}
