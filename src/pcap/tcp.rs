//! One synthesized TCP connection: the handshake, then each MQTT packet as one or more segments
//! whose sequence numbers follow the bytes sent that way and whose acknowledgement numbers say
//! everything the other side sent has arrived. That is what a real capture of a healthy
//! connection shows, so Wireshark's TCP analysis (`tcp.analysis.flags`) stays empty.

use std::net::IpAddr;

use etherparse::{PacketBuilder, TcpOptionElement};

use crate::connection::Direction;

/// The most MQTT bytes in one segment: an IPv4 packet holds at most 65,535 bytes with its
/// headers, and a round figure below that reads well in Wireshark's lengths.
pub const MAX_SEGMENT: usize = 65_000;

/// The window scale both ends announce: 65,535 << 14 is 1 GiB, so a burst the other side has
/// not acknowledged (the relay sees no pure ACKs to copy) never reads as "window full".
const WINDOW_SCALE: u8 = 14;
const WINDOW: u16 = u16::MAX;
/// Locally administered MAC addresses: the frames were never on a wire.
const CLIENT_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const BROKER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
const TTL: u8 = 64;

/// The addresses and ports of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ends {
    pub client: (IpAddr, u16),
    pub broker: (IpAddr, u16),
}

/// A TCP connection being written: the next sequence number of each side.
#[derive(Debug)]
pub struct TcpConnection {
    ends: Ends,
    /// Next sequence number from the client, then from the broker.
    next: [u32; 2],
}

/// Flags of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Syn,
    SynAck,
    Ack,
    /// Data; `push` on the last segment of an MQTT packet.
    Data {
        push: bool,
    },
}

const fn side(d: Direction) -> usize {
    match d {
        Direction::Sent => 0,
        Direction::Received => 1,
    }
}

impl TcpConnection {
    /// Opens the connection: SYN, SYN-ACK and ACK frames, in order. `isn` is the client's
    /// initial sequence number (the broker's is derived from it).
    pub fn open(ends: Ends, isn: u32) -> Result<(Self, [Vec<u8>; 3]), String> {
        let broker_isn = isn.rotate_left(16) ^ 0x5a5a_5a5a;
        let mut c = Self { ends, next: [isn, broker_isn] };
        let syn = c.frame(Direction::Sent, Kind::Syn, &[])?;
        let syn_ack = c.frame(Direction::Received, Kind::SynAck, &[])?;
        let ack = c.frame(Direction::Sent, Kind::Ack, &[])?;
        Ok((c, [syn, syn_ack, ack]))
    }

    /// The frames carrying `payload` one way: segments of at most `MAX_SEGMENT` bytes.
    pub fn send(&mut self, direction: Direction, payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let count = payload.len().div_ceil(MAX_SEGMENT);
        payload
            .chunks(MAX_SEGMENT)
            .enumerate()
            .map(|(i, chunk)| self.frame(direction, Kind::Data { push: i + 1 == count }, chunk))
            .collect()
    }

    /// One Ethernet frame from `from`'s side, advancing its sequence number.
    fn frame(&mut self, from: Direction, kind: Kind, payload: &[u8]) -> Result<Vec<u8>, String> {
        let (me, other) = (side(from), 1 - side(from));
        let ((src, sport), (dst, dport), (smac, dmac)) = match from {
            Direction::Sent => (self.ends.client, self.ends.broker, (CLIENT_MAC, BROKER_MAC)),
            Direction::Received => (self.ends.broker, self.ends.client, (BROKER_MAC, CLIENT_MAC)),
        };
        let ip = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ethernet2(smac, dmac).ipv4(s.octets(), d.octets(), TTL),
            (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ethernet2(smac, dmac).ipv6(s.octets(), d.octets(), TTL),
            _ => return Err(format!("{src} and {dst} are not of one IP version")),
        };
        let seq = self.next[me];
        let tcp = ip.tcp(sport, dport, seq, WINDOW);
        let tcp = match kind {
            Kind::Syn => tcp.syn(),
            Kind::SynAck => tcp.syn().ack(self.next[other]),
            Kind::Ack | Kind::Data { push: false } => tcp.ack(self.next[other]),
            Kind::Data { push: true } => tcp.ack(self.next[other]).psh(),
        };
        let tcp = if matches!(kind, Kind::Syn | Kind::SynAck) {
            // SYNs carry the scale; the SYN itself takes one sequence number.
            self.next[me] = seq.wrapping_add(1);
            tcp.options(&[TcpOptionElement::WindowScale(WINDOW_SCALE)]).map_err(|e| e.to_string())?
        } else {
            tcp
        };
        let len = u32::try_from(payload.len()).map_err(|_| "a segment over 4 GiB".to_owned())?;
        self.next[me] = self.next[me].wrapping_add(len);
        let mut frame = Vec::with_capacity(tcp.size(payload.len()));
        tcp.write(&mut frame, payload).map_err(|e| format!("a TCP frame could not be built: {e}"))?;
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    use std::net::Ipv4Addr;

    fn ends() -> Ends {
        Ends { client: (Ipv4Addr::LOCALHOST.into(), 49152), broker: (Ipv4Addr::new(192, 0, 2, 1).into(), 1883) }
    }

    /// (src port, seq, ack, syn, push, payload length) of a frame, read back by etherparse.
    fn read(frame: &[u8]) -> (u16, u32, u32, bool, bool, usize) {
        let p = SlicedPacket::from_ethernet(frame).unwrap();
        assert!(matches!(p.net, Some(NetSlice::Ipv4(_))));
        let Some(TransportSlice::Tcp(t)) = p.transport else { panic!("not TCP") };
        (t.source_port(), t.sequence_number(), t.acknowledgment_number(), t.syn(), t.psh(), t.payload().len())
    }

    #[test]
    fn sequence_numbers_follow_the_bytes_of_each_direction() {
        let (mut c, handshake) = TcpConnection::open(ends(), 1000).unwrap();
        let b = 1000u32.rotate_left(16) ^ 0x5a5a_5a5a;
        assert_eq!(read(&handshake[0]), (49152, 1000, 0, true, false, 0));
        assert_eq!(read(&handshake[1]), (1883, b, 1001, true, false, 0));
        assert_eq!(read(&handshake[2]), (49152, 1001, b + 1, false, false, 0));
        let connect = c.send(Direction::Sent, &[0x10; 20]).unwrap();
        assert_eq!(read(&connect[0]), (49152, 1001, b + 1, false, true, 20));
        let connack = c.send(Direction::Received, &[0x20, 2, 0, 0]).unwrap();
        assert_eq!(read(&connack[0]), (1883, b + 1, 1021, false, true, 4));
        let ping = c.send(Direction::Sent, &[0xC0, 0]).unwrap();
        assert_eq!(read(&ping[0]), (49152, 1021, b + 5, false, true, 2));
    }

    #[test]
    fn a_large_packet_is_split_and_only_its_last_segment_pushes() {
        let (mut c, _) = TcpConnection::open(ends(), u32::MAX - 10).unwrap();
        let frames = c.send(Direction::Received, &vec![7u8; 2 * MAX_SEGMENT + 5]).unwrap();
        let read: Vec<_> = frames.iter().map(|f| read(f)).collect();
        assert_eq!(read.iter().map(|r| r.5).collect::<Vec<_>>(), [MAX_SEGMENT, MAX_SEGMENT, 5]);
        assert_eq!(read.iter().map(|r| r.4).collect::<Vec<_>>(), [false, false, true]);
        assert_eq!(read[1].1, read[0].1.wrapping_add(65_000));
        // The client's ISN near 2^32: its acknowledgement wraps as TCP's does.
        assert_eq!(read[0].2, (u32::MAX - 10).wrapping_add(1));
    }

    #[test]
    fn checksums_are_right() {
        let (mut c, _) = TcpConnection::open(ends(), 1).unwrap();
        let frame = c.send(Direction::Sent, b"\x30\x05\x00\x01ahi").unwrap().remove(0);
        let p = SlicedPacket::from_ethernet(&frame).unwrap();
        let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) = (p.net, p.transport) else { panic!() };
        let header = ip.header().to_header();
        assert_eq!(header.header_checksum, header.calc_header_checksum());
        let expected = tcp.to_header().calc_checksum_ipv4(&header, tcp.payload()).unwrap();
        assert_eq!(tcp.checksum(), expected);
    }
}
