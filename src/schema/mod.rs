//! The course's message schema, shared with the firmware and the simulators: JSON Schema files
//! in `assets/schema/` (one per kind of message, with golden fixtures), the catalogue of topics
//! that names each topic's schema, and serde types for building and reading the messages.
//!
//! - `catalogue`: topic -> schema, compiled once; checks a payload and names what breaks it.
//! - `types`: `LedCommand`, `Luminosity`, `PvData`, `Sunshine`, each to and from a payload.

mod catalogue;
mod types;

pub use catalogue::{Catalogue, Check, KnownTopic, PayloadKind, SCHEMA_FILES};
pub use types::{
    LedCommand, Luminosity, PvData, Sunshine, TOPIC_LED_CMD, TOPIC_LED_STATE, TOPIC_LUMINOSITY, TOPIC_PV_DATA,
    TOPIC_SUNSHINE,
};

#[cfg(test)]
mod tests;
