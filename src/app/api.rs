//! What outside code may see of the app: a small, read-mostly API for the end-to-end tests
//! (which otherwise drive the app through its UI, as a user does) and for `main` (a line in the
//! Log). Everything here reads the connection on view or the selected profile; the two `_mut`
//! methods stand in for edits a test cannot type (a TLS mode, a keepalive, a picked QoS).

use std::net::SocketAddr;

use super::{App, session};
use crate::connection::ConnectionStatus;
use crate::embedded::EmbeddedStatus;
use crate::history::Stats;
use crate::model::{Model, SelfTest};
use crate::profile::Profile;
use crate::tree::TopicTree;
use crate::ui::{PlotView, PublishForm};

impl App {
    /// Adds a line to the Log (of the connection on view).
    pub fn note(&mut self, text: impl Into<String>) {
        self.sessions.shown_mut().model.note(text);
    }

    /// The status of the connection on view.
    pub fn status(&self) -> &ConnectionStatus {
        &self.sessions.shown().model.status
    }

    /// What the connection on view has shown: messages, subscriptions, packets, log, `$SYS`.
    pub fn model(&self) -> &Model {
        &self.sessions.shown().model
    }

    /// The profile of the connection on view, if it was opened (not necessarily the selected one;
    /// a disconnected session keeps it until it is closed).
    pub fn connected_profile(&self) -> Option<&str> {
        self.sessions.shown().profile_name()
    }

    /// Where the built-in broker listens, once running.
    pub fn builtin_addr(&self) -> Option<SocketAddr> {
        match self.builtin.status {
            Some(EmbeddedStatus::Running(addr)) => Some(addr),
            _ => None,
        }
    }

    /// The built-in broker's log lines, oldest first.
    pub fn broker_log(&self) -> &[String] {
        &self.builtin.log
    }

    /// Every profile, in the picker's order.
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles.list
    }

    /// The profile the editor shows and Connect uses.
    pub fn selected_profile(&self) -> &Profile {
        self.profiles.current()
    }

    /// The selected profile, for settings a test cannot type (a TLS mode, a short keepalive).
    pub fn selected_profile_mut(&mut self) -> &mut Profile {
        self.profiles.current_mut()
    }

    /// The listed connections as the connections list names them ("Raspberry Pi #2"), and
    /// which is on view.
    pub fn connections(&self) -> (Vec<String>, usize) {
        (self.sessions.list().iter().map(session::Session::label).collect(), self.sessions.shown_index())
    }

    /// What session `i` of the list has shown (the one on view is `model()`).
    pub fn model_of(&self, i: usize) -> Option<&Model> {
        self.sessions.list().get(i).map(|s| &s.model)
    }

    /// The publish form of the connection on view (what a schema form wrote into it).
    pub fn publish_form(&self) -> &PublishForm {
        &self.sessions.shown().publish_form
    }

    /// The publish form, for choices a test cannot click reliably (one of two QoS pickers).
    pub fn publish_form_mut(&mut self) -> &mut PublishForm {
        &mut self.sessions.shown_mut().publish_form
    }

    /// The history writer's last figures.
    pub fn history_stats(&self) -> Option<&Stats> {
        self.history.stats.as_ref()
    }

    /// The last connection self-test, running or done.
    pub fn self_test(&self) -> Option<&SelfTest> {
        self.tools.self_test.as_ref()
    }

    /// The plot's view: its range, the series being edited, the lines drawn last frame.
    pub fn plot_view(&self) -> &PlotView {
        &self.view.plot
    }

    /// Points on the plot.
    pub fn plot_points(&self) -> usize {
        self.plot.traces.points()
    }

    /// The topic tree of the connection on view, read-only (its topics, counts and memory, for
    /// the bench's targets: what the Topics tab shows is checked through the UI).
    pub fn tree(&self) -> &TopicTree {
        &self.sessions.shown().topics.tree
    }

    /// The topic tree of session `i` of the list (the one on view is `tree()`).
    pub fn tree_of(&self, i: usize) -> Option<&TopicTree> {
        self.sessions.list().get(i).map(|s| &s.topics.tree)
    }

    /// Whether the topic tree on view has taken in all it asked history for (seeding is over).
    pub fn tree_settled(&self) -> bool {
        self.sessions.shown().topics.settled()
    }
}
