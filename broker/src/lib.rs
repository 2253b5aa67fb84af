//! MQTT Lab's broker: a strict MQTT 3.1 / 3.1.1 broker that reads Mosquitto's configuration.
//!
//! # Layout
//! - [`codec`]: packets to bytes and back, with no I/O; also decodes with field ranges for the
//!   app's packet inspector.
//! - [`config`]: mosquitto.conf parsing into [`Config`].
//! - [`log`]: Mosquitto-style log lines, to stdout, stderr, a file or the embedding app.
//! - [`websocket`]: MQTT over WebSocket without I/O: frame headers, unmasking, the upgrade
//!   handshake, `http_dir` paths; the broker's transport runs it on sockets.
//! - [`broker`]: the running broker. `session` and `router` hold the protocol state and never
//!   touch the network; `connection` is the task per client; `server` owns listeners and
//!   shutdown; `sys` publishes `$SYS`.
//!
//! The app embeds the broker with [`Broker::start`] and [`Broker::listen`] (or [`run`]: bind a
//! listener, port 0 in tests, pass a config and a shutdown future), and asks it through an
//! [`Inspector`] what no client can know: a topic's subscribers, who stored its retained
//! message and when; it clears a retained subtree at once.

pub mod auth;
pub mod broker;
pub mod codec;
pub mod config;
pub mod log;
pub mod store;
pub mod websocket;

pub use broker::{
    BridgeInfo, Broker, BrokerError, InspectError, Inspector, RetainedInfo, SubscriberInfo, TopicInfo, run, serve,
};
pub use config::Config;
