//! The CONNECT handshake: protocol checks, authentication, and the CONNACK that answers it.

use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use super::{Close, Connection};
use crate::broker::{Login, Stats};
use crate::codec::{ConnAck, Connect, ConnectReturnCode, DecodeError, Packet, Protocol};
use crate::log::LogType;

/// How long a new connection may take to send CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Waits for CONNECT and answers it. `Ok(false)`: refused, already answered and logged.
    pub(super) async fn handshake(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<bool, Close> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let connect = loop {
            match self.next_packet() {
                Ok(Some(Packet::Connect(c))) => break c,
                Ok(Some(other)) => {
                    return Err(Close::Protocol(format!(
                        "[MQTT-3.1.0-1] the first packet must be CONNECT, got {}",
                        other.packet_type()
                    )));
                }
                Ok(None) => {}
                Err(DecodeError::UnsupportedProtocolLevel { level }) => {
                    self.log(LogType::Information, format_args!(
                        "Client <unknown> from {} refused: [MQTT-3.1.2-2] unsupported protocol level {level} (this broker speaks MQTT 3.1 and 3.1.1).",
                        self.peer
                    ));
                    self.refuse(ConnectReturnCode::UnacceptableProtocolVersion).await;
                    return Ok(false);
                }
                Err(e) => return Err(Close::Protocol(e.to_string())),
            }
            // `biased`: bytes that have arrived count before a timer that is also due.
            tokio::select! {
                biased;
                r = self.read_more() => r?,
                () = sleep_until(deadline) => return Err(Close::Protocol("no CONNECT within 10 seconds".into())),
                _ = shutdown.changed() => return Err(Close::Shutdown),
            }
        };
        self.accept(*connect).await
    }

    async fn refuse(&mut self, code: ConnectReturnCode) {
        let packet = Packet::ConnAck(ConnAck { session_present: false, code });
        let mut buf = BytesMut::new();
        let _ = packet.encode(&mut buf);
        // The client may already be gone; there is nothing more to do for it either way.
        let _ = self.stream.write_all(&buf).await;
        let _ = self.stream.shutdown().await;
        Stats::add(&self.shared.stats.bytes_sent, buf.len() as u64);
    }

    /// Why a CONNECT is refused, if it is: protocol rules first, then authentication.
    fn refusal(&self, c: &Connect) -> Option<(ConnectReturnCode, String)> {
        let config = &self.shared.config;
        let rejected = |reason: String| Some((ConnectReturnCode::IdentifierRejected, reason));
        if c.client_id.is_empty() && !c.clean_session {
            return rejected("[MQTT-3.1.3-8] an empty client id needs clean session".into());
        }
        if c.client_id.is_empty() && (c.protocol == Protocol::V31 || !config.allow_zero_length_clientid) {
            return rejected("an empty client id is not allowed here".into());
        }
        if c.protocol == Protocol::V31 && c.client_id.len() > 23 {
            return rejected("MQTT 3.1 client ids are at most 23 characters".into());
        }
        if c.keep_alive > config.max_keepalive {
            return rejected(format!("keepalive {} is above max_keepalive {}", c.keep_alive, config.max_keepalive));
        }
        let limit = config.message_size_limit;
        if let Some(will) = c.will.as_ref().filter(|w| limit != 0 && w.payload.len() > limit) {
            // As Mosquitto 2.0, before the credentials: a will that could never be published
            // (message_size_limit applies to every PUBLISH) is refused now, not dropped later.
            return Some((
                ConnectReturnCode::NotAuthorized,
                format!("the will's payload of {} bytes is over message_size_limit {limit}", will.payload.len()),
            ));
        }
        let auth = self.shared.auth();
        let checked = match &self.identity {
            Some(identity) if identity.as_username => auth.check_identified(&c.client_id),
            _ => auth.check_connect(&c.client_id, c.username.as_deref(), c.password.as_deref()),
        };
        checked.err().map(|r| (r.code, r.reason))
    }

    /// The user name the session acts as: the transport's identity with
    /// `use_identity_as_username`, otherwise the one in CONNECT.
    fn effective_username(&self, c: &Connect) -> Option<String> {
        match &self.identity {
            Some(identity) if identity.as_username => Some(identity.name.clone()),
            _ => c.username.clone(),
        }
    }

    async fn accept(&mut self, c: Connect) -> Result<bool, Close> {
        if let Some((code, reason)) = self.refusal(&c) {
            let id = if c.client_id.is_empty() { "<empty>" } else { &c.client_id };
            let user = c.username.as_ref().map(|u| format!(" (user {u:?})")).unwrap_or_default();
            self.log(
                LogType::Notice,
                format_args!("Client {id}{user} from {} refused with CONNACK {}: {reason}.", self.peer, code as u8),
            );
            self.refuse(code).await;
            return Ok(false);
        }
        let client_id: Arc<str> = if c.client_id.is_empty() {
            generate_client_id(&self.shared.config.auto_id_prefix).into()
        } else {
            c.client_id.as_str().into()
        };
        let username = self.effective_username(&c);
        let login = Login {
            client_id: &client_id,
            username: username.as_deref(),
            clean_session: c.clean_session,
            v311: c.protocol == Protocol::V311,
            will: c.will.as_ref(),
        };
        let (attached, client_id, shared_name) = {
            let mut router = self.shared.router();
            let attached = router.connect(login, self.link.clone());
            // The session's copies of the id and user name, so that one allocation serves both.
            let session = router.session_mut(&client_id);
            let shared_name =
                session.as_ref().map_or_else(|| username.as_deref().map(Arc::from), |s| s.username.clone());
            let shared_id = session.map_or(client_id, |s| s.client_id.clone());
            (attached, shared_id, shared_name)
        };
        Stats::add(&self.shared.stats.connections, 1);
        if attached.took_over {
            self.log(
                LogType::Information,
                format_args!("Client {client_id} already connected, closing old connection."),
            );
            self.will_published(&client_id, attached.old_will);
        }
        if self.shared.log.connection_messages {
            let user = username.as_ref().map(|u| format!(", u'{u}'")).unwrap_or_default();
            self.log(
                LogType::Notice,
                format_args!(
                    "New client connected from {} as {client_id} (p{}, c{}, k{}{user}).",
                    self.peer,
                    if c.protocol == Protocol::V31 { 1 } else { 2 },
                    u8::from(c.clean_session),
                    c.keep_alive
                ),
            );
        }
        self.client_id = Some(client_id);
        self.username = shared_name;
        if c.keep_alive > 0 {
            // [MQTT-3.1.2-24]: closed after one and a half keepalives without a packet.
            let limit = Duration::from_millis(u64::from(c.keep_alive) * 1500);
            self.shared.keepalive.watch(&self.link.wake, limit);
        }
        Ok(true)
    }
}

/// `auto-` and 32 hex digits, as Mosquitto names clients that sent an empty id.
fn generate_client_id(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = std::collections::hash_map::RandomState::new();
    let mut id = prefix.to_owned();
    for _ in 0..2 {
        let mut h = state.build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        let _ = write!(id, "{:016X}", h.finish());
    }
    id
}
