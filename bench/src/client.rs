//! A benchmark client: one connection (TCP, TLS or TLS-PSK), CONNECT and SUBSCRIBE through the
//! broker's codec, then the publisher or subscriber loops of [`crate::publisher`] and
//! [`crate::subscriber`].

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use mqtt_lab_broker::codec::v5::{Properties, Property, PropertyId};
use mqtt_lab_broker::codec::{
    Connect, Decoded, Packet, PacketId, Protocol, QoS, Subscribe, TopicFilter, decode, put_remaining_length,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::transport::{Connector, Stream};
use crate::wire::{CONNACK, Frame, SUBACK, drain_frames, skip_properties};

/// Where and how clients connect.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Prefix of every client id (brokers with `clientid_prefixes` need one).
    pub client_prefix: String,
    /// TCP, TLS or TLS-PSK.
    pub connector: Connector,
    /// MQTT 3.1.1 or MQTT 5: the CONNECT's version, and so every packet's.
    pub protocol: Protocol,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: SocketAddr, source: std::io::Error },
    /// The source address is not local, or its port is taken.
    #[error("cannot bind a client socket to {from}: {source}")]
    Bind { from: SocketAddr, source: std::io::Error },
    #[error("{0}")]
    Tls(String),
    #[error("connection to the broker failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the broker closed the connection {0}")]
    Closed(&'static str),
    #[error("the broker refused the connection (CONNACK return code {0:#04x})")]
    Refused(u8),
    #[error("the broker refused the subscription to {0} (SUBACK 0x80 or above)")]
    SubscribeRefused(String),
    #[error("the broker sent packet type {0} where {1} was expected")]
    Unexpected(u8, &'static str),
    #[error(transparent)]
    Frame(#[from] crate::wire::FrameError),
    #[error("no answer from the broker within {0:?} ({1})")]
    Timeout(Duration, &'static str),
    /// A limit of this machine (open files, local ports) below what the run needs: the
    /// message names it and how to get past it.
    #[error("{0}")]
    Limit(String),
}

/// A connected client: its stream and what was read past the last packet handled.
pub struct Client {
    pub stream: Stream,
    pub rbuf: BytesMut,
    /// The connection speaks MQTT 5 (properties in PUBLISH, reason codes in acks).
    pub v5: bool,
    /// MQTT 5: the broker's Receive Maximum from CONNACK, the most QoS 1/2 publishes it takes
    /// unacknowledged [MQTT-3.3.4-7]; more is a protocol error. 3.1.1: no limit (`u16::MAX`).
    pub receive_maximum: u16,
}

/// The Receive Maximum of an MQTT 5 CONNACK's `body` (65535 when absent [MQTT-3.2.2.3.3]),
/// read through the codec: the properties before it have lengths of every kind.
fn receive_maximum(body: &[u8]) -> Result<u16, ClientError> {
    let mut packet = BytesMut::with_capacity(body.len() + 5);
    packet.put_u8(CONNACK << 4);
    put_remaining_length(&mut packet, body.len());
    packet.extend_from_slice(body);
    match decode(&packet, usize::MAX, Protocol::V5) {
        Ok(Decoded::Packet(Packet::ConnAck(c), _)) => Ok(match c.properties.get(PropertyId::ReceiveMaximum) {
            Some(Property::ReceiveMaximum(max)) => max.get(),
            _ => u16::MAX,
        }),
        Ok(_) => Err(ClientError::Unexpected(CONNACK, "a whole CONNACK")),
        Err(e) => Err(crate::wire::FrameError::Malformed(format!("CONNACK: {e}")).into()),
    }
}

/// How long CONNACK and SUBACK may take (a loaded broker with thousands of connections).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

impl Client {
    /// Connects with a clean session and waits for CONNACK.
    pub async fn connect(target: &Target, name: &str, keep_alive: u16) -> Result<Self, ClientError> {
        Self::connect_from(target, None, name, keep_alive).await
    }

    /// [`Client::connect`] from the source address and port `from` (the kernel's choice with
    /// `None`, or with port 0): one machine then opens more connections to one broker than one
    /// address has ports. An explicit port is the quick way: the kernel's search for a free
    /// one at each bind grows with the ports taken, and costs a millisecond at 20,000.
    pub async fn connect_from(
        target: &Target,
        from: Option<SocketAddr>,
        name: &str,
        keep_alive: u16,
    ) -> Result<Self, ClientError> {
        let tcp = match from {
            None => TcpStream::connect(target.addr).await,
            Some(from) => {
                let socket = if target.addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() };
                let socket = socket.map_err(|source| ClientError::Connect { addr: target.addr, source })?;
                socket.bind(from).map_err(|source| ClientError::Bind { from, source })?;
                socket.connect(target.addr).await
            }
        }
        .map_err(|source| ClientError::Connect { addr: target.addr, source })?;
        tcp.set_nodelay(true)?;
        let stream = target.connector.connect(tcp).await.map_err(ClientError::Tls)?;
        let v5 = target.protocol == Protocol::V5;
        let mut client = Self { stream, rbuf: BytesMut::with_capacity(64 * 1024), v5, receive_maximum: u16::MAX };
        // MQTT 5: no properties. Receive Maximum absent is 65535 [MQTT-3.1.2-21 ff.], so the
        // broker's own window, not ours, limits its deliveries, as in 3.1.1.
        let connect = Packet::Connect(Box::new(Connect {
            bridge: false,
            protocol: target.protocol,
            clean_session: true,
            keep_alive,
            properties: Properties::default(),
            client_id: format!("{}{name}", target.client_prefix),
            will: None,
            username: target.username.clone(),
            password: target.password.clone().map(Bytes::from),
        }));
        client.send(&connect).await?;
        // Flags, then the return code (3.1.1) or reason code (5: then properties).
        let body = client.expect(CONNACK, "CONNACK").await?;
        match body.get(1) {
            Some(0) if v5 => {
                client.receive_maximum = receive_maximum(&body)?;
                Ok(client)
            }
            Some(0) => Ok(client),
            Some(&code) => Err(ClientError::Refused(code)),
            None => Err(ClientError::Unexpected(CONNACK, "a CONNACK with a return code")),
        }
    }

    /// Subscribes to one filter and waits for SUBACK.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), ClientError> {
        let parsed = TopicFilter::new(filter).map_err(|_| ClientError::SubscribeRefused(filter.to_owned()))?;
        let pid = PacketId::new(1).unwrap_or_else(|| unreachable!());
        let filters = vec![(parsed, qos.into())];
        self.send(&Packet::Subscribe(Subscribe { pid, properties: Properties::default(), filters })).await?;
        let body = self.expect(SUBACK, "SUBACK").await?;
        // The packet id, then (MQTT 5) properties, then one code per filter: 0x80 and above
        // refuse it (3.1.1's only refusal is 0x80 [MQTT-3.9.3-2]).
        let codes = if self.v5 { skip_properties(&body, 2) } else { Some(2) };
        match codes.and_then(|at| body.get(at)) {
            Some(&code) if code < 0x80 => Ok(()),
            _ => Err(ClientError::SubscribeRefused(filter.to_owned())),
        }
    }

    /// The connection's protocol.
    pub const fn protocol(&self) -> Protocol {
        if self.v5 { Protocol::V5 } else { Protocol::V311 }
    }

    /// Sends `packet` in the connection's protocol.
    pub async fn send(&mut self, packet: &Packet) -> Result<(), ClientError> {
        let bytes = packet.to_bytes(self.protocol()).map_err(|e| std::io::Error::other(e.to_string()))?;
        self.stream.write_all(&bytes).await?;
        Ok(())
    }

    /// Reads until a packet of type `kind` arrives and returns its body.
    async fn expect(&mut self, kind: u8, what: &'static str) -> Result<Vec<u8>, ClientError> {
        tokio::time::timeout(ANSWER_TIMEOUT, async {
            loop {
                let mut found = None;
                drain_frames(&mut self.rbuf, self.v5, |f| {
                    if found.is_none() {
                        found = Some(match f {
                            Frame::Other { kind: k, body } if k == kind => Ok(body.to_vec()),
                            Frame::Other { kind: k, .. } | Frame::Ack { kind: k, .. } => {
                                Err(ClientError::Unexpected(k, what))
                            }
                            Frame::Publish { .. } => Err(ClientError::Unexpected(3, what)),
                        });
                    }
                })?;
                if let Some(found) = found {
                    return found;
                }
                if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                    return Err(ClientError::Closed("before answering"));
                }
            }
        })
        .await
        .map_err(|_| ClientError::Timeout(ANSWER_TIMEOUT, what))?
    }
}
