//! Connection profiles: everything needed to reach one broker, as MQTT.fx has them, validated
//! field by field.
//!
//! - `store`: one JSON file per profile in the OS config directory, written atomically.
//! - `v5`: the MQTT 5 CONNECT properties and their checks.
//! - `address`: TCP or WebSocket (with its path), and broker URLs pasted into the host field.

mod address;
pub mod import;
mod secrets;
mod store;
mod v5;

use serde::{Deserialize, Serialize};

pub use crate::mqtt::{ConnectV5, SESSION_NEVER_EXPIRES};
pub use address::{BrokerUrl, DEFAULT_PATH, Transport, check_path, looks_like_url, parse_url};
pub use secrets::{hide_query_values, redact_userinfo, url_without_secrets};
pub use store::{EXAMPLES, ProfileStore, StoreError, file_stem, write_private};

use std::time::Duration;

use bytes::Bytes;

use crate::connection::{ConnectSettings, Qos, Security, Tls, TlsVersion, Will};
pub use crate::mqtt::{MqttVersion, PayloadFormat, UserProperty, generated_client_id};
use crate::mqtt::{Outgoing, PublishProperties};
use crate::plot::{Extractor, SeriesDef, Side};

/// How the connection is secured (TLS connects in the next step of the app; the fields and
/// their checks live here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum TlsMode {
    #[default]
    None,
    /// Verified against the system's root certificates.
    CaSigned,
    SelfSignedCa {
        ca_file: String,
    },
    ClientCertificate {
        ca_file: String,
        cert_file: String,
        key_file: String,
    },
    /// TLS-PSK: identity and key in hex (at most 64 digits, the ESP32's limit).
    Psk {
        identity: String,
        key_hex: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LastWillSettings {
    pub topic: String,
    pub message: String,
    pub qos: Qos,
    pub retain: bool,
    /// MQTT 5 Will Delay Interval in seconds (0: at once); ignored by 3.1 and 3.1.1.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_secs: u32,
    /// MQTT 5 will properties (message expiry, content type, response topic, correlation data,
    /// user properties, payload format); ignored by 3.1 and 3.1.1.
    #[serde(default, skip_serializing_if = "PublishProperties::is_empty")]
    pub properties: PublishProperties,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
const fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A named one-click publish (MQTT.fx's "clipboard").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Favourite {
    pub name: String,
    #[serde(flatten)]
    pub message: Outgoing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub name: String,
    pub host: String,
    pub port: u16,
    /// MQTT straight over TCP, or in WebSocket frames (ws://; wss:// with the TLS settings).
    /// Left out of files for TCP, so files stay as older versions wrote and read them.
    #[serde(skip_serializing_if = "Transport::is_tcp")]
    pub transport: Transport,
    /// The WebSocket upgrade's request path (with any query), used with WebSocket only.
    #[serde(skip_serializing_if = "address::is_default_path")]
    pub websocket_path: String,
    pub client_id: String,
    pub version: MqttVersion,
    /// Clean Session in 3.1 and 3.1.1, Clean Start in MQTT 5 (the file keeps one name).
    pub clean_session: bool,
    /// What an MQTT 5 CONNECT asks for; left out of files while it has its defaults.
    #[serde(skip_serializing_if = "ConnectV5::is_default")]
    pub mqtt5: ConnectV5,
    pub keep_alive_secs: u16,
    pub connect_timeout_secs: u16,
    pub auto_reconnect: bool,
    pub username: Option<String>,
    /// A secret: kept in the profile file (0600), left out of exports unless asked for.
    pub password: Option<String>,
    pub last_will: Option<LastWillSettings>,
    pub tls: TlsMode,
    /// Certificate TLS without checking the broker's certificate: unsafe, shown as such.
    pub tls_skip_verify: bool,
    /// TLS versions allowed (TLS and TLS-PSK).
    pub tls_version: TlsVersion,
    /// Connect to the app's built-in broker (its port is chosen at start).
    pub builtin_broker: bool,
    pub favourites: Vec<Favourite>,
    /// Topics published to, newest first.
    pub topic_history: Vec<String>,
    /// The plot tab's series.
    pub plot: Vec<SeriesDef>,
    /// Auto-reply rules run while this profile's connection is open; left out of files while empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auto_replies: Vec<crate::automation::Rule>,
}

/// The course's plot: the plant's power in kW on the left, the ESP32's luminosity in % on the right.
pub fn default_plot() -> Vec<SeriesDef> {
    vec![
        SeriesDef { filter: "PV/data".into(), unit: "kW".into(), ..SeriesDef::default() },
        SeriesDef {
            filter: "lamp/luminosity".into(),
            extractor: Extractor::Json { path: "/value".into() },
            unit: "%".into(),
            color: crate::palette::PALETTE[1],
            side: Side::Right,
            split: true,
        },
    ]
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            name: "New profile".into(),
            host: "127.0.0.1".into(),
            port: 1883,
            transport: Transport::Tcp,
            websocket_path: address::default_path(),
            client_id: String::new(),
            version: MqttVersion::V311,
            clean_session: true,
            mqtt5: ConnectV5::default(),
            keep_alive_secs: 60,
            connect_timeout_secs: 10,
            auto_reconnect: true,
            username: None,
            password: None,
            last_will: None,
            tls: TlsMode::None,
            tls_skip_verify: false,
            tls_version: TlsVersion::Any,
            builtin_broker: false,
            favourites: Vec::new(),
            topic_history: Vec::new(),
            plot: default_plot(),
            auto_replies: Vec::new(),
        }
    }
}

/// What is wrong with one field, for the editor to show next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl TlsMode {
    pub const NAMES: [&'static str; 5] = ["None", "CA-signed", "Self-signed CA", "Client certificate", "TLS-PSK"];

    pub const fn index(&self) -> usize {
        match self {
            Self::None => 0,
            Self::CaSigned => 1,
            Self::SelfSignedCa { .. } => 2,
            Self::ClientCertificate { .. } => 3,
            Self::Psk { .. } => 4,
        }
    }

    /// An empty mode of the given index.
    pub fn from_index(i: usize) -> Self {
        match i {
            1 => Self::CaSigned,
            2 => Self::SelfSignedCa { ca_file: String::new() },
            3 => Self::ClientCertificate { ca_file: String::new(), cert_file: String::new(), key_file: String::new() },
            4 => Self::Psk { identity: String::new(), key_hex: String::new() },
            _ => Self::None,
        }
    }
}

/// Checks a PSK key: hex digits, even count, at most 64 (32 bytes, the ESP32's limit).
pub fn validate_psk_key(hex: &str) -> Result<(), String> {
    if hex.is_empty() {
        return Err("the key is empty".into());
    }
    if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("the key must be hexadecimal digits (0-9, a-f), found {c:?}"));
    }
    if hex.len() % 2 == 1 {
        return Err("the key needs an even number of hex digits (two per byte)".into());
    }
    if hex.len() > 64 {
        return Err(format!("the key has {} hex digits; an ESP32 accepts at most 64 (32 bytes)", hex.len()));
    }
    Ok(())
}

impl Profile {
    /// Every problem, field by field; empty when the profile can connect.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut err = |field: &'static str, message: String| errors.push(FieldError { field, message });
        if self.name.trim().is_empty() {
            err("name", "a profile needs a name".into());
        }
        if !self.builtin_broker && self.host.trim().is_empty() {
            err("host", "enter the broker's host name or IP address".into());
        } else if !self.builtin_broker
            && looks_like_url(&self.host)
            && let Err(e) = parse_url(&self.host)
        {
            err("host", e);
        }
        if !self.builtin_broker
            && self.transport == Transport::WebSocket
            && let Err(e) = check_path(&self.websocket_path)
        {
            err("websocket_path", e);
        }
        if !self.builtin_broker && self.port == 0 {
            err("port", "the port must be 1 to 65535 (1883 for MQTT, 8883 for MQTT over TLS)".into());
        }
        if self.version == MqttVersion::V31 && (self.client_id.is_empty() || self.client_id.len() > 23) {
            err("client_id", "MQTT 3.1 needs a client id of 1 to 23 characters".into());
        }
        if self.client_id.is_empty() && !self.clean_session {
            if self.version.is_v5() {
                err(
                    "client_id",
                    "with an empty client id the broker assigns a new one at every connection [MQTT-3.1.3-6], so no session can be resumed: enter a client id or tick Clean start".into(),
                );
            } else {
                err("client_id", "[MQTT-3.1.3-7] an empty client id needs clean session".into());
            }
        }
        if self.password.is_some() && self.username.is_none() {
            err("password", "[MQTT-3.1.2-22] a password needs a user name".into());
        }
        if let Some(will) = &self.last_will
            && let Err(e) = mqtt_lab_broker::codec::TopicName::new(will.topic.clone())
        {
            err("last_will", e.to_string());
        }
        if self.version.is_v5() {
            if self.keep_alive_secs < 5 {
                err(
                    "keep_alive",
                    format!(
                        "a keepalive of {} s is valid MQTT, but the app's MQTT 5 client (rumqttc) needs at least 5 s: enter 5 or more",
                        self.keep_alive_secs
                    ),
                );
            }
            self.mqtt5.validate(&mut err);
            if let Some(will) = &self.last_will {
                v5::validate_will(will, &mut err);
            }
        }
        let file = |path: &str| path.trim().is_empty();
        match &self.tls {
            TlsMode::SelfSignedCa { ca_file } if file(ca_file) && !self.tls_skip_verify => {
                err("tls_files", "choose the CA certificate file (PEM) that signed the broker's certificate".into());
            }
            TlsMode::ClientCertificate { ca_file, cert_file, key_file }
                if file(ca_file) || file(cert_file) || file(key_file) =>
            {
                err("tls_files", "a client certificate needs the CA file, the certificate and its key (PEM)".into());
            }
            _ => {}
        }
        if let TlsMode::Psk { identity, key_hex } = &self.tls {
            if identity.is_empty() {
                err("psk_identity", "TLS-PSK needs an identity (the name in the broker's psk_file)".into());
            }
            if let Err(e) = validate_psk_key(key_hex) {
                err("psk_key", e);
            }
        }
        errors
    }

    /// A copy without secrets, for export unless the user asks for them: no password or PSK
    /// key, no `user:password@` in a URL left in the host field, and the values of the
    /// WebSocket path's query (tokens) hidden as `***`.
    #[must_use]
    pub fn without_secrets(&self) -> Self {
        let mut p = self.clone();
        p.password = None;
        p.host = url_without_secrets(&p.host);
        p.websocket_path = hide_query_values(&p.websocket_path);
        if let TlsMode::Psk { key_hex, .. } = &mut p.tls {
            key_hex.clear();
        }
        p
    }

    /// What the connection worker needs; `builtin_port` is where the built-in broker runs.
    pub fn connect_settings(&self, builtin_port: Option<u16>) -> Result<ConnectSettings, String> {
        if looks_like_url(&self.host) && !self.builtin_broker {
            // A URL left in the host field (a hand-written file, `mqtt-lab check`): as the editor reads it.
            let mut read = self.clone();
            if read.apply_url().is_ok() {
                return read.connect_settings(builtin_port);
            }
        }
        if let Some(first) = self.validate().first() {
            return Err(format!("The profile cannot connect: {}: {}.", first.field, first.message));
        }
        let security = match &self.tls {
            TlsMode::None => Security::Plain,
            TlsMode::Psk { identity, key_hex } => {
                Security::Psk { identity: identity.clone(), key: mqtt_lab_broker::auth::decode_hex_key(key_hex)? }
            }
            TlsMode::CaSigned => Security::Tls(Tls { insecure: self.tls_skip_verify, ..Tls::default() }),
            TlsMode::SelfSignedCa { ca_file } => {
                Security::Tls(Tls { ca_file: Some(ca_file.clone()), client_cert: None, insecure: self.tls_skip_verify })
            }
            TlsMode::ClientCertificate { ca_file, cert_file, key_file } => Security::Tls(Tls {
                ca_file: Some(ca_file.clone()),
                client_cert: Some((cert_file.clone(), key_file.clone())),
                insecure: self.tls_skip_verify,
            }),
        };
        let v5 = self.version.is_v5();
        let (host, port) = if self.builtin_broker {
            let port = builtin_port.ok_or("The built-in broker is not running.")?;
            ("127.0.0.1".to_owned(), port)
        } else {
            (self.host.trim().to_owned(), self.port)
        };
        Ok(ConnectSettings {
            host,
            port,
            client_id: self.client_id.clone(),
            clean_session: self.clean_session,
            keep_alive: Duration::from_secs(u64::from(self.keep_alive_secs)),
            connect_timeout: Duration::from_secs(u64::from(self.connect_timeout_secs.max(1))),
            username: self.username.clone().filter(|u| !u.is_empty()),
            password: self.password.clone(),
            will: self.last_will.as_ref().filter(|w| !w.topic.is_empty()).map(|w| Will {
                topic: w.topic.clone(),
                payload: Bytes::copy_from_slice(w.message.as_bytes()),
                qos: w.qos,
                retain: w.retain,
                properties: if v5 { w.properties.clone() } else { PublishProperties::default() },
                delay_secs: if v5 { w.delay_secs } else { 0 },
            }),
            version: self.version,
            v5: if v5 { self.mqtt5.clone() } else { crate::connection::ConnectV5::default() },
            security,
            tls_version: self.tls_version,
            // The built-in broker listens on TCP only.
            websocket: (self.transport == Transport::WebSocket && !self.builtin_broker)
                .then(|| self.websocket_path.trim().to_owned()),
            auto_reconnect: self.auto_reconnect,
        })
    }

    /// What the MQTT 5 settings change without being wrong (a will delay longer than the
    /// session), for the editor to show; empty for 3.1 and 3.1.1.
    pub fn v5_notes(&self) -> Vec<String> {
        if !self.version.is_v5() {
            return Vec::new();
        }
        self.last_will.iter().filter_map(|w| v5::will_delay_note(w, self.mqtt5.session_expiry)).collect()
    }

    /// Remembers a topic published to, newest first, at most 20.
    pub fn remember_topic(&mut self, topic: &str) {
        self.topic_history.retain(|t| t != topic);
        self.topic_history.insert(0, topic.to_owned());
        self.topic_history.truncate(20);
    }
}

#[cfg(test)]
mod tests;
