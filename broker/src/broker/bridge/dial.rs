//! Reaching the remote broker: each `address` in turn (`round_robin` or back to the first), the
//! CONNECT and its answer (the bridge bit dropped after a CONNACK 1, as Mosquitto does, and a
//! hint in the log when a remote closes on it), and the delay before the next try.

use std::time::Duration;

use super::packets::remote_connect;
use super::peer::{Peer, PeerError};
use super::remote::RemoteIo;
use super::task::{Bridge, CONNACK_TIMEOUT};
use crate::codec::ConnectReturnCode;
use crate::codec::v5::{Property, PropertyId};
use crate::log::LogType;

/// Messages in flight to an MQTT 3.1/3.1.1 remote: Mosquitto's `max_inflight_messages`
/// default, which is also its own bridges' window.
pub(super) const WINDOW_3: u16 = 20;

impl Bridge {
    /// Tries each address once, from `next_address`; the first that answers CONNACK 0 wins.
    pub(super) async fn connect_remote(&mut self) -> Result<(Peer<Box<dyn RemoteIo>>, String), String> {
        let count = self.config.addresses.len();
        let mut last = String::from("no address");
        for i in 0..count {
            let index = (self.next_address + i) % count;
            let (host, port) = self.config.addresses[index].clone();
            let address = format!("{host}:{port}");
            self.log(LogType::Notice, format_args!("Connecting bridge {} ({address})", self.config.name));
            self.shared.bridges.update(&self.config.name, |s| s.remote = Some(address.clone()));
            match self.handshake(&host, port).await {
                Ok(remote) => {
                    // round_robin: stay on this one; otherwise the first address comes first again.
                    self.next_address = if self.config.round_robin { index } else { 0 };
                    return Ok((remote, address));
                }
                Err(why) => {
                    self.log(
                        LogType::Warning,
                        format_args!("Warning: bridge {} could not connect to {address}: {why}", self.config.name),
                    );
                    last = format!("{address}: {why}");
                    if self.config.round_robin {
                        self.next_address = (index + 1) % count;
                    }
                }
            }
        }
        Err(last)
    }

    async fn handshake(&mut self, host: &str, port: u16) -> Result<Peer<Box<dyn RemoteIo>>, String> {
        let stream = self.connector.connect(host, port).await?;
        let private = self.private && self.config.try_private && !self.config.protocol.is_v5();
        let mut remote = Peer::new(stream, self.config.protocol);
        let ack = match remote.handshake(remote_connect(&self.config, private), CONNACK_TIMEOUT).await {
            Ok(ack) => ack,
            Err(e @ PeerError::Closed) if private => return Err(format!("{e}; {PRIVATE_HINT}")),
            Err(e) => return Err(e.to_string()),
        };
        if !ack.reason.is_error() {
            // What the remote takes at once: its Receive Maximum (MQTT 5), else Mosquitto's
            // default window (a 3.1.1 Mosquitto drops QoS 2 messages past it).
            self.window = match ack.properties.get(PropertyId::ReceiveMaximum) {
                Some(Property::ReceiveMaximum(n)) => n.get(),
                // MQTT 5's default when the property is absent (3.2.2.3.3).
                _ if self.config.protocol.is_v5() => u16::MAX,
                _ => WINDOW_3,
            };
            return Ok(remote);
        }
        let code = ConnectReturnCode::from_reason(ack.reason);
        let words = if self.config.protocol.is_v5() {
            format!("CONNACK {:#04x} ({})", ack.reason as u8, ack.reason.name())
        } else {
            format!("CONNACK {} ({})", code as u8, code.describe())
        };
        if private && code == ConnectReturnCode::UnacceptableProtocolVersion {
            // As Mosquitto: the next attempt goes without the bit.
            self.private = false;
            return Err(format!(
                "refused with {words}: it does not accept the bridge bit (try_private); trying without it next"
            ));
        }
        Err(format!("refused with {words}"))
    }

    /// The delay before the next attempt: `restart_timeout base`, or with a cap an exponential
    /// backoff from base to cap with jitter, as Mosquitto 2.0.
    pub(super) fn backoff(&self) -> Duration {
        let t = self.config.restart_timeout;
        let Some(cap) = t.cap else { return Duration::from_secs(u64::from(t.base)) };
        let exp = u64::from(t.base).saturating_mul(1 << self.failures.min(16)).min(u64::from(cap));
        let mut random = [0u8; 8];
        let jitter = getrandom::fill(&mut random).map_or(0, |()| u64::from_le_bytes(random));
        let low = u64::from(t.base).min(exp);
        Duration::from_millis(low * 1000 + jitter % ((exp - low) * 1000 + 1))
    }
}

/// What to do when a remote refuses the bridge bit by closing the connection.
const PRIVATE_HINT: &str = "the remote may refuse the bridge bit (protocol level | 0x80): set try_private false, or bridge_protocol_version mqttv50";
