//! Back-pressure on the publishing side: while subscribers this client's last PUBLISH left over
//! their limits are congested, the connection reads nothing more. Allocated only while it lasts,
//! so that an idle connection carries a pointer instead of a list and a timer.

use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, Sleep, sleep_until};

use super::Connection;
use crate::broker::session::STALL;
use crate::log::LogType;

pub(super) struct Congestion {
    /// The subscribers still over their limits.
    ids: Vec<Arc<str>>,
    /// When to look again at whether they are making progress.
    stall_check: Pin<Box<Sleep>>,
}

impl Congestion {
    pub(super) fn new(ids: Vec<Arc<str>>) -> Self {
        Self { ids, stall_check: Box::pin(sleep_until(Instant::now() + STALL)) }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Keeps waiting only for subscribers still congested (registering again with any that
    /// drained and filled up since); resumes reading when none is left.
    pub(super) fn recheck_congestion(&mut self) {
        let Some(congestion) = &mut self.congestion else { return };
        let mut router = self.shared.router();
        let wake = &self.link.wake;
        congestion.ids.retain(|id| match router.session_mut(id) {
            Some(s) if s.congested() => {
                s.wait_for_room(wake);
                true
            }
            _ => false,
        });
        drop(router);
        if congestion.ids.is_empty() {
            self.congestion = None;
            // The pause was the broker's doing: it does not count against the keepalive.
            wake.seen(self.shared.keepalive.now_us());
            wake.set_paused(false);
        }
    }

    /// Polls the stall timer; when it fires, a congested subscriber that wrote nothing for
    /// [`STALL`] stops holding this publisher. Returns whether it fired.
    pub(super) fn poll_stall_check(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(congestion) = &mut self.congestion else { return false };
        if congestion.stall_check.as_mut().poll(cx).is_pending() {
            return false;
        }
        let now = Instant::now();
        let mut router = self.shared.router();
        for id in &congestion.ids {
            if let Some(s) = router.session_mut(id)
                && s.congested()
                && s.idle_for_stall(now)
            {
                s.mark_stalled();
                self.shared.log.log(
                    LogType::Notice,
                    format_args!(
                        "Client {id} has not read for {} s: messages over its queue limit are dropped until it catches up.",
                        STALL.as_secs()
                    ),
                );
            }
        }
        congestion.stall_check.as_mut().reset(now + STALL);
        true
    }
}
