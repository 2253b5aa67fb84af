//! A benchmark client: one connection (TCP, TLS or TLS-PSK), CONNECT and SUBSCRIBE through the
//! broker's codec, then the publisher or subscriber loops of [`crate::publisher`] and
//! [`crate::subscriber`].

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mqtt_lab_broker::codec::v5::Properties;
use mqtt_lab_broker::codec::{Connect, Packet, PacketId, Protocol, QoS, Subscribe, TopicFilter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::transport::{Connector, Stream};
use crate::wire::{CONNACK, Frame, SUBACK, drain_frames};

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
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: SocketAddr, source: std::io::Error },
    #[error("{0}")]
    Tls(String),
    #[error("connection to the broker failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the broker closed the connection {0}")]
    Closed(&'static str),
    #[error("the broker refused the connection (CONNACK return code {0})")]
    Refused(u8),
    #[error("the broker refused the subscription to {0} (SUBACK 0x80)")]
    SubscribeRefused(String),
    #[error("the broker sent packet type {0} where {1} was expected")]
    Unexpected(u8, &'static str),
    #[error(transparent)]
    Frame(#[from] crate::wire::FrameError),
    #[error("no answer from the broker within {0:?} ({1})")]
    Timeout(Duration, &'static str),
}

/// A connected client: its stream and what was read past the last packet handled.
pub struct Client {
    pub stream: Stream,
    pub rbuf: BytesMut,
}

/// How long CONNACK and SUBACK may take (a loaded broker with thousands of connections).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

impl Client {
    /// Connects with a clean session and waits for CONNACK.
    pub async fn connect(target: &Target, name: &str, keep_alive: u16) -> Result<Self, ClientError> {
        let tcp = TcpStream::connect(target.addr)
            .await
            .map_err(|source| ClientError::Connect { addr: target.addr, source })?;
        tcp.set_nodelay(true)?;
        let stream = target.connector.connect(tcp).await.map_err(ClientError::Tls)?;
        let mut client = Self { stream, rbuf: BytesMut::with_capacity(64 * 1024) };
        let connect = Packet::Connect(Box::new(Connect {
            protocol: Protocol::V311,
            clean_session: true,
            keep_alive,
            properties: Properties::default(),
            client_id: format!("{}{name}", target.client_prefix),
            will: None,
            username: target.username.clone(),
            password: target.password.clone().map(Bytes::from),
        }));
        client.send(&connect).await?;
        let body = client.expect(CONNACK, "CONNACK").await?;
        match body.get(1) {
            Some(0) => Ok(client),
            Some(&code) => Err(ClientError::Refused(code)),
            None => Err(ClientError::Unexpected(CONNACK, "a 2-byte CONNACK")),
        }
    }

    /// Subscribes to one filter and waits for SUBACK.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), ClientError> {
        let parsed = TopicFilter::new(filter).map_err(|_| ClientError::SubscribeRefused(filter.to_owned()))?;
        let pid = PacketId::new(1).unwrap_or_else(|| unreachable!());
        let filters = vec![(parsed, qos.into())];
        self.send(&Packet::Subscribe(Subscribe { pid, properties: Properties::default(), filters })).await?;
        let body = self.expect(SUBACK, "SUBACK").await?;
        if body.get(2) == Some(&0x80) {
            return Err(ClientError::SubscribeRefused(filter.to_owned()));
        }
        Ok(())
    }

    /// Sends `packet` as MQTT 3.1.1, the load generator's protocol.
    pub async fn send(&mut self, packet: &Packet) -> Result<(), ClientError> {
        let bytes = packet.to_bytes(Protocol::V311).map_err(|e| std::io::Error::other(e.to_string()))?;
        self.stream.write_all(&bytes).await?;
        Ok(())
    }

    /// Reads until a packet of type `kind` arrives and returns its body.
    async fn expect(&mut self, kind: u8, what: &'static str) -> Result<Vec<u8>, ClientError> {
        tokio::time::timeout(ANSWER_TIMEOUT, async {
            loop {
                let mut found = None;
                drain_frames(&mut self.rbuf, |f| {
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
