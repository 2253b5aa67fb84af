//! Simulated devices, so the whole course runs without hardware: the photovoltaic plant
//! (PV/data, PV/sunshine along a day with clouds) and the ESP32 lamp (lamp/luminosity, obeying
//! lamp/cmd as the firmware does), both speaking the course's schema.
//!
//! - `pv`: the plant's day curve and clouds, a pure function of simulated time.
//! - `lamp`: the firmware's logic in Rust (ADC mapping, commands).
//! - `clock`: real time or a time-lapse (a day in 10 minutes), and the time-lapse's clock topic.
//! - `runner`: a device on the network through the app's connection worker.

mod clock;
mod lamp;
mod pv;
mod runner;

pub use clock::{SimClock, TIME_LAPSE, TOPIC_CLOCK, clock_payload, parse_clock};
pub use lamp::{BRIGHT_RAW, DARK_RAW, Lamp, luminosity_percent};
pub use pv::{Plant, Reading, cloud_cover};
pub use runner::{Device, SimEvent, SimOptions, Simulator};
