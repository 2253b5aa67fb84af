//! The MQTT vocabulary every layer of the app shares: a leaf that depends on nothing of ours
//! but the broker's codec. Profiles, forms, the model, the worker and the simulators all speak it,
//! so a message is spelled once.
//!
//! - `version`: the protocol version a connection speaks (3.1, 3.1.1, 5).
//! - `qos`: QoS as the UI offers it.
//! - `message`: [`Outgoing`], the one outgoing message (publish form, favourites, offline queue,
//!   simulators, worker), and its MQTT 5 [`PublishProperties`].
//! - `subscribe`: MQTT 5 subscription options.
//! - `connect`: an MQTT 5 CONNECT's properties (profile and worker share them).
//! - `filter`: topic filter checks, `$share/` groups explained.
//! - `client_id`: generated client ids.

mod client_id;
mod connect;
mod filter;
mod hex;
mod message;
mod qos;
mod subscribe;
mod version;

pub use client_id::generated_client_id;
pub use connect::{ConnectV5, SESSION_NEVER_EXPIRES};
pub use filter::{SharedFilter, filter_matches, shared_filter, validate_filter};
pub use hex::{parse_hex, to_hex};
pub use message::{Outgoing, PayloadFormat, PublishProperties, UserProperty, correlation_text};
pub use qos::Qos;
pub use subscribe::{RetainHandling, SubOptions};
pub use version::MqttVersion;
