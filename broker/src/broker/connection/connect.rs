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
use crate::auth::AclScope;
use crate::broker::{Login, Stats};
use crate::codec::v5::{Properties, Property, PropertyId, ReasonCode};
use crate::codec::{ConnAck, Connect, ConnectReturnCode, DecodeError, Packet, Protocol, QoS};
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
                    return Err(Close::Protocol(
                        format!("[MQTT-3.1.0-1] the first packet must be CONNECT, got {}", other.packet_type()),
                        ReasonCode::ProtocolError,
                    ));
                }
                Ok(None) => {}
                Err(DecodeError::UnsupportedProtocolLevel { level }) => {
                    self.log(LogType::Information, format_args!(
                        "Client <unknown> from {} refused: [MQTT-3.1.2-2] unsupported protocol level {level} (this broker speaks MQTT 3.1, 3.1.1 and 5.0).",
                        self.peer
                    ));
                    self.refuse(ReasonCode::UnsupportedProtocolVersion).await;
                    return Ok(false);
                }
                Err(e) => return Err(Close::Protocol(e.to_string(), e.reason_code())),
            }
            // `biased`: bytes that have arrived count before a timer that is also due.
            tokio::select! {
                biased;
                r = self.read_more() => r?,
                () = sleep_until(deadline) => return Err(Close::Protocol("no CONNECT within 10 seconds".into(), ReasonCode::MaximumConnectTime)),
                _ = shutdown.changed() => return Err(Close::Shutdown),
            }
        };
        self.accept(*connect).await
    }

    /// Answers CONNACK with an error (a 3.1.1 client gets the nearest return code) and closes.
    async fn refuse(&mut self, reason: ReasonCode) {
        let packet = Packet::ConnAck(ConnAck { session_present: false, reason, properties: Properties::default() });
        let mut buf = BytesMut::new();
        let _ = packet.encode(self.protocol, &mut buf);
        // The client may already be gone; there is nothing more to do for it either way.
        let _ = self.stream.write_all(&buf).await;
        let _ = self.stream.shutdown().await;
        Stats::add(&self.shared.stats.bytes_sent, buf.len() as u64);
    }

    /// Why a CONNECT is refused, if it is: protocol rules first, then authentication.
    fn refusal(&self, c: &Connect) -> Option<(ReasonCode, String)> {
        let config = &self.shared.config;
        let auth = self.shared.auth();
        let scope = self.scope(&auth);
        let v5 = c.protocol.is_v5();
        let rejected = |reason: String| Some((ReasonCode::ClientIdentifierNotValid, reason));
        if c.client_id.is_empty() && !c.clean_session && !v5 {
            return rejected("[MQTT-3.1.3-8] an empty client id needs clean session".into());
        }
        if c.client_id.is_empty() && (c.protocol == Protocol::V31 || !auth.allows_empty_client_id(scope)) {
            return rejected("an empty client id is not allowed here".into());
        }
        if c.protocol == Protocol::V31 && c.client_id.len() > 23 {
            return rejected("MQTT 3.1 client ids are at most 23 characters".into());
        }
        if c.keep_alive > config.max_keepalive && !v5 {
            return rejected(format!("keepalive {} is above max_keepalive {}", c.keep_alive, config.max_keepalive));
        }
        let limit = config.message_size_limit;
        if let Some(will) = c.will.as_ref().filter(|w| limit != 0 && w.payload.len() > limit) {
            // As Mosquitto 2.0, before the credentials: a will that could never be published
            // (message_size_limit applies to every PUBLISH) is refused now, not dropped later.
            return Some((
                ReasonCode::NotAuthorized,
                format!("the will's payload of {} bytes is over message_size_limit {limit}", will.payload.len()),
            ));
        }
        if let Some(Property::AuthenticationMethod(method)) = c.properties.get(PropertyId::AuthenticationMethod) {
            // [MQTT-4.12.0-1]: no enhanced authentication is configured.
            return Some((
                ReasonCode::BadAuthenticationMethod,
                format!("authentication method {method:?} is not supported (no enhanced authentication)"),
            ));
        }
        if self.identity.as_ref().is_some_and(|i| i.as_username && i.name.is_empty()) {
            // Mosquitto 2.0.11 answers "bad user name or password" (4; MQTT 5: 0x86) here.
            return Some((
                ReasonCode::BadUserNameOrPassword,
                "the listener takes the user name from the client certificate (use_identity_as_username / use_subject_as_username) and the client sent none".into(),
            ));
        }
        if scope != AclScope::Trusted && self.username_is_client_id() && self.effective_username(c).is_none() {
            // As Mosquitto 2.0.11: CONNACK 5 (MQTT 5: 0x87), after the client id checks.
            return Some((
                ReasonCode::NotAuthorized,
                "use_username_as_clientid is on and the client gave no user name".into(),
            ));
        }
        let checked = match &self.identity {
            // The broker's own connection (a bridge): nothing to check, as in Mosquitto.
            Some(identity) if identity.trusted => Ok(()),
            Some(identity) if identity.as_username => auth.check_identified(&c.client_id),
            _ => auth.check_connect(scope, &c.client_id, c.username.as_deref(), c.password.as_deref()),
        };
        checked.err().map(|r| (r.code.reason(), r.reason))
    }

    /// `use_username_as_clientid` on this connection's listener (never for a bridge).
    fn username_is_client_id(&self) -> bool {
        self.rules.as_ref().is_some_and(|r| r.use_username_as_clientid)
            && !self.identity.as_ref().is_some_and(|i| i.trusted)
    }

    /// The user name the session acts as: the transport's identity with
    /// `use_identity_as_username`, otherwise the one in CONNECT.
    fn effective_username(&self, c: &Connect) -> Option<String> {
        match &self.identity {
            Some(identity) if identity.as_username => Some(identity.name.clone()),
            _ => c.username.clone(),
        }
    }

    async fn accept(&mut self, mut c: Connect) -> Result<bool, Close> {
        self.protocol = c.protocol;
        if let Some((code, reason)) = self.refusal(&c) {
            let id = if c.client_id.is_empty() { "<empty>" } else { &c.client_id };
            let user = c.username.as_ref().map(|u| format!(" (user {u:?})")).unwrap_or_default();
            self.log(
                LogType::Notice,
                format_args!(
                    "Client {id}{user} from {} refused with CONNACK {}: {reason}.",
                    self.peer,
                    if c.protocol.is_v5() { code as u8 } else { ConnectReturnCode::from_reason(code) as u8 }
                ),
            );
            self.refuse(code).await;
            return Ok(false);
        }
        let scope = self.scope(&self.shared.auth());
        let username = self.effective_username(&c);
        let client_id: Arc<str> = if let Some(user) = username.as_deref().filter(|_| self.username_is_client_id()) {
            // use_username_as_clientid: one session per user, whatever id the client sent.
            user.into()
        } else if c.client_id.is_empty() {
            generate_client_id(self.shared.auth().auto_id_prefix(scope)).into()
        } else {
            c.client_id.as_str().into()
        };
        if let (Some(mount), Some(will)) = (self.mount(), c.will.as_mut()) {
            // The will goes out on the mounted topic, as the client's PUBLISHes do.
            will.topic = mount.name(&will.topic).map_err(|e| {
                Close::Protocol(
                    format!("the will topic with the listener's mount_point: {e}"),
                    ReasonCode::TopicNameInvalid,
                )
            })?;
        }
        let keep_alive = self.keep_alive(&c);
        let connack = self.connack_properties(&c, &client_id, keep_alive);
        let login = Login {
            client_id: &client_id,
            username: username.as_deref(),
            clean_session: c.clean_session,
            protocol: c.protocol,
            will: c.will.as_ref(),
            connect_properties: &self.session_view(&c.properties),
            connack_properties: connack,
        };
        let (attached, client_id, shared_name) = {
            let mut router = self.shared.router();
            let attached = router.connect_scoped(login, self.link.clone(), scope);
            // The session's copies of the id and user name, so that one allocation serves both.
            let mut session = router.session_mut(&client_id);
            if let Some(s) = session.as_mut() {
                // Deliveries lose the mount point as they are written (before any alias).
                s.mount = self.mount().cloned();
                s.bridge = c.bridge;
            }
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
                    "New client connected from {} as {client_id} (p{}, c{}, k{keep_alive}{user}).",
                    self.peer,
                    match c.protocol {
                        Protocol::V31 => 1,
                        Protocol::V311 => 2,
                        Protocol::V5 => 5,
                    },
                    u8::from(c.clean_session),
                ),
            );
        }
        self.client_id = Some(client_id);
        self.username = shared_name;
        if keep_alive > 0 {
            // [MQTT-3.1.2-24]: closed after one and a half keepalives without a packet.
            let limit = Duration::from_millis(u64::from(keep_alive) * 1500);
            self.shared.keepalive.watch(&self.link.wake, limit);
        }
        Ok(true)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// The keep alive in force: the client's, or for an MQTT 5.0 client asking for more than
    /// `max_keepalive`, that (sent as Server Keep Alive [MQTT-3.2.2-21]).
    /// A keep alive of 0 (none) counts as longer than any: as Mosquitto 2.0.11 does, the client
    /// is served and told `max_keepalive` (65535 s by default), so a silent client is found.
    fn keep_alive(&self, c: &Connect) -> u16 {
        let max = self.shared.config.max_keepalive;
        if c.protocol.is_v5() && (c.keep_alive > max || c.keep_alive == 0) { max } else { c.keep_alive }
    }

    /// The CONNECT properties the session acts on: without the client's Topic Alias Maximum
    /// unless `assign_topic_aliases` is on (Config says why).
    fn session_view(&self, properties: &Properties) -> Properties {
        if self.shared.config.assign_topic_aliases || properties.get(PropertyId::TopicAliasMaximum).is_none() {
            return properties.clone();
        }
        let kept = properties.iter().filter(|p| p.id() != PropertyId::TopicAliasMaximum).cloned().collect();
        Properties::new(crate::codec::v5::PacketKind::Connect, kept).unwrap_or_default()
    }

    /// What an MQTT 5.0 CONNACK tells the client (3.2.2.3): only where the broker differs
    /// from the protocol's defaults, as Mosquitto does.
    fn connack_properties(&self, c: &Connect, client_id: &str, keep_alive: u16) -> Properties {
        if !c.protocol.is_v5() {
            return Properties::default();
        }
        let config = &self.shared.config;
        let mut p = Vec::new();
        if c.client_id.is_empty() {
            p.push(Property::AssignedClientIdentifier(client_id.to_owned()));
        }
        if keep_alive != c.keep_alive {
            p.push(Property::ServerKeepAlive(keep_alive));
        }
        // `persistent_client_expiration` shortens a longer session: the client is told
        // (3.2.2.3.2).
        let asked = crate::broker::session::expiry::requested(c.protocol, c.clean_session, &c.properties);
        if let Some(cap) = config.persistent_client_expiration
            && crate::broker::session::expiry::lifetime(asked, Some(cap))
                != crate::broker::session::expiry::lifetime(asked, None)
        {
            p.push(Property::SessionExpiryInterval(u32::try_from(cap.as_secs()).unwrap_or(u32::MAX - 1)));
        }
        if let Some(max) = u16::try_from(config.max_inflight_messages).ok().and_then(std::num::NonZeroU16::new) {
            p.push(Property::ReceiveMaximum(max));
        }
        if config.max_qos < QoS::ExactlyOnce {
            p.push(Property::MaximumQos(config.max_qos));
        }
        if !config.retain_available {
            p.push(Property::RetainAvailable(false));
        }
        if let Some(max) = u32::try_from(config.max_packet_size).ok().and_then(std::num::NonZeroU32::new) {
            p.push(Property::MaximumPacketSize(max));
        }
        if config.max_topic_alias > 0 {
            p.push(Property::TopicAliasMaximum(config.max_topic_alias));
        }
        Properties::new(crate::codec::v5::PacketKind::ConnAck, p).unwrap_or_default()
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
