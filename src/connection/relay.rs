//! The transport relay. rumqttc cannot be handed a stream, so it connects to a local endpoint
//! here (a Unix socket; a 127.0.0.1 ephemeral port on Windows) and the relay dials the broker,
//! pumps bytes both ways, and records every chunk for the packet inspector. Reaching the broker
//! (DNS, TCP, TLS or TLS-PSK, the WebSocket upgrade) is `transport`'s; failures are left in the
//! `Report` for the worker. Over WebSocket the remote stream is `websocket::Frames`, which
//! reads and writes MQTT bytes, so the tap records packets, never frames.

#[cfg(not(unix))]
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::disconnect::DisconnectWatch;
use super::transport::{self, Session, Stream, Target};
use super::websocket::FramingError;
use super::{Event, EventSink, Tap};
use crate::mqtt::MqttVersion;

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From this app to the broker.
    Sent,
    /// From the broker to this app.
    Received,
}

/// Where rumqttc connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    #[cfg(unix)]
    Unix(std::path::PathBuf),
    #[cfg(not(unix))]
    Tcp(SocketAddr),
}

/// What the relay learned while connecting, for the worker: why the broker could not be reached
/// (in place of rumqttc's bare "connection closed"), and the TLS session of the last connection.
/// Shared by the relay's tasks and the worker only.
#[derive(Debug, Default)]
pub struct Report {
    pub failure: Option<String>,
    pub session: Option<Session>,
    /// MQTT 5: the Reason String of a CONNACK that refused the connection (rumqttc reports
    /// the code only).
    pub connack_reason: Option<String>,
    /// MQTT 5: the reason code and Reason String of the broker's DISCONNECT.
    pub disconnect: Option<(u8, Option<String>)>,
}

pub type ReportSlot = Arc<std::sync::Mutex<Report>>;

/// A running relay; its endpoint is removed when it is dropped.
pub struct Relay {
    pub endpoint: Endpoint,
    pub report: ReportSlot,
    task: tokio::task::JoinHandle<()>,
    /// The tasks pumping the local connections, awaited by `finish`.
    served: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    /// Waits (at most `grace`) until the local connections have been pumped to their end: after
    /// rumqttc closes its side, what it wrote still reaches the broker.
    pub async fn finish(self, grace: std::time::Duration) {
        let handles: Vec<_> = self.served.lock().map(|mut s| s.drain(..).collect()).unwrap_or_default();
        let deadline = tokio::time::Instant::now() + grace;
        for handle in handles {
            let _ = tokio::time::timeout_at(deadline, handle).await;
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
        #[cfg(unix)]
        {
            let Endpoint::Unix(path) = &self.endpoint;
            let _ = std::fs::remove_file(path);
        }
    }
}

enum LocalListener {
    #[cfg(unix)]
    Unix(tokio::net::UnixListener),
    #[cfg(not(unix))]
    Tcp(tokio::net::TcpListener),
}

impl Relay {
    /// Opens the local endpoint and serves every connection rumqttc makes to it. Call it within
    /// the runtime: it spawns the accept task.
    /// For MQTT 3.1 the client's CONNECT is rewritten: rumqttc speaks 3.1.1 and 5 only, and
    /// 3.1 and 3.1.1 differ on the wire, for a client, only in CONNECT's protocol name and level.
    pub fn start(target: Target, version: MqttVersion, sink: EventSink) -> std::io::Result<Self> {
        let (listener, endpoint) = listen()?;
        let target = Arc::new(target);
        let report = ReportSlot::default();
        let slot = report.clone();
        let served: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let serving = served.clone();
        let task = tokio::spawn(async move {
            loop {
                let accepted: std::io::Result<Box<dyn Stream>> = match &listener {
                    #[cfg(unix)]
                    LocalListener::Unix(l) => l.accept().await.map(|(s, _)| Box::new(s) as Box<dyn Stream>),
                    #[cfg(not(unix))]
                    LocalListener::Tcp(l) => l.accept().await.map(|(s, _)| Box::new(s) as Box<dyn Stream>),
                };
                match accepted {
                    Ok(local) => {
                        let handle = tokio::spawn(serve(local, target.clone(), version, sink.clone(), slot.clone()));
                        if let Ok(mut served) = serving.lock() {
                            served.retain(|h| !h.is_finished());
                            served.push(handle);
                        }
                    }
                    Err(e) => {
                        sink.send(Event::Log(format!("The local relay stopped: {e}.")));
                        return;
                    }
                }
            }
        });
        Ok(Self { endpoint, report, task, served })
    }
}

#[cfg(unix)]
fn listen() -> std::io::Result<(LocalListener, Endpoint)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!("mqtt-lab-{}-{}.sock", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let path = std::env::temp_dir().join(name);
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    Ok((LocalListener::Unix(listener), Endpoint::Unix(path)))
}

#[cfg(not(unix))]
fn listen() -> std::io::Result<(LocalListener, Endpoint)> {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    Ok((LocalListener::Tcp(tokio::net::TcpListener::from_std(std_listener)?), Endpoint::Tcp(addr)))
}

/// Connects one local connection to the broker and pumps bytes until either side closes.
async fn serve(local: Box<dyn Stream>, target: Arc<Target>, version: MqttVersion, sink: EventSink, report: ReportSlot) {
    let remote = match transport::connect(&target).await {
        Ok((stream, session)) => {
            if let Ok(mut report) = report.lock() {
                report.session = session;
            }
            stream
        }
        Err(reason) => {
            // Closing the local side ends rumqttc's attempt; the worker reports this reason.
            if let Ok(mut report) = report.lock() {
                report.failure = Some(reason);
            }
            return;
        }
    };
    let (mut local_r, local_w) = tokio::io::split(local);
    let (remote_r, mut remote_w) = tokio::io::split(remote);
    if version == MqttVersion::V31 && !connect_as_v31(&mut local_r, &mut remote_w, &sink).await {
        return;
    }
    tokio::select! {
        () = pump(local_r, remote_w, Direction::Sent, &sink, None) => {}
        () = pump(remote_r, local_w, Direction::Received, &sink, Some((&report, version))) => {}
    }
}

/// Why the broker's first bytes cannot be an MQTT answer to CONNECT, if they cannot: a broker's
/// first packet is CONNACK [MQTT-3.2.0-1], whose first byte is 0x20. Without this, rumqttc would
/// wait for the rest of a "packet" that never comes, and the user for a timeout.
pub fn not_a_connack(first: &[u8]) -> Option<String> {
    let &byte = first.first()?;
    if byte == 0x20 {
        return None;
    }
    let hint = if first.starts_with(b"HTTP/") {
        ": this port speaks HTTP, not MQTT (a web server?)"
    } else if matches!(byte, 0x15 | 0x16) {
        ": this port speaks TLS; turn TLS on in the profile, or use the plain MQTT port"
    } else if byte == 0x10 {
        ": a CONNECT came back (a relay or a broker echoing?)"
    } else {
        ": is this an MQTT port?"
    };
    let shown: Vec<String> = first.iter().take(8).map(|b| format!("{b:02X}")).collect();
    Some(format!(
        "The broker's first bytes ({}…) are not a CONNACK, which must come first [MQTT-3.2.0-1]{hint}",
        shown.join(" ")
    ))
}

/// The Reason String of an MQTT 5 CONNACK at the start of `first` that refuses the connection.
fn refusal_reason(first: &[u8]) -> Option<String> {
    use mqtt_lab_broker::codec::v5::{Property, PropertyId};
    use mqtt_lab_broker::codec::{Decoded, Packet, Protocol, decode};
    match decode(first, usize::MAX, Protocol::V5) {
        Ok(Decoded::Packet(Packet::ConnAck(ack), _)) if ack.reason.is_error() => {
            match ack.properties.get(PropertyId::ReasonString) {
                Some(Property::ReasonString(reason)) => Some(reason.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Reads the client's first packet (CONNECT), sends it on as MQTT 3.1; false if the
/// connection ended or the first packet was not a CONNECT.
async fn connect_as_v31(
    from: &mut (impl AsyncRead + Unpin),
    to: &mut (impl AsyncWrite + Unpin),
    sink: &EventSink,
) -> bool {
    use mqtt_lab_broker::codec::{Decoded, Packet, Protocol, decode};
    let mut buf = BytesMut::with_capacity(1024);
    loop {
        match decode(&buf, usize::MAX, Protocol::V311) {
            Ok(Decoded::Packet(Packet::Connect(mut connect), len)) => {
                connect.protocol = Protocol::V31;
                let Ok(mut rewritten) = Packet::Connect(connect).to_bytes(Protocol::V31) else { return false };
                rewritten.extend_from_slice(&buf[len..]);
                let bytes = rewritten.freeze();
                if to.write_all(&bytes).await.is_err() || to.flush().await.is_err() {
                    return false;
                }
                sink.send(Event::Tap(Tap { direction: Direction::Sent, at: SystemTime::now(), bytes }));
                return true;
            }
            Ok(Decoded::Incomplete) => {}
            Ok(_) | Err(_) => return false,
        }
        match from.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// Pumps bytes one way until either side closes. With `first_answer`, the first bytes from the
/// broker are checked: what cannot be a CONNACK is not passed on, and the reason is reported.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    direction: Direction,
    sink: &EventSink,
    answers: Option<(&ReportSlot, MqttVersion)>,
) {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut first_answer = answers;
    let mut watch = answers.filter(|(_, v)| *v == MqttVersion::V5).map(|_| DisconnectWatch::default());
    loop {
        buf.clear();
        match from.read_buf(&mut buf).await {
            Err(e) => {
                // Over WebSocket: frames that are not MQTT's are why the connection ends.
                if let (Some(framing), Some((report, _))) = (FramingError::of(&e), answers)
                    && let Ok(mut report) = report.lock()
                {
                    report.failure = Some(framing.to_string());
                }
                let _ = to.shutdown().await;
                return;
            }
            Ok(0) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(_) => {
                let bytes: Bytes = buf.split().freeze();
                // Noted before rumqttc can see the DISCONNECT or the close after it.
                if let (Some(watch), Some((report, _))) = (&mut watch, answers) {
                    watch.feed(&bytes);
                    if let Some(reason) = watch.take_reason()
                        && let Ok(mut report) = report.lock()
                    {
                        report.disconnect = Some(reason);
                    }
                }
                if let Some((report, MqttVersion::V5)) = first_answer
                    && let Some(reason) = refusal_reason(&bytes)
                    && let Ok(mut report) = report.lock()
                {
                    report.connack_reason = Some(reason);
                }
                if let Some(problem) =
                    first_answer.take().and_then(|(report, _)| Some((report, not_a_connack(&bytes)?)))
                {
                    let (report, reason) = problem;
                    if let Ok(mut report) = report.lock() {
                        report.failure = Some(reason);
                    }
                    // Shown in the packet inspector, not handed to rumqttc.
                    sink.send(Event::Tap(Tap { direction, at: SystemTime::now(), bytes }));
                    let _ = to.shutdown().await;
                    return;
                }
                // Flushed at once: a TLS or WebSocket layer must not hold a packet back.
                if to.write_all(&bytes).await.is_err() || to.flush().await.is_err() {
                    return;
                }
                sink.send(Event::Tap(Tap { direction, at: SystemTime::now(), bytes }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::not_a_connack;

    #[test]
    fn first_bytes_that_cannot_be_a_connack_are_named() {
        assert_eq!(not_a_connack(&[0x20, 2, 0, 0]), None);
        assert_eq!(not_a_connack(&[]), None);
        let http = not_a_connack(b"HTTP/1.1 400 Bad Request\r\n").unwrap();
        assert!(http.starts_with("The broker's first bytes (48 54 54 50 2F 31 2E 31…) are not a CONNACK"), "{http}");
        assert!(http.contains("[MQTT-3.2.0-1]") && http.contains("speaks HTTP"), "{http}");
        assert!(not_a_connack(&[0x15, 3, 3, 0, 2, 2, 70]).unwrap().contains("speaks TLS"));
        assert!(not_a_connack(&[0xF0, 0]).unwrap().ends_with("is this an MQTT port?"));
    }
}
