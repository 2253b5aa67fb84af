//! Bridges (`connection NAME` sections): this broker as a client of another.
mod relay;
