//! MQTT 5 scenarios, each a function of a running broker process, judged by real clients.

pub mod clients;
pub mod expiry;
pub mod options;
pub mod properties;
pub mod reasons;
pub mod shared;
pub mod will;
