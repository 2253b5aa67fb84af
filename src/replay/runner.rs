//! A replay on the network: a task on the I/O runtime that connects with a profile's settings
//! through the app's connection worker (as the simulators do, under the profile's client id plus
//! "-replay", so it never takes the open connection's id over), plays the schedule once
//! connected, then disconnects after the worker has sent what it holds. It talks to its owner
//! through `ReplayEvent`s and stops when told or when its handle is dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};

use super::schedule::{Outlet, Played, Progress, ReplayOptions, play};
use super::window::{PublishCounter, WINDOW};
use crate::connection::{
    Command, ConnectSettings, Connection, ConnectionStatus, Direction, Event, ReceivedMessage, Repaint,
};
use crate::mqtt::Outgoing;

/// What a replay reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayEvent {
    /// Connecting, connected, reconnecting: in words.
    Status(String),
    /// At most every `PROGRESS_EVERY`, and after the last message.
    Progress(Progress),
    /// Over: how many were sent and why it ended.
    Ended { sent: u64, text: String, ok: bool },
}

/// Progress is reported this often at most, so a fast replay does not repaint per message.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// How long the end waits for the worker to send what it holds and DISCONNECT.
const DRAIN: Duration = Duration::from_secs(10);

/// The owner's handle: dropping it stops the replay.
pub struct Replayer {
    stop: Option<oneshot::Sender<()>>,
    events: mpsc::Receiver<ReplayEvent>,
}

impl Replayer {
    /// Starts on `runtime`; never blocks.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        mut settings: ConnectSettings,
        messages: Vec<ReceivedMessage>,
        mut options: ReplayOptions,
        repaint: Repaint,
    ) -> Self {
        let base = if settings.client_id.is_empty() { "mqtt-lab" } else { settings.client_id.as_str() };
        settings.client_id = format!("{base}-replay");
        settings.will = None;
        settings.clean_session = true;
        settings.v5.session_expiry = 0;
        options.properties &= settings.version.is_v5();
        let (stop, stop_rx) = oneshot::channel();
        let (tx, events) = mpsc::channel();
        let report = move |e: ReplayEvent| {
            let _ = tx.send(e);
            repaint();
        };
        runtime.spawn(run(settings, messages, options, report, stop_rx));
        Self { stop: Some(stop), events }
    }

    pub fn try_event(&self) -> Option<ReplayEvent> {
        self.events.try_recv().ok()
    }

    /// Waits at most `timeout` for the next event (the command line; never on the UI thread).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<ReplayEvent> {
        self.events.recv_timeout(timeout).ok()
    }

    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Replayer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The connection, shared by the schedule (sending) and the event loop (reading) of one task:
/// its event receiver is not `Sync`, so each call takes the lock, never held across an await.
struct Shared(Mutex<Connection>);

impl Shared {
    fn send(&self, command: Command) {
        if let Ok(conn) = self.0.lock() {
            conn.send(command);
        }
    }

    fn try_event(&self) -> Option<Event> {
        self.0.lock().ok().and_then(|conn| conn.try_event())
    }
}

/// The schedule's way into the connection: at most `WINDOW` messages handed to the worker and
/// not yet seen leaving (`left`, kept by the event loop from the relay's taps).
struct Gate<'a> {
    conn: &'a Shared,
    handed: u64,
    left: &'a AtomicU64,
    /// Woken by the event loop when more have left.
    more_left: &'a Notify,
}

impl Outlet for Gate<'_> {
    fn send(&mut self, message: Outgoing) {
        self.conn.send(Command::Publish(message));
        self.handed += 1;
    }

    async fn room(&mut self) {
        // A wake between the load and the wait is kept by `Notify` as a permit.
        while self.handed.saturating_sub(self.left.load(Ordering::Acquire)) >= WINDOW {
            self.more_left.notified().await;
        }
    }
}

/// Waits for the connection's status to say connected (`Ok`) or failed (`Err`, in words).
async fn connected(conn: &Shared, wake: &Notify, report: &impl Fn(ReplayEvent)) -> Result<(), String> {
    loop {
        wake.notified().await;
        while let Some(event) = conn.try_event() {
            match event {
                Event::Status(ConnectionStatus::Connected { .. }) => return Ok(()),
                Event::Status(ConnectionStatus::Failed(reason)) => return Err(reason),
                Event::Log(line) => report(ReplayEvent::Status(line)),
                _ => {}
            }
        }
    }
}

async fn run(
    settings: ConnectSettings,
    messages: Vec<ReceivedMessage>,
    options: ReplayOptions,
    report: impl Fn(ReplayEvent),
    mut stop: oneshot::Receiver<()>,
) {
    let wake = Arc::new(Notify::new());
    let waker = wake.clone();
    let address = format!("{}:{} as {}", settings.host, settings.port, settings.client_id);
    let conn = Shared(Mutex::new(Connection::open(
        &tokio::runtime::Handle::current(),
        settings,
        Arc::new(move || waker.notify_one()),
    )));
    report(ReplayEvent::Status(format!("Replay: connecting to {address}…")));
    tokio::select! {
        _ = &mut stop => {
            report(ReplayEvent::Ended { sent: 0, text: "Replay: stopped before connecting.".into(), ok: true });
            return;
        }
        up = connected(&conn, &wake, &report) => if let Err(reason) = up {
            report(ReplayEvent::Ended { sent: 0, text: format!("Replay: {reason}"), ok: false });
            return;
        }
    }
    report(ReplayEvent::Status(format!("Replay: connected to {address}")));
    let mut last = tokio::time::Instant::now();
    let mut latest: Option<Progress> = None;
    let (left, more_left) = (AtomicU64::new(0), Notify::new());
    let mut gate = Gate { conn: &conn, handed: 0, left: &left, more_left: &more_left };
    let schedule = play(
        &messages,
        &options,
        &mut gate,
        |p| {
            latest = Some(p);
            if last.elapsed() >= PROGRESS_EVERY {
                last = tokio::time::Instant::now();
                report(ReplayEvent::Progress(p));
            }
        },
        async {
            let _ = (&mut stop).await;
        },
    );
    // The connection's events meanwhile (its taps pile up otherwise): a lost connection is
    // reported; while it is back, the worker holds QoS 1/2 messages and drops QoS 0 ones.
    let events = async {
        let mut counter = PublishCounter::default();
        loop {
            wake.notified().await;
            while let Some(event) = conn.try_event() {
                match event {
                    Event::Tap(tap) if tap.direction == Direction::Sent => {
                        counter.feed(&tap.bytes);
                        left.store(counter.publishes, Ordering::Release);
                        more_left.notify_one();
                    }
                    Event::Status(ConnectionStatus::Reconnecting { reason, .. }) => {
                        report(ReplayEvent::Status(format!("Replay: reconnecting ({reason})")));
                    }
                    Event::Status(ConnectionStatus::Connected { .. }) => {
                        report(ReplayEvent::Status("Replay: connected again".into()));
                    }
                    Event::Status(ConnectionStatus::Failed(reason)) => return reason,
                    _ => {}
                }
            }
        }
    };
    let played = tokio::select! {
        played = schedule => played,
        reason = events => {
            let sent = latest.map_or(0, |p| p.sent);
            report(ReplayEvent::Ended { sent, text: format!("Replay: {reason} ({sent} message(s) sent)"), ok: false });
            return;
        }
    };
    if let Some(p) = latest {
        report(ReplayEvent::Progress(p));
    }
    // The worker sends what it holds, then DISCONNECT: wait for it (bounded) before reporting.
    conn.send(Command::Disconnect);
    let deadline = tokio::time::Instant::now() + DRAIN;
    'sent: while tokio::time::timeout_at(deadline, wake.notified()).await.is_ok() {
        while let Some(e) = conn.try_event() {
            if matches!(e, Event::Status(ConnectionStatus::Disconnected | ConnectionStatus::Failed(_))) {
                break 'sent;
            }
        }
    }
    let (sent, text) = match played {
        Played::Done(n) => (n, format!("Replay: {n} message(s) sent.")),
        Played::Stopped(n) => (n, format!("Replay: stopped after {n} message(s).")),
    };
    report(ReplayEvent::Ended { sent, text, ok: true });
}
