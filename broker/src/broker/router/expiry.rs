//! Time-driven ends (MQTT 5.0, issue 20): offline sessions whose Session Expiry Interval has
//! run out (3.1.2.11.2), delayed wills (3.1.3.2.2) and retained messages whose Message Expiry
//! Interval has passed (3.3.2.3.3). The server's expiry task calls [`Router::expire`] at each
//! deadline it answers, and again whenever [`Router::deadline_set`] is notified.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Router, WillOutcome};
use crate::broker::session::Session;

/// What one sweep did.
#[derive(Debug, Default)]
pub struct Expired {
    /// Sessions ended by their expiry.
    pub sessions: Vec<Arc<str>>,
    /// Delayed wills that went out, with their client.
    pub wills: Vec<(Arc<str>, WillOutcome)>,
    /// Retained messages deleted because their Message Expiry Interval passed.
    pub retained: usize,
    /// The next deadline still ahead, if any.
    pub next: Option<Instant>,
}

impl Router {
    /// Notified whenever a deadline is set: the expiry task then looks again.
    pub fn deadline_set(&self) -> Arc<Notify> {
        self.deadline_set.clone()
    }

    /// `persistent_client_expiration`: how long a session may outlive its connection at most.
    pub fn set_persistent_expiry(&mut self, cap: Option<Duration>) {
        self.persistent_expiry = cap;
    }

    /// MQTT 5.0 DISCONNECT with a Session Expiry Interval (3.14.2.2.2): it replaces the one of
    /// CONNECT, except that a session of expiry 0 may not be given one [MQTT-3.14.2-2]: the
    /// error names that rule, and the connection must close with 0x82 Protocol Error.
    pub fn set_disconnect_expiry(&mut self, client_id: &str, link_id: u64, secs: u32) -> Result<(), String> {
        if !self.is_current(client_id, link_id) {
            return Ok(());
        }
        let Some(session) = self.sessions.get_mut(client_id) else { return Ok(()) };
        if session.expiry == 0 && secs != 0 {
            return Err(format!(
                "[MQTT-3.14.2-2] DISCONNECT sets a Session Expiry Interval of {secs} s where CONNECT set 0"
            ));
        }
        session.set_expiry(secs);
        Ok(())
    }

    /// Publishes the wills and ends the sessions that are due at `now`, deletes expired
    /// retained messages, and answers the next deadline.
    pub fn expire(&mut self, now: Instant) -> Expired {
        let mut expired = Expired::default();
        let due: Vec<Arc<str>> = self
            .sessions
            .values()
            .filter(|s| !s.is_online() && s.next_deadline().is_some_and(|at| at <= now))
            .map(|s| s.client_id.clone())
            .collect();
        for client in due {
            let Some(session) = self.sessions.get(&client) else { continue };
            let ends = session.expires_at().is_some_and(|at| at <= now);
            // A will goes out at its delay, or when the session ends if that is sooner.
            if session.will.is_some() && (ends || session.will_at().is_some_and(|at| at <= now)) {
                let outcome = self.release_will(&client);
                expired.wills.push((client.clone(), outcome));
            }
            if ends {
                self.drop_session(&client);
                self.clients_expired += 1;
                expired.sessions.push(client);
            }
        }
        let stale: Vec<_> =
            self.retained.iter().filter(|(_, r)| r.message.expired(now)).map(|(t, _)| t.clone()).collect();
        for topic in stale {
            self.retained.remove(&topic);
            self.record_retained(&topic, None);
            expired.retained += 1;
        }
        let sessions = self.sessions.values().filter(|s| !s.is_online()).filter_map(Session::next_deadline);
        expired.next = sessions.chain(self.retained.values().filter_map(|r| r.message.expires_at)).min();
        expired
    }
}
