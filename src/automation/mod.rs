//! What the app can publish on its own behalf, free of egui and I/O: the caller feeds it
//! received messages and the time, and sends the [`Outgoing`](crate::mqtt::Outgoing) messages
//! it returns.
//!
//! - `template`: variables in a saved publish's topic and payload (`{{now}}`, `{{uuid}}`,
//!   `{{counter}}`, `{{random A B}}`, `{{request.topic}}`…), parsed once and expanded per send.
//! - `request`: MQTT 5 request/response: pending requests matched to answers by correlation
//!   data, timeouts, and the "Reply" action for a received request.
//! - `autoreply`: rules "when a message arrives on F, publish P to T", saved with the profile,
//!   with a loop guard.

mod autoreply;
mod request;
mod template;

pub use autoreply::{MAX_REPLIES_PER_SECOND, Rule, Rules};
pub use request::{Answered, MAX_PENDING, Pending, Requests, TimedOut, reply_to};
pub use template::{Context, Env, SystemEnv, Template, has_variables};
