//! A simulated device on the network: a task on the I/O runtime that connects with a profile's
//! settings (TCP, TLS or TLS-PSK, through the same connection worker as the app), publishes what
//! the device would, and (the lamp) obeys commands. It talks to its owner through `SimEvent`s.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::{Notify, oneshot};

use super::{Lamp, Plant, SimClock, TIME_LAPSE, TOPIC_CLOCK, clock_payload};
use crate::connection::{Command, ConnectSettings, Connection, ConnectionStatus, Event, Qos, Repaint};
use crate::localtime::midnight;
use crate::mqtt::Outgoing;
use crate::schema::{Sunshine, TOPIC_LED_CMD, TOPIC_LED_STATE, TOPIC_LUMINOSITY, TOPIC_PV_DATA, TOPIC_SUNSHINE};

/// Which device to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// The photovoltaic plant: PV/data and PV/sunshine.
    Pv,
    /// The ESP32 lamp: lamp/luminosity, obeys lamp/cmd, reports lamp/state.
    Lamp,
}

impl Device {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pv => "PV plant",
            Self::Lamp => "ESP32 lamp",
        }
    }

    /// Appended to the profile's client id (the course prefix stays at the front).
    const fn suffix(self) -> &'static str {
        match self {
            Self::Pv => "-pv",
            Self::Lamp => "-lamp",
        }
    }
}

/// How a simulation runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimOptions {
    /// 1: real time; `TIME_LAPSE`: a day in 10 minutes (starting at 06:00 today, when the
    /// device first connects). Any speed above 1 is a time-lapse: the plant then publishes every
    /// 2.4 simulated minutes (every second at `TIME_LAPSE`) with its clock on `PV/clock`.
    pub speed: f64,
    /// Stop after this many publishes (the command line's --count).
    pub count: Option<u64>,
}

/// What a simulation reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimEvent {
    /// Connecting, connected, reconnecting: in words.
    Status(String),
    Published {
        topic: String,
        payload: String,
    },
    /// A command the lamp obeyed or refused, and other remarks.
    Log(String),
    /// The simulation is over, and why.
    Ended(String),
}

/// The owner's handle: dropping it stops the device.
pub struct Simulator {
    pub device: Device,
    stop: Option<oneshot::Sender<()>>,
    events: mpsc::Receiver<SimEvent>,
}

impl Simulator {
    pub fn start(
        runtime: &tokio::runtime::Handle,
        device: Device,
        mut settings: ConnectSettings,
        options: SimOptions,
        repaint: Repaint,
    ) -> Self {
        let base = if settings.client_id.is_empty() { "mqtt-lab-sim" } else { settings.client_id.as_str() };
        settings.client_id = format!("{base}{}", device.suffix());
        settings.will = None;
        settings.clean_session = true;
        // MQTT 5: a clean start alone leaves a session behind for the profile's expiry; a device
        // that starts afresh each time keeps none [MQTT-3.1.2-23].
        settings.v5.session_expiry = 0;
        let (stop, stop_rx) = oneshot::channel();
        let (tx, events) = mpsc::channel();
        let report = move |e: SimEvent| {
            let _ = tx.send(e);
            repaint();
        };
        runtime.spawn(run(device, settings, options, report, stop_rx));
        Self { device, stop: Some(stop), events }
    }

    pub fn try_event(&self) -> Option<SimEvent> {
        self.events.try_recv().ok()
    }

    /// Waits at most `timeout` for the next event (the command line; never on the UI thread).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<SimEvent> {
        self.events.recv_timeout(timeout).ok()
    }

    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop();
    }
}

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// A jitter in [-1, 1) from a counter, for sensor noise.
fn jitter(n: u64) -> f64 {
    // The low bits of a multiplicative hash: a fraction, exact.
    #[allow(clippy::cast_precision_loss)]
    let f = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
    f * 2.0 - 1.0
}

/// Publishes and says so.
fn publish(conn: &Connection, report: &impl Fn(SimEvent), topic: &str, payload: String, qos: Qos, retain: bool) {
    conn.send(Command::Publish(Outgoing::new(topic, Bytes::from(payload.clone()), qos, retain)));
    report(SimEvent::Published { topic: topic.to_owned(), payload });
}

/// The simulated clock from now: a time-lapse from 06:00 today, real time otherwise.
fn started_clock(speed: f64) -> SimClock {
    let real_now = now_secs();
    let sim_start = if speed > 1.0 { midnight(real_now) + 6.0 * 3_600.0 } else { real_now };
    SimClock::new(real_now, sim_start, speed)
}

/// The plant's update: in a time-lapse its clock first (so a subscriber has it when the data
/// comes), the power, and whether the sun shines when that changed.
fn publish_pv(
    conn: &Connection,
    report: &impl Fn(SimEvent),
    reading: &super::Reading,
    clock: Option<f64>,
    sunshine: &mut Option<Sunshine>,
) {
    if let Some(sim_now) = clock {
        publish(conn, report, TOPIC_CLOCK, clock_payload(sim_now), Qos::AtMostOnce, false);
    }
    publish(conn, report, TOPIC_PV_DATA, reading.power.to_payload(), Qos::AtMostOnce, false);
    if *sunshine != Some(reading.sunshine) {
        *sunshine = Some(reading.sunshine);
        publish(conn, report, TOPIC_SUNSHINE, reading.sunshine.to_payload().to_owned(), Qos::AtLeastOnce, true);
    }
}

async fn run(
    device: Device,
    settings: ConnectSettings,
    options: SimOptions,
    report: impl Fn(SimEvent),
    mut stop: oneshot::Receiver<()>,
) {
    let wake = Arc::new(Notify::new());
    let waker = wake.clone();
    let conn = Connection::open(&tokio::runtime::Handle::current(), settings, Arc::new(move || waker.notify_one()));
    let time_lapse = options.speed > 1.0;
    // Real time until the first connection; then a time-lapse starts at 06:00, so its first
    // reading is 06:00 however long the connection took (at 144x, 2 s of TLS is 5 minutes).
    let mut clock: Option<SimClock> = None;
    let sim_now = |clock: Option<SimClock>| clock.map_or_else(now_secs, |c| c.now(now_secs()));
    // The lamp publishes every 3 s as the firmware does; the plant every 5 s, or every 2.4
    // simulated minutes in a time-lapse (every second at `TIME_LAPSE`).
    let every = match device {
        Device::Lamp => Duration::from_secs(3),
        Device::Pv if time_lapse => Duration::from_secs_f64((TIME_LAPSE / options.speed).max(0.001)),
        Device::Pv => Duration::from_secs(5),
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let plant = Plant::default();
    let mut lamp = Lamp::default();
    let mut connected = false;
    let mut sunshine: Option<Sunshine> = None;
    let (mut published, mut n) = (0u64, 0u64);
    report(SimEvent::Status(format!("{}: connecting…", device.name())));
    loop {
        tokio::select! {
            _ = &mut stop => {
                conn.send(Command::Disconnect);
                report(SimEvent::Ended(format!("{}: stopped.", device.name())));
                return;
            }
            () = wake.notified() => {
                while let Some(event) = conn.try_event() {
                    match event {
                        Event::Status(ConnectionStatus::Connected { .. }) => {
                            connected = true;
                            clock.get_or_insert_with(|| started_clock(options.speed));
                            // The first reading (or the first after a reconnection) now, not a tick later.
                            tick.reset_immediately();
                            report(SimEvent::Status(format!("{}: connected", device.name())));
                            if device == Device::Lamp {
                                conn.send(Command::Subscribe { filter: TOPIC_LED_CMD.into(), qos: Qos::AtLeastOnce, options: crate::mqtt::SubOptions::default() });
                                let state = crate::schema::LedCommand::pwm(lamp.brightness).map(|c| c.to_payload());
                                if let Ok(state) = state {
                                    publish(&conn, &report, TOPIC_LED_STATE, state, Qos::AtLeastOnce, true);
                                }
                            }
                            // A new connection re-announces whether the sun shines.
                            sunshine = None;
                        }
                        Event::Status(ConnectionStatus::Reconnecting { reason, .. }) => {
                            connected = false;
                            report(SimEvent::Status(format!("{}: reconnecting ({reason})", device.name())));
                        }
                        Event::Status(ConnectionStatus::Failed(reason)) => {
                            report(SimEvent::Ended(format!("{}: {reason}", device.name())));
                            return;
                        }
                        Event::Message(m) if device == Device::Lamp && m.topic == TOPIC_LED_CMD => match lamp.command(&m.payload) {
                            Ok(applied) => {
                                report(SimEvent::Log(format!("{}: LED at {} %", device.name(), applied.value())));
                                publish(&conn, &report, TOPIC_LED_STATE, applied.to_payload(), Qos::AtLeastOnce, true);
                                n += 1;
                                let daylight = plant.at(sim_now(clock)).daylight;
                                publish(&conn, &report, TOPIC_LUMINOSITY, lamp.reading(daylight, jitter(n)).to_payload(), Qos::AtMostOnce, false);
                            }
                            Err(e) => report(SimEvent::Log(format!("{}: LED command refused: {e}", device.name()))),
                        },
                        _ => {}
                    }
                }
            }
            _ = tick.tick() => {
                if !connected {
                    continue;
                }
                n += 1;
                let now = sim_now(clock);
                let reading = plant.at(now);
                match device {
                    Device::Pv => {
                        publish_pv(&conn, &report, &reading, time_lapse.then_some(now), &mut sunshine);
                    }
                    Device::Lamp => {
                        publish(&conn, &report, TOPIC_LUMINOSITY, lamp.reading(reading.daylight, jitter(n)).to_payload(), Qos::AtMostOnce, false);
                    }
                }
                published += 1;
                if options.count.is_some_and(|c| published >= c) {
                    conn.send(Command::Disconnect);
                    // The worker sends what is queued, then DISCONNECT; wait for it (bounded).
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
                    'sent: while tokio::time::timeout_at(deadline, wake.notified()).await.is_ok() {
                        while let Some(e) = conn.try_event() {
                            if matches!(e, Event::Status(ConnectionStatus::Disconnected | ConnectionStatus::Failed(_))) {
                                break 'sent;
                            }
                        }
                    }
                    report(SimEvent::Ended(format!("{}: {published} update(s) sent.", device.name())));
                    return;
                }
            }
        }
    }
}
