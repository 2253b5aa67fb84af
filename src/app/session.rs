//! What belongs to one connection: the connection itself (with the profile it was opened with),
//! what it has shown (status, subscriptions, messages, packets, log, `$SYS` figures) and the forms
//! that act on it (subscribe, publish). Nothing here knows about other connections: `sessions`
//! keeps the list and which one is on view.
//!
//! A session exists before its first connection too: without one open, its model shows the
//! selected profile's history and the log, its forms keep what was typed.

use crate::connection::{Command, Connection, ConnectionStatus};
use crate::model::Model;
use crate::profile::Profile;
use crate::ui::{PublishForm, SubscribeForm};

/// A connection and the profile it was opened with. It stays after a Disconnect (its messages
/// stay on view) until the session is closed.
pub(super) struct OpenConnection {
    /// The profile as it was when connecting (edits made since apply at the next connect), with
    /// the client id this connection used.
    pub profile: Profile,
    /// Where it connects, "127.0.0.1:1883": two sessions with one client id on one broker take
    /// each other's place.
    pub address: String,
    /// MQTT inside WebSocket frames (ws:// or wss://), for the bar to say so: taken from the
    /// settings, never guessed from the address text (a profile may be named "ws://x").
    pub websocket: bool,
    /// The client id sent in CONNECT ("" when the broker assigns one).
    pub client_id: String,
    /// The worker's handle; `None` once disconnected.
    pub handle: Option<Connection>,
}

/// One connection's state, open or not.
pub(super) struct Session {
    /// Never reused: late reports for a closed session are recognised by it.
    pub id: u64,
    /// 1 for the first connection of a profile, 2 for one opened again beside it ("#2").
    pub instance: usize,
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
    /// Every topic it has seen, as a tree, and the Topics tab's state.
    pub topics: super::topics::SessionTopics,
}

impl Session {
    /// A session with no connection, its forms filled with the course's first example.
    pub fn new(id: u64, model: Model) -> Self {
        Self {
            id,
            instance: 1,
            connection: None,
            model,
            subscribe_form: SubscribeForm { filter: "PV/#".into(), ..SubscribeForm::default() },
            publish_form: PublishForm { topic: "PV/sunshine".into(), payload: "yes".into(), ..PublishForm::default() },
            automation: super::automation::SessionAutomation::default(),
            topics: super::topics::SessionTopics::default(),
        }
    }

    /// The name of the connection's profile, if one was opened.
    pub fn profile_name(&self) -> Option<&str> {
        self.connection.as_ref().map(|c| c.profile.name.as_str())
    }

    /// How the connections list and captions call it: "Raspberry Pi", "Raspberry Pi #2".
    pub fn label(&self) -> String {
        match (self.profile_name(), self.instance) {
            (None, _) => "Not connected".to_owned(),
            (Some(name), 1) => name.to_owned(),
            (Some(name), n) => format!("{name} #{n}"),
        }
    }

    /// The connection's colour in the list: by id, so it keeps it while others come and go.
    pub fn colour(&self) -> egui::Color32 {
        let [r, g, b] = crate::palette::PALETTE[(self.id as usize) % crate::palette::PALETTE.len()];
        egui::Color32::from_rgb(r, g, b)
    }

    /// Whether the open connection is up or on its way (not failed, not ended).
    pub fn is_active(&self) -> bool {
        self.connection.as_ref().is_some_and(|c| c.handle.is_some())
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
        self.connection.as_ref().is_some_and(|c| c.handle.is_some())
            && matches!(self.model.status, ConnectionStatus::Connected { .. } | ConnectionStatus::Reconnecting { .. })
    }

    /// The client id that names this connection's own rows in history.
    pub fn client_id(&self) -> Option<&str> {
        self.connection.as_ref().map(|c| c.client_id.as_str())
    }

    /// The worker's handle, while there is one.
    pub fn handle(&self) -> Option<&Connection> {
        self.connection.as_ref().and_then(|c| c.handle.as_ref())
    }

    /// Hands a command to the worker; without a connection the log says to connect first.
    pub fn send(&mut self, command: Command) {
        if !self.handle().is_some_and(|h| h.send(command)) {
            self.model.note("Not connected: connect first.");
        }
    }

    /// Ends the connection (if any) and keeps the session, its profile and what it showed;
    /// returns whether it was up or on its way.
    pub fn close(&mut self) -> bool {
        let active = self.is_active();
        if let Some(handle) = self.connection.as_mut().and_then(|c| c.handle.take()) {
            handle.send(Command::Disconnect);
            if active {
                let label = self.label();
                self.model.note(format!("Disconnected from {label}."));
            }
        }
        self.model.status = ConnectionStatus::Disconnected;
        active
    }
}
