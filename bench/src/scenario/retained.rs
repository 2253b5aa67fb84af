//! `retained`: store N retained messages (QoS 1, every PUBACK awaited), then time how long a
//! new subscriber to `--filter` (default `#`) needs to receive them all. The topics are
//! cleared afterwards, so that the broker is left as it was.

use std::time::Duration;

use bytes::BytesMut;
use mqtt_lab_broker::codec::v5::Properties;
use mqtt_lab_broker::codec::{Packet, PacketId, QoS, Subscribe, TopicFilter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::Instant;

use super::{outcome, run_id, target};
use crate::client::{Client, ClientError};
use crate::options::Options;
use crate::payload::Tracker;
use crate::publisher::{Plan, publish};
use crate::report::Outcome;
use crate::subscriber::{Until, listen};
use crate::wire::{Frame, PINGRESP, drain_frames, put_pingreq, put_publish};

const BASE: &str = "bench/retained";

pub(super) async fn run(o: &Options) -> Result<Outcome, ClientError> {
    let target = target(o)?;
    let id = run_id();
    let mut publisher = Client::connect(&target, &format!("bench-{id}-p0"), 60).await?;
    let deadline = Instant::now() + o.duration;
    let plan = Plan {
        topic: BASE.into(),
        topic_per_message: true,
        publisher: 0,
        count: o.count,
        qos: 1,
        retain: true,
        payload_len: o.payload,
        window: o.inflight,
        rate: None,
        deadline,
    };
    let stored = publish(&mut publisher, &plan).await?;

    let mut subscriber = Client::connect(&target, &format!("bench-{id}-s0"), 60).await?;
    let filter = TopicFilter::new(o.filter.as_str()).map_err(|_| ClientError::SubscribeRefused(o.filter.clone()))?;
    let qos = QoS::from_u8(o.qos).unwrap_or(QoS::AtMostOnce);
    let pid = PacketId::new(1).unwrap_or_else(|| unreachable!());
    // Retained messages may come right behind SUBACK: the listener reads both.
    let started = Instant::now();
    let filters = vec![(filter, qos.into())];
    subscriber.send(&Packet::Subscribe(Subscribe { pid, properties: Properties::default(), filters })).await?;
    let (_done_tx, done_rx) = watch::channel(false);
    let until = Until { publishers_done: done_rx, quiet: Duration::from_secs(2), deadline };
    let heard = listen(&mut subscriber, Tracker::new(1, stored.acknowledged), false, until).await?;

    clear(&mut publisher, o.count).await?;
    let mut out = outcome(o);
    (out.publishers, out.subscribers) = (1, 1);
    out.sent = stored.acknowledged;
    out.refused = stored.refused;
    out.expected = stored.acknowledged;
    out.received = heard.tracker.unique;
    out.duplicated = heard.tracker.duplicated;
    out.lost = out.expected.saturating_sub(out.received);
    out.retained = Some(heard.retained);
    out.seconds = heard.last.map_or(0.0, |l| l.duration_since(started).as_secs_f64());
    out.rate = if out.seconds > 0.0 { out.received as f64 / out.seconds } else { 0.0 };
    Ok(out)
}

/// Empties the retained topics (a zero-byte retained PUBLISH each) and waits for PINGRESP,
/// which the broker sends after reading them all.
async fn clear(client: &mut Client, count: u64) -> Result<(), ClientError> {
    let mut wbuf = BytesMut::new();
    for seq in 0..count {
        put_publish(&mut wbuf, client.v5, &format!("{BASE}/{seq}"), 0, true, 0, &[]);
    }
    put_pingreq(&mut wbuf);
    client.stream.write_all(&wbuf).await?;
    loop {
        let mut pong = false;
        drain_frames(&mut client.rbuf, client.v5, |f| pong |= matches!(f, Frame::Other { kind: PINGRESP, .. }))?;
        if pong {
            return Ok(());
        }
        if client.stream.read_buf(&mut client.rbuf).await? == 0 {
            return Err(ClientError::Closed("while clearing retained messages"));
        }
    }
}
