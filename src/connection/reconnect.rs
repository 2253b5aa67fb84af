//! What a connection does while it is down: when to try again, and what waits for it. Pure state,
//! unit-tested without sockets; the worker feeds it and acts on what it says.

use std::collections::VecDeque;
use std::time::Duration;

use super::{Command, Qos, SubOptions};

/// Delays between reconnect attempts: 1 s, doubling to at most 30 s; back to 1 s once connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub const FIRST: Duration = Duration::from_secs(1);
    pub const MAX: Duration = Duration::from_secs(30);

    pub const fn new() -> Self {
        Self { attempt: 0 }
    }

    /// The delay before the next attempt; counts the attempt.
    pub fn next_delay(&mut self) -> Duration {
        let delay = Self::FIRST.saturating_mul(1 << self.attempt.min(5)).min(Self::MAX);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Attempts since the last successful connection.
    pub const fn attempts(&self) -> u32 {
        self.attempt
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Commands given while the connection is down, replayed in order once it is back. QoS 0
/// publishes are not kept (at most once means they may be lost); QoS 1 and 2 are, up to a bound.
#[derive(Debug, Default)]
pub struct Offline {
    waiting: VecDeque<Command>,
    publishes: usize,
}

/// What became of a command given while offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Kept { publishes_waiting: usize },
    DroppedQos0,
    DroppedFull,
}

impl Offline {
    /// Publishes kept at most; more are refused rather than grow memory without bound.
    pub const MAX_PUBLISHES: usize = 1000;

    pub fn hold(&mut self, command: Command) -> Held {
        if let Command::Publish(message) = &command {
            if message.qos == Qos::AtMostOnce {
                return Held::DroppedQos0;
            }
            if self.publishes >= Self::MAX_PUBLISHES {
                return Held::DroppedFull;
            }
            self.publishes += 1;
        }
        self.waiting.push_back(command);
        Held::Kept { publishes_waiting: self.publishes }
    }

    pub const fn publishes_waiting(&self) -> usize {
        self.publishes
    }

    /// Everything held, oldest first.
    pub fn take(&mut self) -> VecDeque<Command> {
        self.publishes = 0;
        std::mem::take(&mut self.waiting)
    }
}

/// The subscriptions the user has made, to make again when a broker comes back without the
/// session (a restart, or a clean session), with their MQTT 5 options.
#[derive(Debug, Default)]
pub struct Wanted {
    filters: Vec<(String, Qos, SubOptions)>,
}

impl Wanted {
    pub fn subscribed(&mut self, filter: &str, qos: Qos, options: SubOptions) {
        match self.filters.iter_mut().find(|(f, ..)| f == filter) {
            Some(entry) => (entry.1, entry.2) = (qos, options),
            None => self.filters.push((filter.to_owned(), qos, options)),
        }
    }

    pub fn unsubscribed(&mut self, filter: &str) {
        self.filters.retain(|(f, ..)| f != filter);
    }

    pub fn list(&self) -> Vec<(String, Qos, SubOptions)> {
        self.filters.clone()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn backoff_doubles_to_thirty_seconds_and_resets() {
        let mut b = Backoff::new();
        let delays: Vec<u64> = (0..8).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(b.attempts(), 8);
        b.reset();
        assert_eq!(b.next_delay(), Backoff::FIRST);
    }

    fn publish(qos: Qos, n: u8) -> Command {
        Command::Publish(crate::mqtt::Outgoing::new("PV/data", Bytes::from(vec![n]), qos, false))
    }

    #[test]
    fn offline_keeps_qos1_and_2_in_order_drops_qos0_and_is_bounded() {
        let mut o = Offline::default();
        assert_eq!(o.hold(publish(Qos::AtLeastOnce, 1)), Held::Kept { publishes_waiting: 1 });
        assert_eq!(o.hold(publish(Qos::AtMostOnce, 2)), Held::DroppedQos0);
        assert_eq!(
            o.hold(Command::Subscribe {
                filter: "a".into(),
                qos: Qos::AtMostOnce,
                options: crate::mqtt::SubOptions::default()
            }),
            Held::Kept { publishes_waiting: 1 }
        );
        assert_eq!(o.hold(publish(Qos::ExactlyOnce, 3)), Held::Kept { publishes_waiting: 2 });
        let taken: Vec<Command> = o.take().into();
        assert_eq!(
            taken,
            vec![
                publish(Qos::AtLeastOnce, 1),
                Command::Subscribe {
                    filter: "a".into(),
                    qos: Qos::AtMostOnce,
                    options: crate::mqtt::SubOptions::default()
                },
                publish(Qos::ExactlyOnce, 3)
            ]
        );
        assert_eq!(o.publishes_waiting(), 0);
        for n in 0..Offline::MAX_PUBLISHES {
            assert!(matches!(o.hold(publish(Qos::AtLeastOnce, n as u8)), Held::Kept { .. }));
        }
        assert_eq!(o.hold(publish(Qos::AtLeastOnce, 0)), Held::DroppedFull);
        assert_eq!(o.take().len(), Offline::MAX_PUBLISHES);
    }

    #[test]
    fn wanted_subscriptions_follow_subscribe_and_unsubscribe() {
        let mut w = Wanted::default();
        let id = SubOptions { id: Some(7), ..SubOptions::default() };
        w.subscribed("PV/#", Qos::AtMostOnce, SubOptions::default());
        w.subscribed("lamp/+", Qos::AtLeastOnce, SubOptions::default());
        w.subscribed("PV/#", Qos::ExactlyOnce, id);
        w.unsubscribed("lamp/+");
        assert_eq!(w.list(), vec![("PV/#".to_owned(), Qos::ExactlyOnce, id)]);
    }
}
