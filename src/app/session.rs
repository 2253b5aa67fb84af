//! What belongs to one connection: the connection itself (with the profile it was opened with),
//! what it has shown (status, subscriptions, messages, packets, log, `$SYS` figures) and the forms
//! that act on it (subscribe, publish). Nothing here knows about other connections, so the next
//! step (several connections at once, issue 22) keeps a list of sessions and a view index where
//! the app keeps one today.
//!
//! A session exists before its first connection too: without one open, its model shows the
//! selected profile's history and the log, its forms keep what was typed.

use crate::connection::{Command, Connection, ConnectionStatus};
use crate::model::Model;
use crate::profile::Profile;
use crate::ui::{PublishForm, SubscribeForm};

/// A connection and the profile it was opened with.
pub(super) struct OpenConnection {
    /// The profile as it was when connecting (edits made since apply at the next connect).
    pub profile: Profile,
    /// The worker's handle.
    pub handle: Connection,
}

/// One connection's state, open or not.
pub(super) struct Session {
    /// The open connection, kept apart from the profile being edited: choosing another profile
    /// changes what the editor shows, never what this connection is or where it records.
    pub connection: Option<OpenConnection>,
    /// What the connection's events built: status, subscriptions, messages, packets, log, sys.
    pub model: Model,
    /// The subscribe form, acting on this connection.
    pub subscribe_form: SubscribeForm,
    /// The publish form: each connection keeps what was typed for it.
    pub publish_form: PublishForm,
    /// Template counters, requests and auto-reply rules (see `automation`).
    pub automation: super::automation::SessionAutomation,
}

impl Session {
    /// A session with no connection, its forms filled with the course's first example.
    pub fn new(model: Model) -> Self {
        Self {
            connection: None,
            model,
            subscribe_form: SubscribeForm { filter: "PV/#".into(), ..SubscribeForm::default() },
            publish_form: PublishForm { topic: "PV/sunshine".into(), payload: "yes".into(), ..PublishForm::default() },
            automation: super::automation::SessionAutomation::default(),
        }
    }

    /// The name of the open connection's profile, if one is open.
    pub fn profile_name(&self) -> Option<&str> {
        self.connection.as_ref().map(|c| c.profile.name.as_str())
    }

    /// Whether the open connection is up or on its way (not failed, not ended).
    pub fn is_active(&self) -> bool {
        self.connection.is_some()
            && matches!(
                self.model.status,
                ConnectionStatus::Connected { .. }
                    | ConnectionStatus::Connecting
                    | ConnectionStatus::Reconnecting { .. }
            )
    }

    /// Publish and subscribe are offered while connected, and while a lost connection is being
    /// re-established (the worker holds QoS 1/2 messages and subscriptions until it is back).
    pub fn can_send(&self) -> bool {
        self.connection.is_some()
            && matches!(self.model.status, ConnectionStatus::Connected { .. } | ConnectionStatus::Reconnecting { .. })
    }

    /// Hands a command to the worker; without a connection the log says to connect first.
    pub fn send(&mut self, command: Command) {
        if !self.connection.as_ref().is_some_and(|c| c.handle.send(command)) {
            self.model.note("Not connected: connect first.");
        }
    }

    /// Closes the connection (if any); returns its profile, and whether it was up or on its way.
    pub fn close(&mut self) -> Option<(Profile, bool)> {
        let active = self.is_active();
        let closed = self.connection.take().map(|c| {
            c.handle.send(Command::Disconnect);
            if active {
                self.model.note(format!("Disconnected from {}.", c.profile.name));
            }
            (c.profile, active)
        });
        self.model.status = ConnectionStatus::Disconnected;
        closed
    }
}
