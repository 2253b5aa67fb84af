//! The loops of a soak's connections once connected: idle (pings), publisher (the mixed QoS
//! 0/1/2 load) and subscriber (acknowledges and counts every delivery), and the goodbye that
//! ends each without losing what is still in flight.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep};

use super::Counters;
use crate::client::Client;
use crate::payload::{Stamp, Tracker, now_ns};
use crate::wire::{Frame, PUBACK, PUBCOMP, PUBREC, PUBREL, drain_frames, put_ack, put_pingreq, put_publish};

/// After the publishers stop, how long a silence ends a subscriber's wait.
const QUIET: Duration = Duration::from_secs(3);

/// What one client's loop ended with.
pub(super) enum Ended {
    /// The connection never was: the storm counted why.
    Refused,
    Idle,
    Publisher,
    Subscriber(Tracker),
}

/// DISCONNECT, then waits for the broker to close: closing with acknowledgements unread would
/// reset the connection, and the broker could lose the last PUBLISHes still in its socket. The
/// broker closes first [MQTT-3.14.4-1], so the TIME_WAIT is its own: left here, 100,000 of them
/// would hold the source addresses' ports for a minute, and a run right after would find too
/// few to bind.
async fn goodbye(mut client: Client) {
    let _ = client.stream.write_all(&[0xE0, 0]).await;
    let _ = client.stream.flush().await;
    let drained = async {
        while matches!(client.stream.read_buf(&mut client.rbuf).await, Ok(n) if n > 0) {
            client.rbuf.clear();
        }
    };
    if tokio::time::timeout(QUIET, drained).await.is_err() {
        let _ = client.stream.shutdown().await;
    }
}

/// What every client loop shares.
pub(super) struct Role {
    pub keepalive: Duration,
    /// Set at the end of the run: every loop says goodbye.
    pub stop: watch::Receiver<bool>,
    /// Set when the storm is over: publishers start then, once every subscriber has subscribed.
    pub go: watch::Receiver<bool>,
    pub counters: Arc<Counters>,
}

impl Role {
    /// The broker closed the connection, or it failed: counted, and the loop ends.
    fn lost(&self) {
        Counters::add(&self.counters.disconnects);
        self.counters.connected.fetch_sub(1, Ordering::Relaxed);
    }

    fn ping_every(&self) -> tokio::time::Interval {
        let mut ping = interval(self.keepalive / 2);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ping
    }

    /// Pings every half keepalive until stopped.
    pub async fn idle(mut self, mut client: Client) -> Ended {
        let mut ping = self.ping_every();
        let mut wbuf = BytesMut::new();
        loop {
            tokio::select! {
                _ = self.stop.changed() => {
                    goodbye(client).await;
                    return Ended::Idle;
                }
                _ = ping.tick() => {
                    put_pingreq(&mut wbuf);
                    if client.stream.write_all(&wbuf.split()).await.is_err() {
                        self.lost();
                        return Ended::Idle;
                    }
                }
                r = client.stream.read_buf(&mut client.rbuf) => {
                    if !matches!(r, Ok(n) if n > 0) || drain_frames(&mut client.rbuf, client.v5, |_| {}).is_err() {
                        self.lost();
                        return Ended::Idle;
                    }
                }
            }
        }
    }

    /// Once told to go, publishes every `every`, cycling QoS 0, 1, 2, and answers PUBREC with
    /// PUBREL; pings while it waits. Told to stop, finishes its QoS 1 and 2 flows first.
    pub async fn publish(
        mut self,
        mut client: Client,
        topic: &str,
        publisher: u32,
        every: Duration,
        size: usize,
    ) -> Ended {
        let mut tick = interval(every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut ping = self.ping_every();
        let (mut seq, mut wbuf, mut payload) = (0u64, BytesMut::new(), Vec::with_capacity(size));
        // QoS 1 and 2 publishes not yet acknowledged to the end (PUBACK, PUBCOMP): at the stop,
        // waited for until [`QUIET`] has passed. A broker may hold a QoS 2 message until PUBREL
        // (Mosquitto does), so leaving before it would lose it.
        let mut unfinished = 0u64;
        let mut ending: Option<Instant> = None;
        loop {
            let going = *self.go.borrow();
            let until = ending.unwrap_or_else(Instant::now);
            tokio::select! {
                _ = self.go.changed(), if !going => {}
                _ = ping.tick(), if !going => put_pingreq(&mut wbuf),
                _ = self.stop.changed(), if ending.is_none() => ending = Some(Instant::now() + QUIET),
                () = tokio::time::sleep_until(until), if ending.is_some() => {
                    goodbye(client).await;
                    return Ended::Publisher;
                }
                _ = tick.tick(), if going && ending.is_none() => {
                    payload.clear();
                    Stamp { publisher, seq, sent_ns: now_ns() }.put(&mut payload, size);
                    let qos = u8::try_from(seq % 3).unwrap_or(0);
                    let pid = u16::try_from(seq % u64::from(u16::MAX)).unwrap_or(0) + 1;
                    put_publish(&mut wbuf, client.v5, topic, qos, false, pid, &payload);
                    unfinished += u64::from(qos > 0);
                    seq += 1;
                    Counters::add(&self.counters.published);
                }
                r = client.stream.read_buf(&mut client.rbuf) => {
                    let ok = matches!(r, Ok(n) if n > 0)
                        && drain_frames(&mut client.rbuf, client.v5, |f| match f {
                            Frame::Ack { kind: PUBREC, pid, reason: ..0x80 } => put_ack(&mut wbuf, PUBREL, pid),
                            // Done: acknowledged, or (MQTT 5) refused with a reason code.
                            Frame::Ack { kind: PUBACK | PUBCOMP | PUBREC, .. } => unfinished = unfinished.saturating_sub(1),
                            _ => {}
                        })
                        .is_ok();
                    if !ok {
                        self.lost();
                        return Ended::Publisher;
                    }
                }
            }
            if !wbuf.is_empty() && client.stream.write_all(&wbuf.split()).await.is_err() {
                self.lost();
                return Ended::Publisher;
            }
            if ending.is_some() && unfinished == 0 {
                goodbye(client).await;
                return Ended::Publisher;
            }
        }
    }

    /// Acknowledges every delivery and pings every half keepalive; after the stop, listens
    /// until the broker has been quiet for [`QUIET`].
    pub async fn subscribe(mut self, mut client: Client, mut tracker: Tracker) -> Ended {
        let mut ping = self.ping_every();
        let mut wbuf = BytesMut::new();
        let mut quiet_until: Option<Instant> = None;
        loop {
            let stopping = quiet_until.is_some();
            tokio::select! {
                r = self.stop.changed(), if !stopping => {
                    let _ = r;
                    quiet_until = Some(Instant::now() + QUIET);
                }
                () = sleep(quiet_until.map_or(Duration::ZERO, |t| t.saturating_duration_since(Instant::now()))), if stopping => {
                    goodbye(client).await;
                    return Ended::Subscriber(tracker);
                }
                _ = ping.tick(), if !stopping => put_pingreq(&mut wbuf),
                r = client.stream.read_buf(&mut client.rbuf) => {
                    let counters = &self.counters;
                    let before = tracker.unique + tracker.duplicated + tracker.foreign;
                    let ok = matches!(r, Ok(n) if n > 0)
                        && drain_frames(&mut client.rbuf, client.v5, |f| match f {
                            Frame::Publish { qos, pid, payload, .. } => {
                                match qos {
                                    1 => put_ack(&mut wbuf, PUBACK, pid),
                                    2 => put_ack(&mut wbuf, PUBREC, pid),
                                    _ => {}
                                }
                                match Stamp::read(payload) {
                                    Some(stamp) => tracker.record(stamp),
                                    None => tracker.foreign += 1,
                                }
                                Counters::add(&counters.delivered);
                            }
                            Frame::Ack { kind: PUBREL, pid, .. } => put_ack(&mut wbuf, PUBCOMP, pid),
                            // PINGRESP, SUBACK: nothing to answer.
                            _ => {}
                        })
                        .is_ok();
                    if !ok {
                        self.lost();
                        return Ended::Subscriber(tracker);
                    }
                    // Only deliveries count as noise: PINGRESP must not keep the wait going.
                    if stopping && tracker.unique + tracker.duplicated + tracker.foreign > before {
                        quiet_until = Some(Instant::now() + QUIET);
                    }
                }
            }
            if !wbuf.is_empty() && client.stream.write_all(&wbuf.split()).await.is_err() {
                self.lost();
                return Ended::Subscriber(tracker);
            }
        }
    }
}

#[cfg(test)]
#[path = "roles_tests.rs"]
mod tests;
