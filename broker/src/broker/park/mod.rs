//! Idle connections without a task: a plain TCP connection with nothing to do is taken off
//! tokio (its task ends and its socket leaves tokio's reactor) and kept here, its socket
//! watched by one thread of our own through epoll (mio). Its bytes arriving, or anything raised
//! on its [`Wake`] (a message for it, its keepalive, a takeover, shutdown), puts it back on
//! tokio as a new task, where it carries on as if it had only been waiting.
//!
//! Why: an idle client's tokio task is 384 bytes (the task cell, cache-line aligned) and its
//! socket's registration in tokio's reactor 256 more (`ScheduledIo`, cache-padded, in an
//! `Arc`), before any state of ours: together more than Mosquitto's whole 749 bytes per
//! connection. Parked, a connection is its own state plus a slot here; the kernel's epoll entry
//! is not in the process's memory. docs/PERFORMANCE.md has the measurements.
//!
//! - `lot`: the table of parked connections and the thread watching their sockets.
//! - `policy`: when a connection parks.

mod lot;
mod policy;

pub(crate) use lot::{Asleep, Group, GroupId, available, park, parked_in, request_resume};
pub(crate) use policy::{QUIET_US, Sleepiness};
