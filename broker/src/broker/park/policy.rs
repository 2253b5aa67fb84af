//! When a connection with nothing to do parks. Parking and resuming cost a few system calls
//! and a task spawn, nothing next to an idle client's memory, but too much to pay between the
//! messages of a busy one. So a connection is born sleepy (after its CONNACK most clients wait)
//! and parks whenever it runs out of work, until it is busy: it works for more than
//! [`SLEEPY_TURNS`] turns after one waking, or it is woken less than [`QUIET_US`] after it
//! parked (a client in a request-response loop). A busy connection stays on its task, with a
//! timer (connection/doze.rs) that makes it sleepy again once it has been quiet for
//! [`QUIET_US`]: the timer costs only the busy few, which hold a task anyway.

/// Turns with work after a waking that a sleepy connection may take and still park: a PINGREQ
/// and its PINGRESP, a message delivered and its PUBACK.
pub(crate) const SLEEPY_TURNS: u8 = 4;

/// How long a busy connection must have been quiet to become sleepy again; a parked connection
/// woken sooner than this is busy.
pub(crate) const QUIET_US: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sleepiness {
    /// Turns with work since it last woke; past [`SLEEPY_TURNS`] it is busy.
    turns: u8,
}

impl Sleepiness {
    /// A turn of the connection's loop moved something.
    pub(crate) fn worked(&mut self) {
        self.turns = self.turns.saturating_add(1);
    }

    /// Out of work now: park?
    pub(crate) fn may_park(self) -> bool {
        self.turns <= SLEEPY_TURNS
    }

    pub(crate) fn is_busy(self) -> bool {
        !self.may_park()
    }

    /// Told to doze: sleepy again.
    pub(crate) fn reset(&mut self) {
        self.turns = 0;
    }

    /// Woken from parking `parked_us` after it parked.
    pub(crate) fn woken_after(parked_us: u64) -> Self {
        if parked_us < QUIET_US { Self { turns: u8::MAX } } else { Self::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_sleepy_until_it_works_past_the_limit_and_again_after_a_reset() {
        let mut s = Sleepiness::default();
        assert!(s.may_park(), "born sleepy");
        for _ in 0..SLEEPY_TURNS {
            s.worked();
        }
        assert!(s.may_park(), "a ping and its answer, a delivery and its ack");
        s.worked();
        assert!(s.is_busy());
        for _ in 0..1000 {
            s.worked();
        }
        assert!(s.is_busy(), "saturates, never wraps to sleepy");
        s.reset();
        assert!(s.may_park());
    }

    #[test]
    fn a_connection_woken_soon_after_parking_is_busy() {
        assert!(Sleepiness::woken_after(QUIET_US - 1).is_busy(), "a request-response loop");
        assert!(Sleepiness::woken_after(QUIET_US).may_park(), "an idle client's ping");
    }
}
