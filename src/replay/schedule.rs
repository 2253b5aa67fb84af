//! When each recorded message goes out again, and as what: pure logic plus one async loop that
//! waits on tokio's clock, so it is tested on paused time without a broker.
//!
//! Every send waits for an absolute deadline (start + the message's offset / speed), never for
//! the gap since the previous send, so small delays in sending never add up over a long run.

use std::future::Future;
use std::time::Duration;

use crate::connection::{Qos, ReceivedMessage};
use crate::mqtt::Outgoing;

/// How fast a replay goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// The recorded gaps divided by this factor (1: as recorded, 10: ten times faster).
    Speed(f64),
    /// No waiting between messages.
    AsFastAsPossible,
}

impl Pace {
    /// A factor from the command line or the form: 0 means as fast as possible.
    pub fn from_factor(factor: f64) -> Result<Self, String> {
        if factor == 0.0 {
            Ok(Self::AsFastAsPossible)
        } else if factor.is_finite() && factor > 0.0 {
            Ok(Self::Speed(factor))
        } else {
            Err(format!("speed {factor}: a factor above 0 (1 as recorded, 10 ten times faster), or 0 for no pauses"))
        }
    }

    /// `recorded` scaled to this pace.
    fn scale(self, recorded: Duration) -> Duration {
        match self {
            Self::Speed(f) => recorded.div_f64(f),
            Self::AsFastAsPossible => Duration::ZERO,
        }
    }
}

/// How many times the recording is played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    Once,
    Times(u32),
    /// Until stopped.
    Forever,
}

impl Repeat {
    fn rounds(self) -> Option<u64> {
        match self {
            Self::Once => Some(1),
            Self::Times(n) => Some(u64::from(n)),
            Self::Forever => None,
        }
    }
}

/// A topic rewrite: `remove` taken off the front (when the topic starts with it), then `add` put
/// in front; "" for neither. So `site-a/` -> `lab/` moves a recording to another tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewrite {
    pub remove: String,
    pub add: String,
}

impl Rewrite {
    pub fn apply(&self, topic: &str) -> String {
        let rest = topic.strip_prefix(self.remove.as_str()).unwrap_or(topic);
        format!("{}{rest}", self.add)
    }
}

/// Everything a replay may change.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    pub pace: Pace,
    pub repeat: Repeat,
    pub rewrite: Rewrite,
    /// Every message at this QoS instead of its recorded one.
    pub qos: Option<Qos>,
    /// Every message with this retain flag instead of its recorded one.
    pub retain: Option<bool>,
    /// Send MQTT 5 properties (false for a 3.1.1 target, which has none).
    pub properties: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            pace: Pace::Speed(1.0),
            repeat: Repeat::Once,
            rewrite: Rewrite::default(),
            qos: None,
            retain: None,
            properties: true,
        }
    }
}

impl ReplayOptions {
    /// The message to publish for a recorded one. The properties a broker sets on delivery
    /// (topic alias, subscription identifiers) are not the publisher's: left out.
    pub fn outgoing(&self, m: &ReceivedMessage) -> Outgoing {
        let mut out = Outgoing::new(
            self.rewrite.apply(&m.topic),
            m.payload.clone(),
            self.qos.unwrap_or(m.qos),
            self.retain.unwrap_or(m.retain),
        );
        if self.properties {
            out.properties = m.properties.clone();
            out.properties.topic_alias = None;
            out.properties.subscription_ids.clear();
        }
        out
    }
}

/// Each message's recorded offset from the first (never negative: a time that goes back, as a
/// hand-edited file may, counts as no gap), and the length of one round: the recording's span
/// plus its mean gap, so a loop keeps the recording's rhythm across the seam (1 s for a single
/// message).
pub fn offsets(messages: &[ReceivedMessage]) -> (Vec<Duration>, Duration) {
    let Some(first) = messages.first() else { return (Vec::new(), Duration::ZERO) };
    let mut latest = first.at;
    let offsets: Vec<Duration> = messages
        .iter()
        .map(|m| {
            latest = latest.max(m.at);
            latest.duration_since(first.at).unwrap_or_default()
        })
        .collect();
    let span = offsets.last().copied().unwrap_or_default();
    let gaps = u32::try_from(messages.len() - 1).unwrap_or(u32::MAX);
    let seam = if gaps == 0 || span.is_zero() { Duration::from_secs(1) } else { span / gaps };
    (offsets, span + seam)
}

/// Where a replay's messages go. Any `FnMut(Outgoing)` is one that always has room.
pub trait Outlet {
    fn send(&mut self, message: Outgoing);

    /// Completes when another message may be handed over (at once unless the outlet is full).
    fn room(&mut self) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
}

impl<F: FnMut(Outgoing)> Outlet for F {
    fn send(&mut self, message: Outgoing) {
        self(message);
    }
}

/// How far a replay is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub sent: u64,
    /// `None` when looping until stopped.
    pub total: Option<u64>,
    /// The round under way, from 1.
    pub round: u64,
}

/// How a replay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Played {
    /// Every round sent.
    Done(u64),
    /// Stopped after this many messages.
    Stopped(u64),
}

/// In "as fast as possible", a pause after this many messages lets the other tasks run (the
/// outlet's room bounds what waits in the connection).
const BURST: u64 = 100;

/// Plays `messages`: into `outlet` each at its time (later if the outlet has no room: the next
/// ones then catch up), `progress` after each, until every round is sent or `stop` completes.
pub async fn play(
    messages: &[ReceivedMessage],
    options: &ReplayOptions,
    outlet: &mut impl Outlet,
    mut progress: impl FnMut(Progress),
    stop: impl Future<Output = ()>,
) -> Played {
    let (offsets, round) = offsets(messages);
    let rounds = options.repeat.rounds();
    let total = rounds.map(|r| r * messages.len() as u64);
    let start = tokio::time::Instant::now();
    let mut sent = 0u64;
    tokio::pin!(stop);
    if messages.is_empty() {
        return Played::Done(0);
    }
    for r in 0.. {
        if rounds.is_some_and(|n| r >= n) {
            break;
        }
        let round_start = round * u32::try_from(r).unwrap_or(u32::MAX);
        for (m, offset) in messages.iter().zip(&offsets) {
            let due = start + options.pace.scale(round_start + *offset);
            let pause = options.pace == Pace::AsFastAsPossible && sent > 0 && sent.is_multiple_of(BURST);
            // Also when the time has come already: `stop` is looked at before every message.
            let wake = if pause { due.max(tokio::time::Instant::now() + Duration::from_millis(1)) } else { due };
            tokio::select! {
                biased;
                () = &mut stop => return Played::Stopped(sent),
                () = tokio::time::sleep_until(wake) => {}
            }
            tokio::select! {
                biased;
                () = &mut stop => return Played::Stopped(sent),
                () = outlet.room() => {}
            }
            outlet.send(options.outgoing(m));
            sent += 1;
            progress(Progress { sent, total, round: r + 1 });
        }
    }
    Played::Done(sent)
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
