//! MQTT Lab, the desktop workbench.
//!
//! # Layout
//! - [`app`]: the eframe app: drains events in `logic()`, draws panels and applies intents.
//! - [`model`]: the state the panels show, free of egui; events from connections change it.
//! - [`ui`]: one small module per panel; each returns the user's intents.
//! - [`connection`]: one broker connection: `Command` in, `Event` out; a worker per connection
//!   on the tokio runtime, rumqttc behind our byte-tapping transport relay.
//! - [`check`]: the connection self-test, step by step (the editor's button, `mqtt-lab check`).
//! - [`cli`]: the command line (`mqtt-lab check PROFILE_FILE`).
//! - [`embedded`]: the built-in broker, in-process.
//! - [`pcap`]: a captured session as a pcapng file for Wireshark ("Save for Wireshark", `mqtt-lab capture`).
//! - [`plot`]: series values from payloads and min/max decimation for the plot tab.
//! - [`schema`]: the course's message schema (JSON Schema files, topics, serde types).
//! - [`simulate`]: simulated PV plant and ESP32 lamp (app panel and `mqtt-lab simulate`).
//! - [`replay`]: recorded messages (history or JSON lines) published again on their timing.
//! - [`history`]: received messages in SQLite, written in batches by a named thread.
//! - [`profile`]: connection profiles and their files.
//! - [`mqtt`]: the MQTT vocabulary all layers share (version, QoS, the outgoing message,
//!   properties, subscription options, filter checks): a leaf.
//! - [`palette`], [`localtime`]: colours and local clock time, leaves shared by plot and model.
//! - [`automation`]: publish templates (`{{now}}`, `{{counter}}`…), request/response, auto-reply rules.
//! - [`settings`]: the theme and window geometry kept across restarts.
//! - [`tree`]: the topic tree of a connection (counts, rates, retained, staleness), its view and rows.

pub mod app;
pub mod automation;
pub mod check;
pub mod cli;
pub mod connection;
pub mod embedded;
pub mod history;
pub mod localtime;
pub mod model;
pub mod mqtt;
pub mod palette;
pub mod pcap;
pub mod plot;
pub mod replay;
pub mod schema;
pub mod settings;
pub mod simulate;
pub mod tree;
pub mod ui;

pub use app::{App, AppOptions};
pub mod profile;
