//! MQTT Lab, the desktop workbench.
//!
//! # Layout
//! - [`connection`]: one broker connection: `Command` in, `Event` out; a worker per connection
//!   on the tokio runtime, rumqttc behind our byte-tapping transport relay.
pub mod connection;
