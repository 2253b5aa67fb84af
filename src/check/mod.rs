//! The connection self-test: reach the broker one step at a time and say which step fails and
//! why, so that a student finds out why the Raspberry Pi refuses them. Used by the profile
//! editor's "Test connection" button and by `mqtt-lab check PROFILE_FILE`.
//!
//! - `probe`: the MQTT part (CONNECT, SUBSCRIBE, PUBLISH and back) spoken with the broker
//!   crate's codec over the transport's stream, so every CONNACK and SUBACK code is seen as sent.

mod probe;

use std::time::{Duration, Instant};

use crate::connection::ConnectSettings;
use crate::connection::transport::{self, Target};
use crate::connection::websocket;

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Dns,
    Tcp,
    Handshake,
    /// MQTT over WebSocket only: the HTTP upgrade after the TLS step.
    WebSocket,
    Connect,
    Subscribe,
    RoundTrip,
}

impl Step {
    pub const ALL: [Self; 7] =
        [Self::Dns, Self::Tcp, Self::Handshake, Self::WebSocket, Self::Connect, Self::Subscribe, Self::RoundTrip];

    /// The steps a connection with these settings goes through (the upgrade for WebSocket only).
    pub fn all_for(settings: &ConnectSettings) -> impl Iterator<Item = Self> {
        let websocket = settings.websocket.is_some();
        Self::ALL.into_iter().filter(move |s| websocket || *s != Self::WebSocket)
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::Dns => "DNS lookup",
            Self::Tcp => "TCP connection",
            Self::Handshake => "TLS",
            Self::WebSocket => "WebSocket upgrade",
            Self::Connect => "MQTT CONNECT",
            Self::Subscribe => "SUBSCRIBE",
            Self::RoundTrip => "Publish and receive",
        }
    }

    /// The command line's exit code when this step fails (1 is a bad profile or argument). The
    /// WebSocket upgrade, added later, has the next free code, so scripts keep theirs.
    pub const fn exit_code(self) -> u8 {
        match self {
            Self::Dns => 2,
            Self::Tcp => 3,
            Self::Handshake => 4,
            Self::Connect => 5,
            Self::Subscribe => 6,
            Self::RoundTrip => 7,
            Self::WebSocket => 8,
        }
    }
}

/// One step's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub step: Step,
    /// What was found (ok) or what went wrong, in words.
    pub outcome: Result<String, String>,
    pub elapsed: Duration,
}

/// What the self-test needs beyond the connection settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckOptions {
    /// The topic of the round trip; `None`: `mqtt-lab/check/<client id>`.
    pub topic: Option<String>,
}

/// The client id the self-test uses: the profile's with "-check" appended, so that it keeps the
/// course's prefix but does not take over the app's own session.
pub fn check_client_id(settings: &ConnectSettings) -> String {
    let base =
        if settings.client_id.is_empty() { crate::mqtt::generated_client_id() } else { settings.client_id.clone() };
    let id = format!("{base}-check");
    if settings.version == crate::mqtt::MqttVersion::V31 && id.len() > 23 {
        // MQTT 3.1 allows 23 characters; keep the prefix and the suffix.
        let keep = base.char_indices().take_while(|(i, c)| i + c.len_utf8() <= 17).map(|(_, c)| c).collect::<String>();
        format!("{}-check", keep.trim_end_matches('-'))
    } else {
        id
    }
}

/// Runs every step until one fails; `report` hears each step as it ends. Returns the failing step.
pub async fn run(
    settings: &ConnectSettings,
    options: &CheckOptions,
    mut report: impl FnMut(StepReport),
) -> Result<(), Step> {
    let target = Target::of(settings);
    let mut step = |step: Step, started: Instant, outcome: Result<String, String>| -> Result<(), Step> {
        let failed = outcome.is_err();
        report(StepReport { step, outcome, elapsed: started.elapsed() });
        if failed { Err(step) } else { Ok(()) }
    };

    let started = Instant::now();
    let resolved = transport::resolve(&target).await;
    let addrs = resolved.clone().unwrap_or_default();
    step(
        Step::Dns,
        started,
        resolved.map(|a| {
            format!("{} is {}", target.host, a.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
        }),
    )?;

    let started = Instant::now();
    let tcp = transport::dial(&target, &addrs).await;
    let peer = tcp.as_ref().ok().and_then(|s| s.peer_addr().ok());
    let Ok(tcp) = tcp else {
        return step(Step::Tcp, started, tcp.map(|_| String::new()));
    };
    step(Step::Tcp, started, Ok(format!("connected to {}", peer.map_or_else(String::new, |p| p.to_string()))))?;

    let started = Instant::now();
    let secured = transport::secure(&target, tcp).await;
    let (stream, session) = match secured {
        Ok(s) => s,
        Err(e) => return step(Step::Handshake, started, Err(e)),
    };
    let detail = match &session {
        Some(session) => session.to_string(),
        None => "none: plain MQTT, not encrypted".to_owned(),
    };
    step(Step::Handshake, started, Ok(detail))?;

    let stream = match &target.websocket {
        None => stream,
        Some(path) => {
            let started = Instant::now();
            match websocket::upgrade(stream, &target, path).await {
                Ok((framed, upgraded)) => {
                    step(Step::WebSocket, started, Ok(format!("WebSocket upgrade to {path}: {upgraded}")))?;
                    framed
                }
                Err(e) => return step(Step::WebSocket, started, Err(e)),
            }
        }
    };

    probe::mqtt_steps(stream, settings, options, &mut step).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{MqttVersion, Profile};

    fn settings(client_id: &str, version: MqttVersion) -> ConnectSettings {
        Profile { client_id: client_id.into(), version, ..Profile::default() }.connect_settings(None).unwrap()
    }

    #[test]
    fn the_check_client_id_keeps_the_prefix_and_fits_mqtt_3_1() {
        assert_eq!(check_client_id(&settings("btsiot-01", MqttVersion::V311)), "btsiot-01-check");
        let long = "btsiot-raspberry-pi-lab";
        assert_eq!(check_client_id(&settings(long, MqttVersion::V311)), format!("{long}-check"));
        let v31 = check_client_id(&settings(long, MqttVersion::V31));
        assert_eq!(v31, "btsiot-raspberry-check");
        assert!(v31.len() <= 23);
        assert!(check_client_id(&settings("", MqttVersion::V311)).starts_with("mqtt-lab-"));
    }

    #[test]
    fn every_step_has_its_own_exit_code_above_1() {
        let codes: std::collections::HashSet<u8> = Step::ALL.iter().map(|s| s.exit_code()).collect();
        assert_eq!(codes.len(), Step::ALL.len());
        assert!(codes.iter().all(|c| *c > 1));
    }
}
