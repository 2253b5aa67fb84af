pub mod codec;
pub mod config;
pub mod log;
