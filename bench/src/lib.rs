//! `mqtt-lab-bench`: a load generator for MQTT 3.1.1 and MQTT 5 brokers (ours, Mosquitto, rumqttd,
//! any).
// Figures are counts turned into rates and sizes: f64 precision is plenty.
#![allow(clippy::cast_precision_loss, clippy::cast_sign_loss)]
//!
//! # Layout
//! - [`options`]: the command line.
//! - [`wire`]: the packets sent and read at full speed, framed by hand (no allocation per
//!   message); CONNECT and SUBSCRIBE go through the broker's codec.
//! - [`payload`]: the stamp every message carries (publisher, sequence number, send time) and
//!   the tracker that counts lost and duplicated messages from it.
//! - [`transport`]: TCP, TLS or TLS-PSK (OpenSSL), as `mosquitto_pub`'s options say, times the
//!   framing: MQTT straight on the connection or in [`websocket`] frames (`--ws`).
//! - [`client`]: connecting and subscribing; [`publisher`] and [`subscriber`]: the loops.
//! - [`scenario`]: conn, pub/sub/fanin/fanout, latency, retained.
//! - [`report`]: one JSON line and a table per run; [`summary`]: medians and ratios of many.
//! - [`relay`]: `mqtt-lab-bench relay`, a forwarder that does the least a broker can: the
//!   machine's floor for the latency scenario.

pub mod client;
pub mod options;
pub mod payload;
pub mod publisher;
pub mod relay;
pub mod report;
pub mod scenario;
pub mod subscriber;
pub mod summary;
pub mod transport;
pub mod websocket;
pub mod wire;

pub use options::{Options, Scenario};
pub use report::Outcome;
