//! One bridge's task: connect to the remote (each `address` in turn), open the bridge's own
//! session on this broker over an in-process pipe, relay until either side ends, then wait
//! `restart_timeout` and start again (`start_type`: at once, lazily, or only once).
//!
//! The local side is a real MQTT 5 connection served by this broker's connection task, so the
//! bridge's messages are held, persisted and resent by the same session code as any client's:
//! while the remote is away the local connection is closed and the session (kept unless
//! `local_cleansession true`) queues what the remote should get; nothing is acknowledged to a
//! publisher that the broker does not hold.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::DuplexStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::packets::{local_connect, local_subscribe, remote_subscribes, remote_unsubscribes};
use super::peer::{Peer, PeerError};
use super::relay::{Moved, Out, Relay};
use super::remote::{Connector, RemoteIo};
use crate::broker::Shared;
use crate::broker::connection::{self, Ending};
use crate::broker::session::Message;
use crate::broker::transport::Identity;
use crate::codec::v5::ReasonCode;
use crate::codec::{Disconnect, Packet, PacketId, Protocol, QoS, SubAck, TopicName};
use crate::config::bridge::{BridgeConfig, StartType};
use crate::log::LogType;

/// How long the remote and the local broker have to answer CONNECT.
pub(super) const CONNACK_TIMEOUT: Duration = Duration::from_secs(20);
/// The in-process pipe's buffer each way.
const PIPE_BYTES: usize = 64 * 1024;
/// How often a lazy bridge counts what waits for the remote.
const LAZY_CHECK: Duration = Duration::from_secs(1);

pub(super) struct Bridge {
    pub shared: Arc<Shared>,
    pub config: BridgeConfig,
    pub connector: Connector,
    pub stop: watch::Receiver<bool>,
    /// Held while running: shutdown waits for the bridge.
    pub done: mpsc::Sender<()>,
    /// The address to try first next time.
    pub next_address: usize,
    /// Failed attempts in a row, for the backoff.
    pub failures: u32,
    /// Still setting the bridge bit: cleared when the remote refuses it with CONNACK 1.
    pub private: bool,
    /// How many QoS 1/2 messages the remote takes at once (from its CONNACK): the local
    /// session's Receive Maximum, so the local broker never sends the relay more.
    pub window: u16,
}

/// How a connected period ended.
enum Ended {
    Stopped,
    Idle,
    Lost(String),
}

impl Bridge {
    pub(super) async fn run(mut self) {
        if !self.config.local_clean()
            && let Err(e) = self.prime_local_session().await
        {
            self.log(
                LogType::Error,
                format_args!("Error: bridge {}: its session on this broker: {e}", self.config.name),
            );
        }
        loop {
            if self.stopped() {
                return;
            }
            if self.config.start_type == StartType::Lazy && !self.wait_for_threshold().await {
                return;
            }
            // Shutdown does not wait for a connect attempt (up to 30 s per address).
            let mut stop = self.stop.clone();
            let attempt = tokio::select! {
                attempt = self.connect_remote() => attempt,
                _ = stop.changed() => return,
            };
            match attempt {
                Ok((remote, address)) => {
                    self.failures = 0;
                    match self.serve(remote, &address).await {
                        Ended::Stopped => return,
                        Ended::Idle => {
                            self.log(
                                LogType::Notice,
                                format_args!("Bridge {} stopped: idle_timeout.", self.config.name),
                            );
                            continue;
                        }
                        Ended::Lost(why) => {
                            self.log(
                                LogType::Notice,
                                format_args!("Bridge {}: connection to {address} lost: {why}.", self.config.name),
                            );
                            self.set_error(why);
                        }
                    }
                }
                Err(why) => {
                    self.failures += 1;
                    self.set_error(why);
                }
            }
            if self.config.start_type == StartType::Once {
                self.log(
                    LogType::Notice,
                    format_args!("Bridge {}: start_type once, not reconnecting.", self.config.name),
                );
                return;
            }
            let delay = self.backoff();
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = self.stop.changed() => return,
            }
        }
    }

    /// Creates the local session and its subscriptions at startup, so that what is published
    /// before the remote is first reached waits for it.
    async fn prime_local_session(&mut self) -> Result<(), PeerError> {
        let mut local = self.open_local().await?;
        let mut relay = Relay::new(Vec::new(), true, Protocol::V5);
        if let Some(subscribe) = local_subscribe(&self.config, &mut relay, false) {
            local.send(&[subscribe]).await?;
            while !matches!(local.recv().await?, Packet::SubAck(_)) {}
        }
        local.close(Some(Packet::Disconnect(Disconnect::with_reason(ReasonCode::Success)))).await;
        Ok(())
    }

    /// Connects the bridge's session on this broker (a fresh connection task over a pipe).
    async fn open_local(&self) -> Result<Peer<DuplexStream>, PeerError> {
        let (ours, theirs) = tokio::io::duplex(PIPE_BYTES);
        let peer = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let identity = Identity::bridge(&self.config.name);
        let task = connection::serve(self.shared.clone(), theirs, peer, self.stop.clone(), Some(identity), None);
        tokio::spawn(task.ending(Ending { open: None, done: self.done.clone() }));
        let mut local = Peer::new(ours, Protocol::V5);
        let ack = local
            .handshake(local_connect(&self.config, self.config.local_clean(), self.window), CONNACK_TIMEOUT)
            .await?;
        if ack.reason.is_error() {
            return Err(PeerError::Malformed(format!(
                "this broker refused the bridge's session: {}",
                ack.reason.name()
            )));
        }
        Ok(local)
    }

    /// Relays between the remote and a fresh local session until one ends or the broker stops.
    async fn serve(&mut self, mut remote: Peer<Box<dyn RemoteIo>>, address: &str) -> Ended {
        let mut local = match self.open_local().await {
            Ok(local) => local,
            Err(e) => return Ended::Lost(format!("its session on this broker: {e}")),
        };
        let mut relay = Relay::new(self.config.topics.clone(), self.config.outgoing_retain, self.config.protocol)
            .with_max_out(self.config.max_packet_size);
        // In Mosquitto's order: the state, the UNSUBSCRIBEs, the SUBSCRIBEs.
        let mut opening = Vec::new();
        let b = &self.config;
        if b.notifications
            && !b.notifications_local_only
            && let Ok(topic) = TopicName::new(b.state_topic())
        {
            // Retained unless bridge_outgoing_retain false, as Mosquitto sends it.
            opening.push(relay.own_publish(topic, Bytes::from_static(b"1"), b.outgoing_retain));
        }
        opening.extend(remote_unsubscribes(b, &mut relay));
        opening.extend(remote_subscribes(b, &mut relay));
        let asked: Vec<(PacketId, String)> = opening
            .iter()
            .filter_map(|p| match p {
                Packet::Subscribe(s) => {
                    Some((s.pid, s.filters.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(" ")))
                }
                _ => None,
            })
            .collect();
        if let Err(e) = remote.send(&opening).await {
            return Ended::Lost(e.to_string());
        }
        if let Some(subscribe) = local_subscribe(&self.config, &mut relay, true)
            && let Err(e) = local.send(&[subscribe]).await
        {
            return Ended::Lost(format!("its session on this broker: {e}"));
        }
        self.log(LogType::Notice, format_args!("Bridge {} connected to {address}.", self.config.name));
        self.set_state(true);
        let mut reported = Moved::default();
        let ended = self.relay(&mut local, &mut remote, &mut relay, &asked, &mut reported).await;
        if relay.in_flight() > 0 && matches!(ended, Ended::Lost(_)) {
            self.log(
                LogType::Notice,
                format_args!(
                    "Bridge {}: {} messages in flight are sent again on the next connection.",
                    self.config.name,
                    relay.in_flight()
                ),
            );
        }
        self.report(&relay, &mut reported);
        self.set_state(false);
        // As Mosquitto, the remote gets no DISCONNECT, even at shutdown: its will publishes the
        // state 0 there.
        remote.close(None).await;
        local.close(Some(Packet::Disconnect(Disconnect::with_reason(ReasonCode::Success)))).await;
        ended
    }

    async fn relay(
        &mut self,
        local: &mut Peer<DuplexStream>,
        remote: &mut Peer<Box<dyn RemoteIo>>,
        relay: &mut Relay,
        asked: &[(PacketId, String)],
        reported: &mut Moved,
    ) -> Ended {
        let keepalive = Duration::from_secs(u64::from(self.config.keepalive));
        let mut ping = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // When the PINGRESP to the last PINGREQ is due: half a keepalive later, at least 1 s.
        let mut pong_due: Option<Instant> = None;
        let pong_within = (keepalive / 2).max(Duration::from_secs(1));
        let idle = (self.config.start_type == StartType::Lazy)
            .then(|| Duration::from_secs(u64::from(self.config.idle_timeout)));
        let mut last_moved = Instant::now();
        let mut out = Vec::new();
        loop {
            let idle_at = idle.map_or_else(far_future, |d| last_moved + d);
            let moved_before = relay.moved;
            tokio::select! {
                p = local.recv() => match p {
                    Ok(p) => relay.on_local(p, &mut out),
                    Err(e) => return Ended::Lost(format!("its session on this broker ended: {e}")),
                },
                p = remote.recv() => match p {
                    Ok(Packet::PingResp) => pong_due = None,
                    Ok(Packet::SubAck(ack)) => self.check_suback(asked, &ack),
                    Ok(Packet::Disconnect(d)) => return Ended::Lost(format!("the remote sent DISCONNECT ({})", d.reason.name())),
                    Ok(p) => relay.on_remote(p, &mut out),
                    Err(PeerError::Closed) => return Ended::Lost("the remote closed the connection".into()),
                    Err(e) => return Ended::Lost(format!("from the remote: {e}")),
                },
                _ = ping.tick() => {
                    pong_due.get_or_insert(Instant::now() + pong_within);
                    out.push(Out::Remote(Packet::PingReq));
                }
                () = tokio::time::sleep_until(pong_due.unwrap_or_else(far_future)) => {
                    return Ended::Lost(format!("no PINGRESP within {}s of a PINGREQ (keepalive_interval {}s)", pong_within.as_secs(), keepalive.as_secs()));
                }
                () = tokio::time::sleep_until(idle_at) => return Ended::Idle,
                _ = self.stop.changed() => return Ended::Stopped,
            }
            if relay.moved != moved_before {
                last_moved = Instant::now();
                // The app's counts, live (an uncontended lock per batch of packets).
                self.report(relay, reported);
            }
            let (to_local, to_remote): (Vec<Out>, Vec<Out>) = out.drain(..).partition(|o| matches!(o, Out::Local(_)));
            let unwrap = |o: Out| match o {
                Out::Local(p) | Out::Remote(p) => p,
            };
            let to_local: Vec<Packet> = to_local.into_iter().map(unwrap).collect();
            let to_remote: Vec<Packet> = to_remote.into_iter().map(unwrap).collect();
            if !to_remote.is_empty()
                && let Err(e) = remote.send(&to_remote).await
            {
                return Ended::Lost(e.to_string());
            }
            if !to_local.is_empty()
                && let Err(e) = local.send(&to_local).await
            {
                return Ended::Lost(format!("its session on this broker: {e}"));
            }
        }
    }

    fn check_suback(&self, asked: &[(PacketId, String)], ack: &SubAck) {
        let filter = asked.iter().find(|(pid, _)| *pid == ack.pid).map_or("?", |(_, f)| f.as_str());
        if ack.codes.iter().any(|c| c.is_failure()) {
            self.log(
                LogType::Warning,
                format_args!("Warning: bridge {}: the remote refused the subscription to {filter}.", self.config.name),
            );
        }
    }

    /// Waits until `threshold` messages wait for the remote (lazy start). False: stopping.
    async fn wait_for_threshold(&mut self) -> bool {
        if self.config.local_clean() {
            // Nothing waits in a session that ends with each connection: nothing to count.
            self.log(
                LogType::Warning,
                format_args!(
                    "Warning: bridge {}: start_type lazy counts messages waiting in the bridge's session, which local_cleansession true does not keep; connecting now.",
                    self.config.name
                ),
            );
            return true;
        }
        let id = self.config.local_client_id();
        let threshold = self.config.threshold as usize;
        loop {
            let waiting = self.shared.router().session_mut(&id).map_or(0, |s| s.stored_messages().count());
            if waiting >= threshold {
                return true;
            }
            tokio::select! {
                () = tokio::time::sleep(LAZY_CHECK) => {}
                _ = self.stop.changed() => return false,
            }
        }
    }

    /// Publishes the state locally (retained, QoS 1, as Mosquitto) and notes it for the app.
    fn set_state(&self, up: bool) {
        let b = &self.config;
        self.shared.bridges.update(&b.name, |s| {
            s.connected = up;
            if up {
                s.last_error = None;
            }
        });
        if !b.notifications {
            return;
        }
        if let Ok(topic) = TopicName::new(b.state_topic()) {
            let message = Message::new(topic, Bytes::from_static(if up { b"1" } else { b"0" }), QoS::AtLeastOnce, true);
            let _ = self.shared.router().publish(&message);
        }
    }

    /// Adds what moved since the last report to the bridge's counts.
    fn report(&self, relay: &Relay, reported: &mut Moved) {
        let now = relay.moved;
        if now.too_large > reported.too_large {
            self.log(
                LogType::Notice,
                format_args!(
                    "Bridge {}: dropped {} message(s) for the remote over bridge_max_packet_size {}.",
                    self.config.name,
                    now.too_large - reported.too_large,
                    self.config.max_packet_size
                ),
            );
        }
        let (sent, received) = (now.out - reported.out, now.came_in - reported.came_in);
        *reported = now;
        self.shared.bridges.update(&self.config.name, |s| {
            s.sent += sent;
            s.received += received;
        });
    }

    fn set_error(&self, why: String) {
        self.shared.bridges.update(&self.config.name, |s| {
            s.connected = false;
            s.last_error = Some(why);
        });
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    pub(super) fn log(&self, t: LogType, args: std::fmt::Arguments<'_>) {
        self.shared.log.log(t, args);
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_hours(24 * 365)
}
