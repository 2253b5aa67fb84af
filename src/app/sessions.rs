//! The open connections: a list of sessions, one of them on view. Each session has its own
//! worker, model (status, subscriptions, messages, packets, log, `$SYS`), forms and automation;
//! the window shows one at a time and the connections list switches between them.
//!
//! The list is never empty: before anything is opened (and after the last session is closed) it
//! holds one blank session, which shows the selected profile's history and keeps what was typed
//! in its forms. A session stays listed after it is disconnected, with its messages, until it is
//! closed: as in MQTTX, a dropped connection is something to look at, not something that vanishes.

use super::session::Session;
use crate::connection::ConnectionStatus;
use crate::model::Model;

/// The sessions and which one is on view.
pub(super) struct Sessions {
    /// In the order they were opened; never empty.
    list: Vec<Session>,
    /// Index of the session on view.
    shown: usize,
    /// Ids are never reused, so a late report (an export, a history read) for a closed session
    /// is recognised and dropped rather than shown in the session that took its place.
    next_id: u64,
}

impl Sessions {
    /// One blank session holding `model` (the log of the app's start, the reloaded history).
    pub fn new(model: Model) -> Self {
        Self { list: vec![Session::new(0, model)], shown: 0, next_id: 1 }
    }

    pub fn shown(&self) -> &Session {
        &self.list[self.shown]
    }

    pub fn shown_mut(&mut self) -> &mut Session {
        &mut self.list[self.shown]
    }

    pub fn shown_index(&self) -> usize {
        self.shown
    }

    pub fn list(&self) -> &[Session] {
        &self.list
    }

    pub fn at_mut(&mut self, i: usize) -> &mut Session {
        &mut self.list[i]
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The session with `id`, if it is still listed.
    pub fn index_of(&self, id: u64) -> Option<usize> {
        self.list.iter().position(|s| s.id == id)
    }

    /// Shows session `i` (ignored when out of range).
    pub fn show(&mut self, i: usize) {
        if i < self.list.len() {
            self.shown = i;
        }
    }

    /// The sessions opened with profile `name`, oldest first.
    pub fn of_profile<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (usize, &'a Session)> + 'a {
        self.list.iter().enumerate().filter(move |(_, s)| s.profile_name() == Some(name))
    }

    /// Whose history session `i` lists: its profile's, or only its own rows (its client id)
    /// while another listed session has the same profile (a profile open twice).
    pub fn history_client(&self, i: usize) -> Option<String> {
        let s = &self.list[i];
        let name = s.profile_name()?;
        (self.of_profile(name).count() > 1).then(|| s.client_id().unwrap_or_default().to_owned())
    }

    /// A new session after the others, carrying over the forms of the one on view (what was
    /// typed is not lost by opening another connection); returns its index.
    pub fn add(&mut self) -> usize {
        let session = self.fresh(self.shown);
        self.list.push(session);
        self.list.len() - 1
    }

    /// A new session with the next id, its forms as session `from` has them.
    fn fresh(&mut self, from: usize) -> Session {
        let id = self.next_id;
        self.next_id += 1;
        let mut session = Session::new(id, Model::default());
        let from = &self.list[from];
        session.subscribe_form = from.subscribe_form.clone();
        session.publish_form = from.publish_form.clone();
        session
    }

    /// A session that can take a new connection in place: the one on view when blank.
    pub fn blank_shown(&self) -> Option<usize> {
        self.list[self.shown].connection.is_none().then_some(self.shown)
    }

    /// Removes session `i` (closing its connection first); the neighbour before it comes on
    /// view when it was. The last session is replaced by a blank one. Returns the closed one.
    pub fn remove(&mut self, i: usize) -> Option<Session> {
        if i >= self.list.len() {
            return None;
        }
        self.list[i].close();
        if self.list.len() == 1 {
            let blank = self.fresh(i);
            self.list.push(blank);
        }
        let gone = self.list.remove(i);
        if self.shown > i || self.shown >= self.list.len() {
            self.shown = self.shown.saturating_sub(1);
        }
        Some(gone)
    }

    /// The number ("#2") a new connection of `name` takes: one more than the listed ones.
    pub fn instance_number(&self, name: &str) -> usize {
        self.of_profile(name).map(|(_, s)| s.instance).max().unwrap_or(0) + 1
    }

    /// Another listed session that is up or on its way to the same broker as session `i`, with
    /// the same client id: a broker keeps one connection per client id and closes the other.
    pub fn same_client_as(&self, i: usize) -> Option<&Session> {
        let me = self.list.get(i)?.connection.as_ref()?;
        let (address, id) = (me.address.as_str(), me.client_id.as_str());
        if id.is_empty() {
            return None;
        }
        self.list.iter().enumerate().find_map(|(j, s)| {
            let c = s.connection.as_ref()?;
            let up = matches!(s.model.status, ConnectionStatus::Connected { .. } | ConnectionStatus::Connecting);
            (j != i && up && c.address == address && c.client_id == id).then_some(s)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_never_empty_and_the_view_follows_removals() {
        let mut sessions = Sessions::new(Model::default());
        let a = sessions.add();
        let b = sessions.add();
        sessions.show(b);
        assert_eq!((sessions.len(), sessions.shown_index()), (3, 2));
        sessions.remove(a);
        assert_eq!(sessions.shown_index(), 1, "the session on view stays on view");
        sessions.remove(1);
        assert_eq!(sessions.shown_index(), 0, "its neighbour comes on view");
        let last_id = sessions.shown().id;
        sessions.remove(0);
        assert_eq!(sessions.len(), 1, "a blank session replaces the last");
        assert_ne!(sessions.shown().id, last_id, "ids are not reused");
        assert!(sessions.shown().connection.is_none());
    }
}
