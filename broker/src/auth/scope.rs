//! Which settings a connection is under: the broker's global ones, a listener's own (with
//! `per_listener_settings true`), or none at all (the broker's own bridge connections, which
//! Mosquitto never checks).

use std::sync::Arc;

use super::Acl;

/// Whose authentication and ACL apply to a connection and its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclScope {
    /// The broker's (every listener's unless `per_listener_settings true`).
    Global,
    /// The listener at this index of the config's listeners (`per_listener_settings true`).
    Listener(usize),
    /// None: an in-process bridge, which no ACL restricts.
    Trusted,
}

/// The ACLs in force: the global one and, with `per_listener_settings true`, each listener's.
#[derive(Debug, Clone, Default)]
pub struct AclSet {
    pub global: Option<Arc<Acl>>,
    /// By listener index; empty unless `per_listener_settings true`.
    pub listeners: Vec<Option<Arc<Acl>>>,
}

impl AclSet {
    /// The ACL a session under `scope` is held to (`None`: no restriction).
    pub fn get(&self, scope: AclScope) -> Option<Arc<Acl>> {
        match scope {
            AclScope::Global => self.global.clone(),
            AclScope::Listener(i) => match self.listeners.get(i) {
                Some(acl) => acl.clone(),
                None => self.global.clone(),
            },
            AclScope::Trusted => None,
        }
    }
}

impl From<Option<Arc<Acl>>> for AclSet {
    /// The global ACL alone.
    fn from(global: Option<Arc<Acl>>) -> Self {
        Self { global, listeners: Vec::new() }
    }
}
