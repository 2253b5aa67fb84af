//! One side of a bridge as an MQTT client: packets written to and read from a byte stream
//! (a TCP, TLS or TLS-PSK socket to the remote broker, or the in-process pipe to this one),
//! decoded strictly for the protocol spoken.

use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::codec::{ConnAck, Connect, Decoded, Packet, Protocol, decode};

/// Why a side stopped.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the connection was closed")]
    Closed,
    #[error("it sent a malformed packet: {0}")]
    Malformed(String),
    #[error("no CONNACK within {0:?}")]
    NoConnAck(Duration),
    #[error("it sent {0} instead of CONNACK")]
    NotConnAck(&'static str),
}

pub struct Peer<S> {
    stream: S,
    protocol: Protocol,
    /// Bytes read and not yet decoded.
    read: BytesMut,
    write: BytesMut,
}

/// The largest packet a bridge accepts from either side: MQTT's own maximum.
const MAX_PACKET: usize = 268_435_460;

impl<S: AsyncRead + AsyncWrite + Unpin> Peer<S> {
    pub fn new(stream: S, protocol: Protocol) -> Self {
        Self { stream, protocol, read: BytesMut::with_capacity(4096), write: BytesMut::new() }
    }

    /// Sends CONNECT and waits for the CONNACK, within `within`.
    pub async fn handshake(&mut self, connect: Connect, within: Duration) -> Result<ConnAck, PeerError> {
        self.send(&[Packet::Connect(Box::new(connect))]).await?;
        match tokio::time::timeout(within, self.recv()).await {
            Err(_) => Err(PeerError::NoConnAck(within)),
            Ok(Ok(Packet::ConnAck(ack))) => Ok(ack),
            Ok(Ok(other)) => Err(PeerError::NotConnAck(other.packet_type().name())),
            Ok(Err(e)) => Err(e),
        }
    }

    /// Writes packets in one go.
    pub async fn send(&mut self, packets: &[Packet]) -> Result<(), PeerError> {
        self.write.clear();
        for p in packets {
            p.encode(self.protocol, &mut self.write).map_err(|e| PeerError::Malformed(e.to_string()))?;
        }
        self.stream.write_all(&self.write).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// The next packet. Cancel-safe: bytes read before a cancellation stay in the buffer.
    pub async fn recv(&mut self) -> Result<Packet, PeerError> {
        loop {
            match decode(&self.read, MAX_PACKET, self.protocol) {
                Ok(Decoded::Packet(packet, used)) => {
                    self.read.advance(used);
                    return Ok(packet);
                }
                Ok(Decoded::Incomplete) => {}
                Err(e) => return Err(PeerError::Malformed(e.to_string())),
            }
            if self.stream.read_buf(&mut self.read).await? == 0 {
                return Err(PeerError::Closed);
            }
        }
    }

    /// Closes the stream after a last packet (DISCONNECT), ignoring a peer already gone.
    pub async fn close(mut self, last: Option<Packet>) {
        if let Some(p) = last {
            let _ = self.send(&[p]).await;
        }
        let _ = self.stream.shutdown().await;
    }
}
