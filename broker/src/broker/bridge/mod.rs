//! Bridges (`connection NAME` sections of mosquitto.conf): this broker as a client of another,
//! relaying the topics of each `topic` line in, out or both ways.
//!
//! - `relay`: the QoS flows across the two sides, pure (no I/O).
//! - `packets`: the CONNECTs and SUBSCRIBEs a bridge opens its sessions with.
//! - `peer`: one side as an MQTT client over a byte stream.
//! - `dial`: reaching the remote: addresses in turn, the CONNECT and its answer, backoff.
//! - `remote`: TCP, TLS (rustls) or TLS-PSK (`PskClient`) to the remote broker.
//! - `task`: one bridge's life: connect, relay, reconnect (start types, failover, backoff).
//! - `status`: each bridge's state for the app's broker panel.

mod dial;
mod packets;
mod peer;
mod relay;
mod remote;
mod status;
mod task;

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

pub use status::BridgeInfo;
pub(crate) use status::BridgeStates;

use super::Shared;
use remote::Connector;
use task::Bridge;

/// Starts one task per bridge of the config. A bridge whose certificates or key cannot be read
/// is not started: the error is logged with its name and shown in the app, and the broker runs
/// on, as Mosquitto starts on such a config (its bridge then fails at each attempt).
pub(crate) fn start(shared: &Arc<Shared>, stop: &watch::Sender<bool>, done: &mpsc::Sender<()>) {
    let mut bridges = Vec::new();
    for config in &shared.config.bridges {
        let connector = match Connector::new(config) {
            Ok(connector) => connector,
            Err(e) => {
                let why = format!("bridge {}: {e}; it is not started", config.name);
                shared.log.log(crate::log::LogType::Error, format_args!("Error: {why}."));
                shared.bridges.update(&config.name, |s| s.last_error = Some(why));
                continue;
            }
        };
        shared.bridges.update(&config.name, |_| {});
        bridges.push(Bridge {
            shared: shared.clone(),
            config: config.clone(),
            connector,
            stop: stop.subscribe(),
            done: done.clone(),
            next_address: 0,
            failures: 0,
            private: true,
            window: dial::WINDOW_3,
        });
    }
    for bridge in bridges {
        tokio::spawn(bridge.run());
    }
}
