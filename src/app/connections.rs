//! The app's side of connecting: which profile a connection is opened with (the selected one,
//! after asking when another profile's connection is up), what the top bar calls it, and the
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
            ConnIntent::Connect => self.connect_or_ask(),
            ConnIntent::Switch => {
                self.view.confirm_switch = false;
                self.connect();
            }
            ConnIntent::Disconnect => self.disconnect(),
            ConnIntent::Subscribe { filter, qos, options } => {
                self.session.model.subscriptions.add_with(&filter, qos, options);
                self.session.send(Command::Subscribe { filter, qos, options });
            }
            ConnIntent::WatchSys => {
                let (filter, qos) = (crate::model::WATCH_FILTER, crate::connection::Qos::AtMostOnce);
                self.session.model.subscriptions.add_for_status(filter, qos);
                self.session.send(Command::Subscribe { filter: filter.into(), qos, options: SubOptions::default() });
            }
            ConnIntent::Unsubscribe { filter } => {
                let model = &mut self.session.model;
                model.subscriptions.remove(&filter);
                model.messages.invalidate();
                self.session.send(Command::Unsubscribe { filter });
            }
            ConnIntent::ToggleMute { filter } => {
                let model = &mut self.session.model;
                if let Some(s) = model.subscriptions.list.iter_mut().find(|s| s.filter == filter) {
                    s.muted = !s.muted;
                }
                model.messages.invalidate();
            }
            ConnIntent::Publish(message) => {
                // The form's last refusal goes with its next message (not with an auto-reply's).
                self.session.model.publish_refusal = None;
                self.remember_topic(&message.topic);
                self.session.send(Command::Publish(message));
            }
            ConnIntent::Reply(message) => self.reply(&message),
        }
    }

    /// The profile whose data the app shows: the open connection's, otherwise the selected one.
    pub(super) fn view_profile(&self) -> &Profile {
        self.session.connection.as_ref().map_or_else(|| self.profiles.current(), |c| &c.profile)
    }

    /// Where the profile on view is in the list (the connection's profile may have been renamed
    /// or deleted since: then the selected one).
    pub(super) fn view_index(&self) -> usize {
        self.session
            .profile_name()
            .and_then(|name| self.profiles.list.iter().position(|p| p.name == name))
            .unwrap_or(self.profiles.selected)
    }

    /// The open connection as the top bar names it: "Raspberry Pi (192.168.1.10:8883)".
    pub(super) fn connection_title(&self) -> Option<String> {
        let c = self.session.connection.as_ref()?;
        let address = match (c.profile.builtin_broker, self.builtin.port()) {
            (true, Some(port)) => format!("127.0.0.1:{port}"),
            _ => format!("{}:{}", c.profile.host, c.profile.port),
        };
        Some(format!("{} ({address})", c.profile.name))
    }

    /// Connect asked for: with another profile's connection up, ask first.
    fn connect_or_ask(&mut self) {
        match self.session.profile_name() {
            Some(open) if open != self.profiles.current().name && self.session.is_active() => {
                self.view.confirm_switch = true;
            }
            _ => self.connect(),
        }
    }

    fn connect(&mut self) {
        if !self.apply_port() {
            return;
        }
        match self.profiles.current().connect_settings(self.builtin.port()) {
            Ok(settings) => {
                if self.session.connection.is_some() {
                    self.disconnect();
                    // The list showed the old connection's messages; the new one starts empty.
                    self.session.model.messages.clear();
                    self.session.model.stored.reset();
                }
                self.session.model.subscriptions.list.clear();
                let handle = Connection::open(&self.io.runtime, settings, self.io.repaint.clone());
                self.session.connection = Some(OpenConnection { profile: self.profiles.current().clone(), handle });
            }
            Err(reason) => {
                self.session.model.note(reason.clone());
                self.session.model.status = ConnectionStatus::Failed(reason);
            }
        }
    }

    fn disconnect(&mut self) {
        if let Some((profile, _)) = self.session.close()
            && profile.name != self.profiles.current().name
        {
            // The list showed the connection's messages: now it shows the selected profile's.
            self.reload_history();
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
