//! Packets from a connected client: PUBLISH and its acknowledgements, SUBSCRIBE,
//! UNSUBSCRIBE, PINGREQ and DISCONNECT. Anything else closes the connection with its rule.

use std::sync::Arc;

use arrayvec::ArrayVec;

use tokio::io::{AsyncRead, AsyncWrite};

use super::alias::Aliases;
use super::congestion::Congestion;
use super::{Close, Connection, Who, count_drops};
use crate::broker::held::Batch;
use crate::broker::session::{Message, Session, expiry};
use crate::broker::{Routed, Router, Stats};
use crate::codec::v5::{Property, PropertyId, ReasonCode};
use crate::codec::{Ack, Decoded, Packet, PacketId, Publish, QosPid, Subscribe, decode};
use crate::log::LogType;

/// Packets decoded at a time, before the router is locked for them (72 bytes each on the stack).
const DECODE_AHEAD: usize = 32;

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Handles every whole packet at the start of `buf`, stopping early while subscribers are
    /// congested; returns how many bytes it used.
    ///
    /// The packets are decoded [`DECODE_AHEAD`] at a time before the router is locked, and
    /// handled under one lock: on two cores, decoding the rest of a read under the lock its
    /// first PUBLISH took kept every other connection waiting for it (topic validation is a
    /// tenth of the fan-in's profile), and a read of a thousand PUBLISHes held it for all of
    /// them. Decoded on the stack: a vector per read cost the QoS 2 fan-in 5 % on one core.
    pub(super) fn drain_packets(&mut self, buf: &[u8]) -> Result<usize, Close> {
        let mut used = 0;
        let shared = Arc::clone(&self.shared);
        let mut batch = shared.batch();
        loop {
            let mut decoded = ArrayVec::<(Packet, usize), DECODE_AHEAD>::new();
            let mut end = used;
            let mut failed = None;
            while !decoded.is_full() {
                match decode(&buf[end..], self.shared.config.packet_size_limit(), self.protocol) {
                    Ok(Decoded::Packet(packet, len)) => {
                        end += len;
                        decoded.push((packet, len));
                    }
                    Ok(Decoded::Incomplete) => break,
                    Err(e) => {
                        failed = Some(Close::Protocol(e.to_string(), e.reason_code()));
                        break;
                    }
                }
            }
            let more = decoded.is_full();
            for (packet, len) in decoded {
                if self.congestion.is_some() {
                    // The rest waits in `buf` and is decoded again once there is room.
                    return Ok(used);
                }
                used += len;
                // Handling it may have queued an answer in the session's outbox. A PUBLISH's
                // own is written by this task (`answer`), or queued by the store, which wakes
                // the connection; what it delivers to this client wakes it too.
                self.check_outbox |= !matches!(packet, Packet::Publish(_));
                Stats::add(&self.shared.stats.messages_received, 1);
                self.handle(packet, &mut batch)?;
            }
            match failed {
                Some(close) if self.congestion.is_none() => return Err(close),
                Some(_) => return Ok(used),
                None if !more => return Ok(used),
                // Unlocked while the next ones are decoded; subscribers woken meanwhile.
                None => batch.release(),
            }
        }
    }

    fn handle(&mut self, packet: Packet, batch: &mut Batch<'_>) -> Result<(), Close> {
        let id = self.id();
        let shared = &*self.shared;
        if !matches!(
            packet,
            Packet::Publish(_)
                | Packet::PubAck(_)
                | Packet::PubRec(_)
                | Packet::PubRel(_)
                | Packet::PubComp(_)
                | Packet::PingReq
        ) {
            batch.release();
        }
        match packet {
            Packet::Publish(p) => self.publish(p, batch)?,
            Packet::Subscribe(mut s) => {
                // The granted QoS is at most `max_qos` (MQTT 5.0 3.2.2.3.4; Mosquitto does the
                // same for 3.1.1 clients).
                let max = shared.config.max_qos;
                for (filter, options) in &mut s.filters {
                    options.qos = options.qos.min(max);
                    if let Some(mount) = self.mount() {
                        *filter = mount.filter(filter).map_err(|e| mount_failed(&e))?;
                    }
                }
                self.subscribe(&s);
            }
            Packet::Unsubscribe(mut u) => {
                if let Some(mount) = self.mount() {
                    for filter in &mut u.filters {
                        *filter = mount.filter(filter).map_err(|e| mount_failed(&e))?;
                    }
                }
                shared.router().unsubscribe(&id, &u);
                for filter in &u.filters {
                    self.log(LogType::Unsubscribe, format_args!("{id} {filter}"));
                }
            }
            Packet::PubAck(Ack { pid, .. }) => {
                let expected = with_session(batch, &id, |s| s.on_puback(pid));
                self.acknowledged("PUBACK", pid, expected, batch);
            }
            Packet::PubRec(Ack { pid, reason, .. }) => {
                // MQTT 5.0: a PUBREC with an error ends the exchange; no PUBREL follows (4.3.3).
                let done = |s: &mut Session| if reason.is_error() { s.on_pubrec_error(pid) } else { s.on_pubrec(pid) };
                let expected = with_session(batch, &id, done);
                self.acknowledged("PUBREC", pid, expected, batch);
            }
            Packet::PubComp(Ack { pid, .. }) => {
                let expected = with_session(batch, &id, |s| s.on_pubcomp(pid));
                self.acknowledged("PUBCOMP", pid, expected, batch);
            }
            Packet::PubRel(Ack { pid, .. }) => {
                let router = batch.router();
                let known = router.session_mut(&id).is_some_and(|s| s.on_pubrel(pid));
                // MQTT 5.0 says when the id was unknown (3.7.2.1); 3.1.1 answers PUBCOMP alone.
                let reason = if known { ReasonCode::Success } else { ReasonCode::PacketIdentifierNotFound };
                self.answer(router, &id, Packet::PubComp(Ack::with_reason(pid, reason)));
            }
            Packet::PingReq => with_session(batch, &id, |s| s.send(Packet::PingResp)).unwrap_or(()),
            // The router discards the will [MQTT-3.1.2-10] when the session detaches, unless
            // an MQTT 5.0 client asks for it (0x04 Disconnect with Will Message).
            // MQTT 5.0: a Session Expiry Interval here replaces CONNECT's (3.14.2.2.2).
            Packet::Disconnect(d) => {
                if let Some(Property::SessionExpiryInterval(secs)) = d.properties.get(PropertyId::SessionExpiryInterval)
                    && let Err(why) = shared.router().set_disconnect_expiry(&id, self.link.id, *secs)
                {
                    return Err(Close::Protocol(why, ReasonCode::ProtocolError));
                }
                return Err(Close::Disconnect(d.reason));
            }
            Packet::Connect(_) => {
                return Err(Close::Protocol(
                    "[MQTT-3.1.0-2] a second CONNECT on one connection is a protocol violation".into(),
                    ReasonCode::ProtocolError,
                ));
            }
            Packet::Auth(_) => {
                return Err(Close::Protocol(
                    "[MQTT-4.12.0-7] AUTH without an Authentication Method in CONNECT".into(),
                    ReasonCode::ProtocolError,
                ));
            }
            other => {
                return Err(Close::Protocol(
                    format!("[MQTT-4.8.0-1] a client must not send {}, which only a server sends", other.packet_type()),
                    ReasonCode::ProtocolError,
                ));
            }
        }
        Ok(())
    }

    /// An acknowledgement for an id that was not waiting for one is ignored, as the
    /// specification allows, and noted in the debug log.
    /// Logged without the router's lock, which other connections may be waiting for.
    fn acknowledged(&self, what: &str, pid: PacketId, expected: Option<bool>, batch: &mut Batch<'_>) {
        if expected != Some(true) {
            batch.release();
            self.log(
                LogType::Debug,
                format_args!("Ignored {what} for unknown packet id {pid} from {}.", Who(self.client_id.as_deref())),
            );
        }
    }

    fn subscribe(&self, s: &Subscribe) {
        let id = self.id();
        let (routed, codes) = self.shared.router().subscribe(&id, s);
        count_drops(&self.shared, routed);
        for ((filter, options), code) in s.filters.iter().zip(codes) {
            if code.is_failure() {
                self.log(
                    LogType::Notice,
                    format_args!("Denied SUBSCRIBE from {id} to {filter}: the ACL gives no read access."),
                );
            } else {
                self.log(LogType::Subscribe, format_args!("{id} {} {filter}", options.qos as u8));
            }
        }
    }

    /// Puts the listener's mount point in front of the topic; after the alias is resolved, as
    /// an alias stands for the topic the client sees.
    fn mount_topic(&self, p: &mut Publish) -> Result<(), Close> {
        if let Some(mount) = self.mount() {
            p.topic = mount.name(&p.topic).map_err(|e| mount_failed(&e))?;
        }
        Ok(())
    }

    /// Routes a PUBLISH unless it is too large or the ACL denies it; either way its QoS flow
    /// completes, so the client does not send it again forever.
    /// The rules that close a connection for a PUBLISH (QoS above max_qos, a Subscription
    /// Identifier from a client, a bad alias, Receive Maximum, memory_limit), and the alias
    /// resolved; answers whether the message goes over memory_limit without closing. A
    /// bridge's local side is never closed for what its remote sends (the remote would send it
    /// again at each reconnect, for ever): over a limit, the message is refused instead.
    fn admit(&mut self, p: &mut Publish, batch: &mut Batch<'_>) -> Result<bool, Close> {
        let bridge = self.is_trusted();
        if p.qos() > self.shared.config.max_qos && !bridge {
            return Err(Close::Protocol(
                format!(
                    "[MQTT-3.2.2-11] PUBLISH at QoS {} is above the Maximum QoS {} of this broker (max_qos)",
                    p.qos() as u8,
                    self.shared.config.max_qos as u8
                ),
                ReasonCode::QosNotSupported,
            ));
        }
        if self.protocol.is_v5() {
            if p.properties.get(PropertyId::SubscriptionIdentifier).is_some() {
                return Err(Close::Protocol(
                    "[MQTT-3.3.4-6] a PUBLISH from a client must not contain a Subscription Identifier".into(),
                    ReasonCode::ProtocolError,
                ));
            }
            let max = self.shared.config.max_topic_alias;
            Aliases::resolve(&mut self.aliases, p, max).map_err(|(why, code)| Close::Protocol(why, code))?;
        }
        if bridge {
            return Ok(self.memory_exceeded(p.payload.len(), batch));
        }
        self.check_receive_maximum(p, batch)?;
        self.check_memory(p.payload.len(), batch)?;
        Ok(false)
    }

    fn publish(&mut self, mut p: Publish, batch: &mut Batch<'_>) -> Result<(), Close> {
        let over_memory = self.admit(&mut p, batch)?;
        self.mount_topic(&mut p)?;
        let (shared, id) = (&*self.shared, self.id());
        let stats = &shared.stats;
        Stats::add(&stats.publish_received, 1);
        Stats::add(&stats.publish_bytes_received, p.payload.len() as u64);
        let limit = shared.config.message_size_limit;
        let auth = shared.auth();
        let drop_reason = if over_memory {
            Some(("memory_limit reached".to_owned(), ReasonCode::QuotaExceeded))
        } else if limit != 0 && p.payload.len() > limit {
            Some((format!("{} bytes > message_size_limit {limit}", p.payload.len()), ReasonCode::PacketTooLarge))
        } else if !shared.config.retain_available && p.retain {
            Some((
                "retained messages are not available (retain_available false)".to_owned(),
                ReasonCode::RetainNotSupported,
            ))
        } else if !self.may_write(&auth, &p.topic) {
            Some(("the ACL gives no write access".to_owned(), ReasonCode::NotAuthorized))
        } else if !payload_format_holds(&p) {
            Some((
                "[MQTT-3.3.2.3.2] the Payload Format Indicator says UTF-8 but the payload is not".to_owned(),
                ReasonCode::PayloadFormatInvalid,
            ))
        } else {
            None
        };
        if let Some((reason, _)) = &drop_reason {
            // Logged without the router's lock, which other connections may be waiting for.
            batch.release();
            self.log(
                LogType::Notice,
                format_args!(
                    "Denied PUBLISH from {id} (d{}, q{}, r{}, '{}', ... ({} bytes)): {reason}.",
                    u8::from(p.dup),
                    p.qos() as u8,
                    u8::from(p.retain),
                    p.topic,
                    p.payload.len()
                ),
            );
            Stats::add(&stats.publish_dropped, 1);
        }
        let route = drop_reason.is_none();
        let refused = drop_reason.map(|(_, code)| code);
        let message = Message {
            topic: p.topic,
            payload: p.payload,
            qos: p.qos_pid.qos(),
            retain: p.retain,
            // The Message Expiry Interval counts from arrival (3.3.2.3.3).
            expires_at: expiry::deadline_now(&p.properties),
            properties: p.properties,
        };
        let router = batch.router();
        let from = Some((&*id, &self.link));
        let routed = match p.qos_pid {
            QosPid::AtMostOnce => route.then(|| router.publish_from(&message, from)),
            QosPid::AtLeastOnce(pid) => {
                let routed = route.then(|| router.publish_from(&message, from));
                let reason = ack_reason(refused, routed);
                self.answer(router, &id, Packet::PubAck(Ack::with_reason(pid, reason)));
                routed
            }
            QosPid::ExactlyOnce(pid) => {
                // An MQTT 5.0 PUBREC with an error ends the exchange (4.3.3): no PUBREL will
                // come, so the id is not kept (the client may use it again at once).
                let ended = self.protocol.is_v5() && refused.is_some();
                let first = !ended && router.session_mut(&id).is_some_and(|s| s.on_incoming_qos2(pid));
                let routed = (first && route).then(|| router.publish_from(&message, from));
                let reason = if first { ack_reason(refused, routed) } else { refused.unwrap_or_default() };
                self.answer(router, &id, Packet::PubRec(Ack::with_reason(pid, reason)));
                routed
            }
        };
        let congested = router.take_congested();
        if !congested.is_empty() {
            self.link.wake.set_paused(true);
            self.congestion = Some(Box::new(Congestion::new(congested)));
        }
        if let Some(routed) = routed {
            self.deliver_first |= routed.delivered > 0 && p.qos_pid != QosPid::AtMostOnce;
            count_drops(&self.shared, routed);
        }
        Ok(())
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// `memory_limit`: a PUBLISH whose payload would take what the broker holds over it is
    /// dropped, not acknowledged, and its client disconnected, as Mosquitto does when its
    /// allocator refuses; other clients carry on.
    fn check_memory(&self, bytes: usize, batch: &mut Batch<'_>) -> Result<(), Close> {
        if self.shared.config.memory_limit == 0 {
            return Ok(());
        }
        let memory = batch.router().session_mut(&self.id()).and_then(|s| s.memory());
        match memory {
            Some(memory) if memory.would_exceed(bytes) => {
                Stats::add(&self.shared.stats.publish_dropped, 1);
                Err(out_of_memory(memory, bytes))
            }
            _ => Ok(()),
        }
    }

    /// Whether a PUBLISH of `bytes` would take the broker over `memory_limit` (counted as
    /// dropped if so), for a connection that is not closed for it.
    fn memory_exceeded(&self, bytes: usize, batch: &mut Batch<'_>) -> bool {
        self.check_memory(bytes, batch).is_err()
    }

    /// Sends a PUBACK, PUBREC or PUBCOMP for the client's packet. With persistence it waits for
    /// the store ([`Router::acknowledge`]); without, it goes straight into this connection's
    /// write buffer, in the order of the packets it answers [MQTT-4.6.0-2, -3, -4]: no
    /// session lookup under the router's lock for it, and no lock to take it out again (on two
    /// cores four publishers took it once per read for their own acknowledgements).
    fn answer(&mut self, router: &mut Router, id: &Arc<str>, packet: Packet) {
        if router.holds_acknowledgements() {
            router.acknowledge(id, self.link.id, packet);
        } else if packet.encode(self.protocol, &mut self.wbuf).is_ok() {
            // (An acknowledgement built by the broker always encodes.)
            Stats::add(&self.shared.stats.messages_sent, 1);
        }
    }

    /// An MQTT 5.0 client may have at most the Receive Maximum of the CONNACK
    /// (`max_inflight_messages`) QoS 2 messages unfinished (PUBREC sent, PUBREL not come)
    /// [MQTT-3.3.4-7]; one more is answered with DISCONNECT 0x93 (QoS 1 is acknowledged at once).
    /// An MQTT 3.1.1 client cannot be told a limit, and 3.1.1 sets none: it may have as many
    /// unreleased ids as the packet id space holds (65535, the bound on what it costs here),
    /// each answered and delivered once. (Mosquitto 2.0.11 answers PUBREC past its
    /// `max_inflight_messages` and drops the message, so the client believes it delivered.)
    /// A resent id (DUP) never counts.
    fn check_receive_maximum(&self, p: &Publish, batch: &mut Batch<'_>) -> Result<(), Close> {
        let QosPid::ExactlyOnce(pid) = p.qos_pid else { return Ok(()) };
        if !self.protocol.is_v5() {
            return Ok(());
        }
        let max = match self.shared.config.max_inflight_messages {
            0 => usize::from(u16::MAX),
            n => n.min(usize::from(u16::MAX)),
        };
        let id = self.id();
        let (unfinished, resent) = batch.router().session_mut(&id).map_or((0, false), |s| s.incoming_qos2(pid));
        if unfinished >= max && !resent {
            let why = format!(
                "[MQTT-3.3.4-7] a QoS 2 PUBLISH over the Receive Maximum {max} (PUBREL not sent for {unfinished})"
            );
            return Err(Close::Protocol(why, ReasonCode::ReceiveMaximumExceeded));
        }
        Ok(())
    }
}

/// A topic that is no longer valid with the mount point in front (too long).
fn mount_failed(e: &crate::codec::TopicError) -> Close {
    Close::Protocol(format!("with the listener's mount_point: {e}"), ReasonCode::TopicNameInvalid)
}

/// A PUBLISH that would take the broker over `memory_limit` (session/budget.rs says what is
/// counted); an MQTT 5.0 client is told 0x97 Quota exceeded.
fn out_of_memory(memory: &crate::broker::session::Memory, bytes: usize) -> Close {
    Close::OutOfMemory(format!(
        "a PUBLISH of {bytes} payload bytes while {} are held would go over memory_limit {}",
        memory.held(),
        memory.limit()
    ))
}

fn ack_reason(refused: Option<ReasonCode>, routed: Option<Routed>) -> ReasonCode {
    match (refused, routed) {
        (Some(code), _) => code,
        (None, Some(r)) if r.delivered == 0 && r.dropped == 0 => ReasonCode::NoMatchingSubscribers,
        _ => ReasonCode::Success,
    }
}

/// A payload that says it is UTF-8 (Payload Format Indicator 1) must be [MQTT-3.3.2-4].
fn payload_format_holds(p: &Publish) -> bool {
    !matches!(p.properties.get(PropertyId::PayloadFormatIndicator), Some(Property::PayloadFormatIndicator(true)))
        || std::str::from_utf8(&p.payload).is_ok()
}

fn with_session<T>(batch: &mut Batch<'_>, id: &str, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
    batch.router().session_mut(id).map(f)
}
