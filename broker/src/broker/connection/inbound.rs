//! Packets from a connected client: PUBLISH and its acknowledgements, SUBSCRIBE,
//! UNSUBSCRIBE, PINGREQ and DISCONNECT. Anything else closes the connection with its rule.

use tokio::io::{AsyncRead, AsyncWrite};

use super::congestion::Congestion;
use super::{Close, Connection, Who, count_drops};
use crate::broker::session::{Message, Session};
use crate::broker::{Shared, Stats};
use crate::codec::{Decoded, Packet, PacketId, Publish, QosPid, SubAckCode, Subscribe, decode};
use crate::log::LogType;

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Handles every whole packet at the start of `buf`, stopping early while subscribers are
    /// congested; returns how many bytes it used.
    pub(super) fn drain_packets(&mut self, buf: &[u8]) -> Result<usize, Close> {
        let mut used = 0;
        while self.congestion.is_none() {
            match decode(&buf[used..], self.shared.config.packet_size_limit()) {
                Ok(Decoded::Packet(packet, len)) => {
                    used += len;
                    // Handling it may have queued an answer.
                    self.check_outbox = true;
                    Stats::add(&self.shared.stats.messages_received, 1);
                    self.handle(packet)?;
                }
                Ok(Decoded::Incomplete) => break,
                Err(e) => return Err(Close::Protocol(e.to_string())),
            }
        }
        Ok(used)
    }

    fn handle(&mut self, packet: Packet) -> Result<(), Close> {
        let id = self.id();
        let shared = &*self.shared;
        match packet {
            Packet::Publish(p) => self.publish(p),
            Packet::Subscribe(s) => self.subscribe(&s),
            Packet::Unsubscribe(u) => {
                shared.router().unsubscribe(&id, u.pid, &u.filters);
                for filter in &u.filters {
                    self.log(LogType::Unsubscribe, format_args!("{id} {filter}"));
                }
            }
            Packet::PubAck(pid) => self.acknowledged("PUBACK", pid, with_session(shared, &id, |s| s.on_puback(pid))),
            Packet::PubRec(pid) => self.acknowledged("PUBREC", pid, with_session(shared, &id, |s| s.on_pubrec(pid))),
            Packet::PubComp(pid) => self.acknowledged("PUBCOMP", pid, with_session(shared, &id, |s| s.on_pubcomp(pid))),
            Packet::PubRel(pid) => {
                let mut router = shared.router();
                if let Some(s) = router.session_mut(&id) {
                    s.on_pubrel(pid);
                }
                router.acknowledge(&id, self.link.id, Packet::PubComp(pid));
            }
            Packet::PingReq => with_session(shared, &id, |s| s.send(Packet::PingResp)).unwrap_or(()),
            // The router discards the will [MQTT-3.1.2-10] when the session detaches.
            Packet::Disconnect => return Err(Close::Disconnect),
            Packet::Connect(_) => {
                return Err(Close::Protocol(
                    "[MQTT-3.1.0-2] a second CONNECT on one connection is a protocol violation".into(),
                ));
            }
            other => {
                return Err(Close::Protocol(format!(
                    "[MQTT-4.8.0-1] a client must not send {}, which only a server sends",
                    other.packet_type()
                )));
            }
        }
        Ok(())
    }

    /// An acknowledgement for an id that was not waiting for one is ignored, as the
    /// specification allows, and noted in the debug log.
    fn acknowledged(&self, what: &str, pid: PacketId, expected: Option<bool>) {
        if expected != Some(true) {
            self.log(
                LogType::Debug,
                format_args!("Ignored {what} for unknown packet id {pid} from {}.", Who(self.client_id.as_deref())),
            );
        }
    }

    fn subscribe(&self, s: &Subscribe) {
        let id = self.id();
        let (routed, codes) = self.shared.router().subscribe(&id, s.pid, &s.filters);
        count_drops(&self.shared, routed);
        for ((filter, qos), code) in s.filters.iter().zip(codes) {
            if code == SubAckCode::Failure {
                self.log(
                    LogType::Notice,
                    format_args!("Denied SUBSCRIBE from {id} to {filter}: the ACL gives no read access."),
                );
            } else {
                self.log(LogType::Subscribe, format_args!("{id} {} {filter}", *qos as u8));
            }
        }
    }

    /// Routes a PUBLISH unless it is too large or the ACL denies it; either way its QoS flow
    /// completes, so the client does not send it again forever.
    fn publish(&mut self, p: Publish) {
        let (shared, id) = (&*self.shared, self.id());
        let stats = &shared.stats;
        Stats::add(&stats.publish_received, 1);
        Stats::add(&stats.publish_bytes_received, p.payload.len() as u64);
        let limit = shared.config.message_size_limit;
        let auth = shared.auth();
        let drop_reason = if limit != 0 && p.payload.len() > limit {
            Some(format!("{} bytes > message_size_limit {limit}", p.payload.len()))
        } else if !shared.config.retain_available && p.retain {
            Some("retained messages are not available (retain_available false)".to_owned())
        } else if !self.may_write(&auth, &p.topic) {
            Some("the ACL gives no write access".to_owned())
        } else {
            None
        };
        if let Some(reason) = &drop_reason {
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
        let message = Message { topic: p.topic, payload: p.payload, qos: p.qos_pid.qos(), retain: p.retain };
        let mut router = shared.router();
        let from = Some(&self.link);
        let routed = match p.qos_pid {
            QosPid::AtMostOnce => route.then(|| router.publish_from(&message, from)),
            QosPid::AtLeastOnce(pid) => {
                let routed = route.then(|| router.publish_from(&message, from));
                router.acknowledge(&id, self.link.id, Packet::PubAck(pid));
                routed
            }
            QosPid::ExactlyOnce(pid) => {
                let first = router.session_mut(&id).is_some_and(|s| s.on_incoming_qos2(pid));
                let routed = (first && route).then(|| router.publish_from(&message, from));
                router.acknowledge(&id, self.link.id, Packet::PubRec(pid));
                routed
            }
        };
        let congested = router.take_congested();
        drop(router);
        if !congested.is_empty() {
            self.link.wake.set_paused(true);
            self.congestion = Some(Box::new(Congestion::new(congested)));
        }
        if let Some(routed) = routed {
            self.deliver_first |= routed.delivered > 0 && p.qos_pid != QosPid::AtMostOnce;
            count_drops(shared, routed);
        }
    }
}

fn with_session<T>(shared: &Shared, id: &str, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
    shared.router().session_mut(id).map(f)
}
