//! The connection the user opened, kept apart from the profile being edited: choosing another
//! profile while connected changes what the editor shows, never what the connection is, where
//! its messages are recorded, or what the top bar, the lists, exports and captions name.
//!
//! One `OpenConnection` per connection: the next step (several at once, issue 22) keeps a list
//! of them and a state per connection, where today the model holds the one on view.

use super::App;
use crate::connection::{Command, Connection, ConnectionStatus};
use crate::profile::Profile;

/// A connection and the profile it was opened with.
pub(super) struct OpenConnection {
    /// The profile as it was when connecting (edits made since apply at the next connect).
    pub profile: Profile,
    /// The worker's handle.
    pub handle: Connection,
}

impl App {
    /// The profile whose data the app shows: the open connection's, otherwise the selected one.
    pub fn view_profile(&self) -> &Profile {
        self.connection.as_ref().map_or_else(|| self.profile(), |c| &c.profile)
    }

    /// Where the profile on view is in the list (the connection's profile may have been renamed
    /// or deleted since: then the selected one).
    pub(super) fn view_index(&self) -> usize {
        self.connected_profile()
            .and_then(|name| self.profiles.iter().position(|p| p.name == name))
            .unwrap_or(self.selected)
    }

    /// The name of the open connection's profile, if one is open.
    pub fn connected_profile(&self) -> Option<&str> {
        self.connection.as_ref().map(|c| c.profile.name.as_str())
    }

    /// The open connection as the top bar names it: "Raspberry Pi (192.168.1.10:8883)".
    pub fn connection_title(&self) -> Option<String> {
        let c = self.connection.as_ref()?;
        let address = match (c.profile.builtin_broker, self.builtin_port()) {
            (true, Some(port)) => format!("127.0.0.1:{port}"),
            _ => format!("{}:{}", c.profile.host, c.profile.port),
        };
        Some(format!("{} ({address})", c.profile.name))
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

    /// Connect asked for: with another profile's connection up, ask first.
    pub(super) fn connect_or_ask(&mut self) {
        match self.connected_profile() {
            Some(open) if open != self.profile().name && self.is_active() => self.confirm_switch = true,
            _ => self.connect(),
        }
    }

    pub(super) fn connect(&mut self) {
        if !self.apply_port() {
            return;
        }
        match self.profile().connect_settings(self.builtin_port()) {
            Ok(settings) => {
                if self.connection.is_some() {
                    self.disconnect();
                    // The list showed the old connection's messages; the new one starts empty.
                    self.model.messages.clear();
                    self.model.stored.reset();
                }
                self.model.subscriptions.list.clear();
                let handle = Connection::open(&self.runtime, settings, self.repaint.clone());
                self.connection = Some(OpenConnection { profile: self.profile().clone(), handle });
            }
            Err(reason) => {
                self.model.note(reason.clone());
                self.model.status = ConnectionStatus::Failed(reason);
            }
        }
    }

    pub(super) fn disconnect(&mut self) {
        let active = self.is_active();
        if let Some(c) = self.connection.take() {
            c.handle.send(Command::Disconnect);
            if active {
                self.model.note(format!("Disconnected from {}.", c.profile.name));
            }
            if c.profile.name != self.profile().name {
                // The list showed the connection's messages: now it shows the selected profile's.
                self.reload_history();
                self.reset_plot();
            }
        }
        self.model.status = ConnectionStatus::Disconnected;
    }

    /// Publish and subscribe are offered while connected, and while a lost connection is being
    /// re-established (the worker holds QoS 1/2 messages and subscriptions until it is back).
    pub(super) fn can_send(&self) -> bool {
        self.connection.is_some()
            && matches!(self.model.status, ConnectionStatus::Connected { .. } | ConnectionStatus::Reconnecting { .. })
    }

    /// A published topic joins the recent topics of the connection's profile (the selected one
    /// when none is open), saved when it is new.
    pub(super) fn remember_topic(&mut self, topic: &str) {
        let i = self.view_index();
        if self.profiles[i].topic_history.first().map(String::as_str) == Some(topic) {
            return;
        }
        self.profiles[i].remember_topic(topic);
        self.save_profile_at(i);
    }

    pub(super) fn send(&mut self, command: Command) {
        if !self.connection.as_ref().is_some_and(|c| c.handle.send(command)) {
            self.model.note("Not connected: connect first.");
        }
    }
}
