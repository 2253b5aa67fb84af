//! Record and replay: recorded messages (a time range and topic filter of a connection's
//! history, or a JSON-lines file) published again into any broker, at the recorded pace, N times
//! faster or as fast as possible, once or in a loop, with an optional topic rewrite and QoS /
//! retain overrides.
//!
//! - `lines`: the JSON-lines format (one message per line), written by the message list's
//!   export and read by a replay.
//! - `source`: the messages of a history range or of a file (file work: off the UI thread).
//! - `schedule`: pure timing and rewriting, and the async loop that sends on time (tested on
//!   paused tokio time).
//! - `window`: how many messages may wait in the connection's worker (counted from the relay's
//!   taps), so a fast replay waits for the link instead of overflowing the worker's queue.
//! - `runner`: the replay as a task on the I/O runtime through the app's connection worker, as
//!   the simulators run; the app and `mqtt-lab replay` drive it alike.

pub mod lines;
mod runner;
mod schedule;
pub mod source;
mod window;

pub use lines::{parse_line, parse_lines, to_line};
pub use runner::{ReplayEvent, Replayer};
pub use schedule::{Outlet, Pace, Played, Progress, Repeat, ReplayOptions, Rewrite, offsets, play};
pub use source::{HistoryRange, from_file, from_history};
