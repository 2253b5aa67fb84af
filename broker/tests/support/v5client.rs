//! A raw client for MQTT 5.0 behaviour tests (and 3.1.1, to compare): it writes exact packets
//! encoded for its protocol and reads the broker's packets decoded the same way, with their
//! bytes. "Nothing else came" is proven by a PINGREQ whose PINGRESP is the next packet, never
//! by waiting a while: the broker answers a client's packets in order, through one outbox.
#![allow(dead_code, clippy::missing_panics_doc)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mqtt_lab_broker::codec::v5::{PacketKind, Properties, Property, ReasonCode};
use mqtt_lab_broker::codec::{
    ConnAck, Connect, Decoded, Disconnect, Packet, PacketId, Protocol, Publish, QoS, QosPid, SubAck, SubAckCode,
    SubOptions, Subscribe, TopicFilter, TopicName, UnsubAck, Unsubscribe, decode,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bounds a wait that only a failing test reaches.
const PATIENCE: Duration = Duration::from_secs(10);

/// A validated property block; panics (a test bug) when `list` breaks a rule for `kind`.
pub fn props(kind: PacketKind, list: Vec<Property>) -> Properties {
    Properties::new(kind, list).expect("the test's properties are valid")
}

/// A clean-start CONNECT of `protocol` with keep alive 60 and `properties` (v5 only).
pub fn connect_of(protocol: Protocol, client_id: &str, properties: Vec<Property>) -> Connect {
    Connect {
        bridge: false,
        protocol,
        clean_session: true,
        keep_alive: 60,
        properties: props(PacketKind::Connect, properties),
        client_id: client_id.into(),
        will: None,
        username: None,
        password: None,
    }
}

pub fn packet_id(n: u16) -> PacketId {
    PacketId::new(n).expect("packet ids in tests are not 0")
}

/// A PUBLISH as a client sends it; `properties` unchecked, so tests can break the rules.
pub fn publish_of(topic: &str, payload: &[u8], qos_pid: QosPid, retain: bool, properties: Vec<Property>) -> Packet {
    let topic = if topic.is_empty() { TopicName::alias_only() } else { TopicName::new(topic).expect("topic name") };
    let properties = if properties.is_empty() {
        Properties::default()
    } else {
        // PublishToClient admits every PUBLISH property, a Subscription Identifier too.
        props(PacketKind::PublishToClient, properties)
    };
    Packet::Publish(Publish {
        dup: false,
        qos_pid,
        retain,
        topic,
        payload: Bytes::copy_from_slice(payload),
        properties,
    })
}

/// Subscription options with only a QoS.
pub fn opts(qos: QoS) -> SubOptions {
    SubOptions::from(qos)
}

/// A client speaking exact packets of one protocol version, over TCP or (on paused time) an
/// in-memory pipe to `Broker::accept_stream`.
pub struct Client<S = TcpStream> {
    stream: S,
    buf: BytesMut,
    /// How packets are encoded and decoded; a test may change it (e.g. to read the 3.1.1
    /// CONNACK that answers an unsupported protocol level).
    pub protocol: Protocol,
    next_pid: u16,
}

impl Client {
    pub async fn open(addr: SocketAddr, protocol: Protocol) -> Self {
        let stream = TcpStream::connect(addr).await.expect("the broker accepts a connection");
        Self { stream, buf: BytesMut::new(), protocol, next_pid: 0 }
    }

    /// Sends `connect` and answers the CONNACK, whatever its reason code.
    pub async fn connect(addr: SocketAddr, connect: Connect) -> (Self, ConnAck) {
        let mut c = Self::open(addr, connect.protocol).await;
        c.send(&Packet::Connect(Box::new(connect))).await;
        match c.recv().await {
            Packet::ConnAck(ack) => (c, ack),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// Connects and expects reason 0x00; answers the CONNACK's properties too.
    pub async fn accepted(addr: SocketAddr, connect: Connect) -> (Self, Properties) {
        let (c, ack) = Self::connect(addr, connect).await;
        assert_eq!(ack.reason, ReasonCode::Success, "CONNACK {ack:?}");
        (c, ack.properties)
    }

    /// An MQTT 5.0 client with no CONNECT properties.
    pub async fn v5(addr: SocketAddr, client_id: &str) -> Self {
        Self::accepted(addr, connect_of(Protocol::V5, client_id, Vec::new())).await.0
    }

    /// An MQTT 3.1.1 client.
    pub async fn v311(addr: SocketAddr, client_id: &str) -> Self {
        Self::accepted(addr, connect_of(Protocol::V311, client_id, Vec::new())).await.0
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// A client on `stream`, already open to the broker.
    pub fn over(stream: S, protocol: Protocol) -> Self {
        Self { stream, buf: BytesMut::new(), protocol, next_pid: 0 }
    }

    /// The next packet within `wait`; `None` if none came or the broker closed. On paused time
    /// `wait` passes at once when nothing else is due: an exact "nothing before" check.
    pub async fn recv_within(&mut self, wait: Duration) -> Option<Packet> {
        let next = async {
            loop {
                if let Decoded::Packet(p, n) = decode(&self.buf, usize::MAX, self.protocol).expect("well-formed") {
                    let _ = self.buf.split_to(n);
                    return Some(p);
                }
                if matches!(self.stream.read_buf(&mut self.buf).await, Ok(0) | Err(_)) {
                    return None;
                }
            }
        };
        tokio::time::timeout(wait, next).await.ok().flatten()
    }

    pub fn pid(&mut self) -> PacketId {
        self.next_pid = self.next_pid % u16::MAX + 1;
        packet_id(self.next_pid)
    }

    pub async fn send(&mut self, packet: &Packet) {
        let bytes = packet.to_bytes(self.protocol).expect("the test's packet encodes");
        self.send_raw(&bytes).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("the broker reads");
    }

    /// The next packet with its exact bytes, or `None` when the broker closes the connection.
    pub async fn recv_frame(&mut self) -> Option<(Packet, Bytes)> {
        loop {
            match decode(&self.buf, usize::MAX, self.protocol).expect("the broker sends well-formed packets") {
                Decoded::Packet(p, n) => return Some((p, self.buf.split_to(n).freeze())),
                Decoded::Incomplete => {}
            }
            let read = tokio::time::timeout(PATIENCE, self.stream.read_buf(&mut self.buf))
                .await
                .expect("a packet or the end of the connection within 10 s");
            if matches!(read, Ok(0) | Err(_)) {
                assert!(self.buf.is_empty(), "the connection ended inside a packet: {:02x?}", &self.buf[..]);
                return None;
            }
        }
    }

    pub async fn try_recv(&mut self) -> Option<Packet> {
        self.recv_frame().await.map(|(p, _)| p)
    }

    pub async fn recv(&mut self) -> Packet {
        self.try_recv().await.expect("connection closed while a packet was expected")
    }

    pub async fn recv_publish(&mut self) -> Publish {
        match self.recv().await {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    /// PINGREQ, then everything up to its PINGRESP: what the broker had sent before.
    pub async fn sync(&mut self) -> Vec<Packet> {
        self.send(&Packet::PingReq).await;
        let mut before = Vec::new();
        loop {
            match self.recv().await {
                Packet::PingResp => return before,
                other => before.push(other),
            }
        }
    }

    /// Proves that nothing is waiting for this client: PINGRESP comes next.
    pub async fn expect_nothing(&mut self) {
        let before = self.sync().await;
        assert!(before.is_empty(), "expected nothing before PINGRESP, got {before:?}");
    }

    /// Expects the broker to close the connection with no further packet.
    pub async fn expect_closed(&mut self) {
        if let Some(p) = self.try_recv().await {
            panic!("expected the connection to close, got {p:?}");
        }
    }

    /// Expects DISCONNECT, then the end of the connection; answers its reason code.
    pub async fn expect_disconnect(&mut self) -> ReasonCode {
        match self.recv().await {
            Packet::Disconnect(Disconnect { reason, .. }) => {
                self.expect_closed().await;
                reason
            }
            other => panic!("expected DISCONNECT, got {other:?}"),
        }
    }

    /// SUBSCRIBE with `properties` (e.g. a Subscription Identifier); answers the SUBACK codes.
    pub async fn subscribe_with(
        &mut self,
        filters: &[(&str, SubOptions)],
        properties: Vec<Property>,
    ) -> Vec<SubAckCode> {
        let pid = self.pid();
        let filters = filters.iter().map(|(f, o)| (TopicFilter::new(*f).expect("topic filter"), *o)).collect();
        let properties = props(PacketKind::Subscribe, properties);
        self.send(&Packet::Subscribe(Subscribe { pid, properties, filters })).await;
        match self.recv().await {
            Packet::SubAck(SubAck { pid: p, codes, .. }) if p == pid => codes,
            other => panic!("expected SUBACK {pid}, got {other:?}"),
        }
    }

    /// Subscribes to one filter with `options` and expects it granted.
    pub async fn subscribe(&mut self, filter: &str, options: SubOptions) {
        let codes = self.subscribe_with(&[(filter, options)], Vec::new()).await;
        assert_eq!(codes, [SubAckCode::Granted(options.qos)], "SUBACK for {filter}");
    }

    /// UNSUBSCRIBE; answers the UNSUBACK reason codes (none for 3.1.1).
    pub async fn unsubscribe(&mut self, filters: &[&str]) -> Vec<ReasonCode> {
        let pid = self.pid();
        let filters = filters.iter().map(|f| TopicFilter::new(*f).expect("topic filter")).collect();
        self.send(&Packet::Unsubscribe(Unsubscribe { pid, properties: Properties::default(), filters })).await;
        match self.recv().await {
            Packet::UnsubAck(UnsubAck { pid: p, reasons, .. }) if p == pid => reasons,
            other => panic!("expected UNSUBACK {pid}, got {other:?}"),
        }
    }

    /// A QoS 0 PUBLISH, then a PINGREQ round trip: when this returns the broker has routed it.
    pub async fn publish0(&mut self, topic: &str, payload: &[u8], properties: Vec<Property>) {
        self.send(&publish_of(topic, payload, QosPid::AtMostOnce, false, properties)).await;
        let before = self.sync().await;
        assert!(before.is_empty(), "the publisher got {before:?}");
    }

    /// A QoS 1 PUBLISH; answers the PUBACK's reason code (the message is routed by then).
    pub async fn publish1(
        &mut self,
        topic: &str,
        payload: &[u8],
        retain: bool,
        properties: Vec<Property>,
    ) -> ReasonCode {
        let pid = self.pid();
        self.send(&publish_of(topic, payload, QosPid::AtLeastOnce(pid), retain, properties)).await;
        match self.recv().await {
            Packet::PubAck(a) if a.pid == pid => a.reason,
            other => panic!("expected PUBACK {pid}, got {other:?}"),
        }
    }

    /// DISCONNECT with `reason`, then the broker closes.
    pub async fn disconnect(mut self, reason: ReasonCode) {
        self.send(&Packet::Disconnect(Disconnect::with_reason(reason))).await;
        self.expect_closed().await;
    }
}
