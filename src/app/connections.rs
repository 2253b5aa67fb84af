//! The app's side of connecting: which session a connection opens in (the blank one on view,
//! the profile's own listed one, or a new one beside the others), the connections list's
//! intents (show, close, open again), what the top bar calls the session on view, and the
//! connection intents, applied to the session on view.

use super::App;
use super::session::OpenConnection;
use crate::connection::{Command, Connection, ConnectionStatus};
use crate::mqtt::SubOptions;
use crate::profile::Profile;
use crate::ui::ConnIntent;

impl App {
    pub(super) fn apply_connection(&mut self, intent: ConnIntent) {
        match intent {
            ConnIntent::Connect => self.connect(false),
            ConnIntent::OpenAgain => self.connect(true),
            ConnIntent::Disconnect => {
                self.sessions.shown_mut().close();
            }
            ConnIntent::Show(id) => {
                if let Some(i) = self.sessions.index_of(id) {
                    self.show_session(i);
                }
            }
            ConnIntent::Close(id) => self.close_session(id),
            ConnIntent::Subscribe { filter, qos, options } => {
                self.sessions.shown_mut().model.subscriptions.add_with(&filter, qos, options);
                self.sessions.shown_mut().send(Command::Subscribe { filter, qos, options });
            }
            ConnIntent::WatchSys => {
                let (filter, qos) = (crate::model::WATCH_FILTER, crate::connection::Qos::AtMostOnce);
                self.sessions.shown_mut().model.subscriptions.add_for_status(filter, qos);
                self.sessions.shown_mut().send(Command::Subscribe {
                    filter: filter.into(),
                    qos,
                    options: SubOptions::default(),
                });
            }
            ConnIntent::Unsubscribe { filter } => {
                let model = &mut self.sessions.shown_mut().model;
                model.subscriptions.remove(&filter);
                model.messages.invalidate();
                self.sessions.shown_mut().send(Command::Unsubscribe { filter });
            }
            ConnIntent::ToggleMute { filter } => {
                let model = &mut self.sessions.shown_mut().model;
                if let Some(s) = model.subscriptions.list.iter_mut().find(|s| s.filter == filter) {
                    s.muted = !s.muted;
                }
                model.messages.invalidate();
            }
            ConnIntent::Publish(message) => {
                // The form's last refusal goes with its next message (not with an auto-reply's).
                self.sessions.shown_mut().model.publish_refusal = None;
                self.remember_topic(&message.topic);
                self.sessions.shown_mut().send(Command::Publish(message));
            }
            ConnIntent::Reply(message) => self.reply(&message),
        }
    }

    /// The profile whose data the app shows: the session on view's, otherwise the selected one.
    pub(super) fn view_profile(&self) -> &Profile {
        self.sessions.shown().connection.as_ref().map_or_else(|| self.profiles.current(), |c| &c.profile)
    }

    /// Where the profile on view is in the list (the connection's profile may have been renamed
    /// or deleted since: then the selected one).
    pub(super) fn view_index(&self) -> usize {
        self.sessions
            .shown()
            .profile_name()
            .and_then(|name| self.profiles.list.iter().position(|p| p.name == name))
            .unwrap_or(self.profiles.selected)
    }

    /// The session on view as the top bar names it: "Raspberry Pi #2 (192.168.1.10:8883)".
    pub(super) fn connection_title(&self) -> Option<String> {
        let s = self.sessions.shown();
        let c = s.connection.as_ref()?;
        Some(format!("{} ({})", s.label(), c.address))
    }

    /// Connects the selected profile. `again`: beside its open connection, with a distinct
    /// client id. Otherwise in the blank session on view, or in the profile's own session when
    /// it is listed but down, or else in a new session; an active one is only shown.
    fn connect(&mut self, again: bool) {
        if !self.apply_port() {
            return;
        }
        let name = self.profiles.current().name.clone();
        let listed: Vec<(usize, bool)> = self.sessions.of_profile(&name).map(|(i, s)| (i, s.is_active())).collect();
        // The session on view when it is this profile's and down: reconnected in place.
        let shown = self.sessions.shown_index();
        let shown_down = listed.iter().any(|&(i, active)| i == shown && !active);
        if !again
            && !shown_down
            && let Some(&(i, _)) = listed.iter().find(|(_, active)| *active)
        {
            self.show_session(i);
            return;
        }
        // Else the blank one on view, else the profile's first listed one, else a new one.
        let reuse = if again {
            None
        } else if shown_down {
            Some(shown)
        } else {
            self.sessions.blank_shown().or_else(|| listed.first().map(|&(i, _)| i))
        };
        let instance = match reuse {
            Some(i) if self.sessions.list()[i].connection.is_some() => self.sessions.list()[i].instance,
            _ => self.sessions.instance_number(&name),
        };
        let mut profile = self.profiles.current().clone();
        if instance > 1 && !profile.client_id.is_empty() {
            // Distinct ids, so the broker keeps both: the same id would take the other's place.
            profile.client_id = format!("{}-{instance}", profile.client_id);
        }
        let settings = match profile.connect_settings(self.builtin.port()) {
            Ok(settings) => settings,
            Err(reason) => {
                let s = self.sessions.shown_mut();
                s.model.note(reason.clone());
                if s.connection.is_none() {
                    s.model.status = ConnectionStatus::Failed(reason);
                }
                return;
            }
        };
        // Its own listed session keeps its tree; a new or blank one is seeded with the profile's.
        let seed = reuse.is_none_or(|i| self.sessions.list()[i].connection.is_none());
        let i = reuse.unwrap_or_else(|| self.sessions.add());
        // A WebSocket connection is named by its URL: "ws://host:9001/mqtt" says what the bar's
        // "not encrypted" is about. Shown in the bar and the log: no user info, no query values
        // (tokens travel there).
        let host = crate::profile::redact_userinfo(&settings.host);
        let address = match &settings.websocket {
            Some(path) => {
                let scheme = if settings.security == crate::connection::Security::Plain { "ws" } else { "wss" };
                format!("{scheme}://{host}:{}{}", settings.port, crate::profile::hide_query_values(path))
            }
            None => format!("{host}:{}", settings.port),
        };
        let websocket = settings.websocket.is_some();
        let client_id = settings.client_id.clone();
        let handle = Connection::open(&self.io.runtime, settings, self.io.repaint.clone());
        let s = self.sessions.at_mut(i);
        s.close();
        // On its way from now (before the worker's first event): another session taken over by
        // this one's client id must see it as up.
        s.model.status = ConnectionStatus::Connecting;
        s.model.subscriptions.list.clear();
        s.instance = instance;
        s.connection = Some(OpenConnection { profile, address, websocket, client_id, handle: Some(handle) });
        if again {
            s.model.note(format!(
                "Opened {} beside the first, as client id {:?}.",
                s.label(),
                s.connection.as_ref().map_or("", |c| c.client_id.as_str())
            ));
        }
        if seed {
            self.seed_topics(i);
        }
        self.show_session(i);
    }

    /// Puts session `i` on view: the plot, the list's scroll and selection and the inspector's
    /// selection belong to what was shown before.
    pub(super) fn show_session(&mut self, i: usize) {
        if i == self.sessions.shown_index() {
            return;
        }
        self.sessions.show(i);
        self.view.messages = crate::ui::MessagesView::default();
        self.view.inspector = crate::ui::InspectorView::default();
        self.reset_plot();
    }

    /// Removes a session from the list, disconnecting it; with none left, the blank session
    /// shows the selected profile's history.
    fn close_session(&mut self, id: u64) {
        let Some(i) = self.sessions.index_of(id) else { return };
        let shown = self.sessions.shown_index() == i;
        let Some(gone) = self.sessions.remove(i) else { return };
        if let Some(c) = &gone.connection {
            let label = gone.label();
            let address = &c.address;
            self.sessions.shown_mut().model.note(format!("Closed {label} ({address})."));
        }
        if shown || self.sessions.list().iter().all(|s| s.connection.is_none()) {
            self.view.messages = crate::ui::MessagesView::default();
            self.view.inspector = crate::ui::InspectorView::default();
            if self.sessions.shown().connection.is_none() {
                self.reload_history();
                self.seed_topics(self.sessions.shown_index());
            }
            self.reset_plot();
        }
    }

    /// A published topic joins the recent topics of the connection's profile (the selected one
    /// when none is open), saved when it is new.
    fn remember_topic(&mut self, topic: &str) {
        let i = self.view_index();
        if self.profiles.list[i].topic_history.first().map(String::as_str) == Some(topic) {
            return;
        }
        self.profiles.list[i].remember_topic(topic);
        self.save_profile_at(i);
    }
}
