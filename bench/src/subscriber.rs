//! The subscriber loop: acknowledges as the protocol asks, checks every stamp against the
//! tracker, and notes receive times (and latencies when asked).

use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use crate::client::{Client, ClientError};
use crate::payload::{Stamp, Tracker, now_ns};
use crate::wire::{Frame, PUBACK, PUBCOMP, PUBREC, PUBREL, drain_frames, put_ack};

/// What a subscriber saw.
#[derive(Debug)]
pub struct Heard {
    pub tracker: Tracker,
    /// Publish-to-deliver times in ns, when asked for.
    pub latencies: Vec<u64>,
    /// Messages that arrived with RETAIN=1.
    pub retained: u64,
    pub last: Option<Instant>,
}

/// When to stop listening.
#[derive(Debug, Clone)]
pub struct Until {
    /// Set once the publishers have finished.
    pub publishers_done: watch::Receiver<bool>,
    /// After the publishers are done, how long a silence ends the wait (what has not come by
    /// then is lost).
    pub quiet: Duration,
    pub deadline: Instant,
}

pub async fn listen(
    client: &mut Client,
    mut tracker: Tracker,
    latency: bool,
    mut until: Until,
) -> Result<Heard, ClientError> {
    let Client { stream, rbuf, v5, .. } = client;
    let v5 = *v5;
    let (mut reader, mut writer) = stream.split();
    let mut wbuf = BytesMut::with_capacity(16 * 1024);
    let mut latencies = Vec::new();
    let (mut retained, mut last) = (0u64, None);
    let mut quiet_until: Option<Instant> = None;
    let mut done_seen = *until.publishers_done.borrow();
    loop {
        if tracker.complete() && wbuf.is_empty() {
            break;
        }
        if done_seen && quiet_until.is_none() {
            quiet_until = Some(Instant::now() + until.quiet);
        }
        tokio::select! {
            biased;
            r = reader.read_buf(rbuf) => {
                if r? == 0 {
                    return Err(ClientError::Closed("while subscribed"));
                }
                let now = now_ns();
                drain_frames(rbuf, v5, |f| match f {
                    Frame::Publish { qos, retain, pid, payload, .. } => {
                        match qos {
                            1 => put_ack(&mut wbuf, PUBACK, pid),
                            2 => put_ack(&mut wbuf, PUBREC, pid),
                            _ => {}
                        }
                        retained += u64::from(retain);
                        match Stamp::read(payload) {
                            Some(stamp) => {
                                tracker.record(stamp);
                                if latency {
                                    latencies.push(now.saturating_sub(stamp.sent_ns));
                                }
                            }
                            None => tracker.foreign += 1,
                        }
                    }
                    Frame::Ack { kind: PUBREL, pid, .. } => put_ack(&mut wbuf, PUBCOMP, pid),
                    _ => {}
                })?;
                last = Some(Instant::now());
                if quiet_until.is_some() {
                    quiet_until = Some(Instant::now() + until.quiet);
                }
            }
            r = writer.write(&wbuf), if !wbuf.is_empty() => {
                let n = r?;
                let _ = wbuf.split_to(n);
            }
            r = until.publishers_done.changed(), if !done_seen => {
                done_seen = r.is_err() || *until.publishers_done.borrow();
            }
            () = sleep_until(quiet_until.unwrap_or(until.deadline)), if quiet_until.is_some() => break,
            () = sleep_until(until.deadline) => break,
        }
    }
    Ok(Heard { tracker, latencies, retained, last })
}
