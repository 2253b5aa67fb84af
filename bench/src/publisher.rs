//! The publisher loop: stamps and sends `count` messages as fast as the broker takes them (or
//! at a fixed rate), keeps a window of unacknowledged QoS 1/2 messages, and answers PUBREC.

use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, sleep_until};

use crate::client::{Client, ClientError};
use crate::payload::{Stamp, now_ns};
use crate::wire::{Frame, PINGRESP, PUBACK, PUBCOMP, PUBREC, PUBREL, drain_frames, put_ack, put_pingreq, put_publish};

/// What one publisher sends.
#[derive(Debug, Clone)]
pub struct Plan {
    pub topic: String,
    /// Adds `/<seq>` to the topic: one topic per message (the retained scenario).
    pub topic_per_message: bool,
    pub publisher: u32,
    pub count: u64,
    pub qos: u8,
    pub retain: bool,
    pub payload_len: usize,
    /// Unacknowledged QoS 1/2 messages allowed at once.
    pub window: usize,
    /// Messages per second; `None`: as fast as the broker takes them.
    pub rate: Option<f64>,
    /// No message is sent after this.
    pub deadline: Instant,
}

/// What the publisher did.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub sent: u64,
    /// QoS 1/2: fully acknowledged (PUBACK, PUBCOMP). QoS 0: every message, once PINGRESP
    /// showed that the broker read them all.
    pub acknowledged: u64,
    /// MQTT 5: answered with a failure reason code (0x80 or above) in PUBACK, PUBREC or
    /// PUBCOMP: the broker did not take the message [MQTT-4.3.2], [MQTT-4.3.3].
    pub refused: u64,
    pub finished: Instant,
}

/// Bytes gathered before a write: large writes, few system calls.
const BATCH: usize = 32 * 1024;
/// How long acknowledgements may take after the deadline.
const ACK_GRACE: Duration = Duration::from_secs(10);

pub async fn publish(client: &mut Client, plan: &Plan) -> Result<Sent, ClientError> {
    let Client { stream, rbuf, v5, receive_maximum } = client;
    let v5 = *v5;
    // MQTT 5: never more in flight than the broker said it takes.
    let window = plan.window.min(usize::from(*receive_maximum));
    let (mut reader, mut writer) = stream.split();
    let mut wbuf = BytesMut::with_capacity(BATCH * 2);
    let mut payload = Vec::with_capacity(plan.payload_len.max(crate::payload::STAMP_LEN));
    let mut topic = String::with_capacity(plan.topic.len() + 12);
    let interval = plan.rate.map(|r| Duration::from_secs_f64(1.0 / r));
    let (mut sent, mut acknowledged, mut refused, mut waiting) = (0u64, 0u64, 0u64, 0usize);
    let (mut pid, mut pinged, mut ponged) = (0u16, false, false);
    let mut due = Instant::now();
    let give_up = plan.deadline + ACK_GRACE;
    loop {
        let now = Instant::now();
        let sending = sent < plan.count && now < plan.deadline;
        while sending
            && sent < plan.count
            && wbuf.len() < BATCH
            && (plan.qos == 0 || waiting < window)
            && interval.is_none_or(|_| now >= due)
        {
            payload.clear();
            Stamp { publisher: plan.publisher, seq: sent, sent_ns: now_ns() }.put(&mut payload, plan.payload_len);
            topic.clear();
            topic.push_str(&plan.topic);
            if plan.topic_per_message {
                topic.push('/');
                topic.push_str(&sent.to_string());
            }
            pid = if pid == u16::MAX { 1 } else { pid + 1 };
            put_publish(&mut wbuf, v5, &topic, plan.qos, plan.retain, pid, &payload);
            sent += 1;
            if plan.qos > 0 {
                waiting += 1;
            }
            if let Some(i) = interval {
                due += i;
                break;
            }
        }
        let all_out = !(sent < plan.count && Instant::now() < plan.deadline);
        if all_out && plan.qos == 0 && !pinged {
            // The broker answers PINGREQ after reading every PUBLISH before it.
            put_pingreq(&mut wbuf);
            pinged = true;
        }
        let done = all_out && if plan.qos == 0 { ponged } else { waiting == 0 };
        if done && wbuf.is_empty() {
            if plan.qos == 0 {
                acknowledged = sent;
            }
            return Ok(Sent { sent, acknowledged, refused, finished: Instant::now() });
        }
        let can_send = !all_out && (plan.qos == 0 || waiting < window);
        tokio::select! {
            biased;
            r = reader.read_buf(rbuf) => {
                if r? == 0 {
                    return Err(ClientError::Closed("while publishing"));
                }
                drain_frames(rbuf, v5, |f| match f {
                    // A failure ends the exchange: the packet id is free again, nothing to
                    // release [MQTT-4.3.3-4], and the message is not acknowledged.
                    Frame::Ack { kind: PUBACK | PUBREC | PUBCOMP, reason: 0x80.., .. } => {
                        waiting = waiting.saturating_sub(1);
                        refused += 1;
                    }
                    Frame::Ack { kind: PUBACK | PUBCOMP, .. } => {
                        waiting = waiting.saturating_sub(1);
                        acknowledged += 1;
                    }
                    Frame::Ack { kind: PUBREC, pid, .. } => put_ack(&mut wbuf, PUBREL, pid),
                    Frame::Other { kind: PINGRESP, .. } => ponged = true,
                    _ => {}
                })?;
            }
            r = writer.write(&wbuf), if !wbuf.is_empty() => {
                let n = r?;
                let _ = wbuf.split_to(n);
            }
            () = sleep_until(due), if interval.is_some() && can_send && wbuf.is_empty() => {}
            () = sleep_until(give_up) => {
                return Ok(Sent { sent, acknowledged, refused, finished: Instant::now() });
            }
        }
    }
}
