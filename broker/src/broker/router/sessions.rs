//! The router's sessions: found by client id, and by slot while routing.
//!
//! Routing a message to 50 subscribers looked each of them up by client id: hashing the id
//! and comparing its bytes (an `Arc<str>` is compared byte by byte, never by pointer) was a
//! fifth of the broker's time in the fan-out, all of it under the router's lock
//! (docs/PERFORMANCE.md, "Every core: the seventh session"). The subscription tree now keeps,
//! beside each client, the [`Slot`] its session sits in, and routing reads that slot.
//!
//! A slot is a hint, never trusted alone: a session removed and another put in its place (a
//! slot is reused) is told apart by its client id, compared by pointer first, and the lookup
//! then falls back to the id. A stale slot costs a hash lookup, never a wrong delivery.

use std::sync::Arc;

use super::super::FastMap as HashMap;
use crate::broker::session::Session;

/// Where a session sits in [`Sessions`]: a hint the subscription tree keeps beside each
/// client (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(u32);

impl Slot {
    /// No hint: the lookup goes by client id (a shared subscription's member, a restored
    /// subscription before its session is in place).
    pub const UNKNOWN: Self = Self(u32::MAX);
}

impl Default for Slot {
    fn default() -> Self {
        Self::UNKNOWN
    }
}

#[derive(Debug, Default)]
pub struct Sessions {
    by_id: HashMap<Arc<str>, u32>,
    /// Boxed: a free slot then costs a pointer, not a whole session, and a session does not
    /// move when the table grows.
    slots: Vec<Option<Box<Session>>>,
    /// Slots to reuse, so that the table does not grow with every connection ever made.
    free: Vec<u32>,
}

impl Sessions {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn get(&self, client_id: &str) -> Option<&Session> {
        let &slot = self.by_id.get(client_id)?;
        self.slots.get(slot as usize)?.as_deref()
    }

    pub fn get_mut(&mut self, client_id: &str) -> Option<&mut Session> {
        let &slot = self.by_id.get(client_id)?;
        self.slots.get_mut(slot as usize)?.as_deref_mut()
    }

    /// The slot of `client_id`'s session now, for the subscription tree.
    pub fn slot_of(&self, client_id: &str) -> Slot {
        self.by_id.get(client_id).map_or(Slot::UNKNOWN, |&slot| Slot(slot))
    }

    /// The session of `client` through its slot `hint`, or through its id if the session
    /// there is not `client`'s: one index read and a pointer comparison in the usual case.
    pub fn at(&mut self, hint: Slot, client: &Arc<str>) -> Option<&mut Session> {
        let ours = match self.slots.get(hint.0 as usize) {
            Some(Some(s)) => Arc::ptr_eq(&s.client_id, client) || *s.client_id == **client,
            _ => false,
        };
        if ours { self.slots.get_mut(hint.0 as usize)?.as_deref_mut() } else { self.get_mut(client) }
    }

    /// The session of `client_id`, made by `make` if there is none.
    pub fn get_or_insert_with(&mut self, client_id: Arc<str>, make: impl FnOnce() -> Box<Session>) -> &mut Session {
        let slot = match self.by_id.get(&client_id) {
            Some(&slot) => slot,
            None => self.put(client_id, make()),
        };
        self.slots[slot as usize].as_deref_mut().unwrap_or_else(|| unreachable!("an id names a filled slot"))
    }

    /// Puts `session` in for `client_id`, replacing (and returning) any session it had.
    pub fn insert(&mut self, client_id: Arc<str>, session: Box<Session>) -> Option<Box<Session>> {
        let old = self.remove(&client_id);
        self.put(client_id, session);
        old
    }

    fn put(&mut self, client_id: Arc<str>, session: Box<Session>) -> u32 {
        let slot = if let Some(slot) = self.free.pop() {
            self.slots[slot as usize] = Some(session);
            slot
        } else {
            self.slots.push(Some(session));
            u32::try_from(self.slots.len() - 1).unwrap_or_else(|_| unreachable!("fewer than 2^32 sessions"))
        };
        self.by_id.insert(client_id, slot);
        slot
    }

    pub fn remove(&mut self, client_id: &str) -> Option<Box<Session>> {
        let slot = self.by_id.remove(client_id)?;
        self.free.push(slot);
        self.slots.get_mut(slot as usize)?.take()
    }

    pub fn values(&self) -> impl Iterator<Item = &Session> {
        self.slots.iter().filter_map(Option::as_deref)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Session> {
        self.slots.iter_mut().filter_map(Option::as_deref_mut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::session::Limits;

    fn session(id: &Arc<str>) -> Box<Session> {
        Box::new(Session::new(id.clone(), true, Limits::NONE))
    }

    #[test]
    fn a_slot_reused_by_another_client_is_not_taken_for_the_old_one() {
        let mut sessions = Sessions::default();
        let (a, b): (Arc<str>, Arc<str>) = ("pv-logger".into(), "lamp".into());
        sessions.insert(a.clone(), session(&a));
        let hint = sessions.slot_of(&a);
        assert_eq!(sessions.at(hint, &a).map(|s| s.client_id.clone()), Some(a.clone()));
        // `a` ends and `b` takes its slot: `a`'s old hint must not find `b`'s session.
        sessions.remove(&a);
        sessions.insert(b.clone(), session(&b));
        assert_eq!(sessions.slot_of(&b), hint, "the freed slot is reused");
        assert!(sessions.at(hint, &a).is_none(), "a stale hint finds no session for a client that has none");
        // `a` comes back in another slot: its stale hint falls back to its id and finds it.
        sessions.insert(a.clone(), session(&a));
        assert_ne!(sessions.slot_of(&a), hint);
        assert_eq!(sessions.at(hint, &a).map(|s| s.client_id.clone()), Some(a.clone()));
        // Another allocation of the same id is the same client.
        let same: Arc<str> = "lamp".into();
        assert_eq!(sessions.at(hint, &same).map(|s| s.client_id.clone()), Some(b.clone()));
        assert_eq!(sessions.at(Slot::UNKNOWN, &b).map(|s| s.client_id.clone()), Some(b));
        assert_eq!((sessions.len(), sessions.values().count()), (2, 2));
    }

    #[test]
    fn insert_replaces_and_get_or_insert_keeps() {
        let mut sessions = Sessions::default();
        let a: Arc<str> = "a".into();
        assert!(sessions.insert(a.clone(), session(&a)).is_none());
        sessions.get_mut("a").unwrap().username = Some("first".into());
        let old = sessions.insert(a.clone(), session(&a)).unwrap();
        assert_eq!(old.username.as_deref(), Some("first"));
        sessions.get_or_insert_with(a.clone(), || unreachable!("a has a session")).username = Some("kept".into());
        assert_eq!(sessions.get("a").unwrap().username.as_deref(), Some("kept"));
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions.slots.len(), 1, "the slot freed by the replacement is reused");
    }
}
