//! What a connection owes to the listener it came in on, beyond its transport: the mount
//! point, which listener's authentication and ACL apply (`per_listener_settings`), and
//! `use_username_as_clientid`. A connection served without any (an in-process bridge) has no
//! mount point and the broker's global settings.

use super::super::mount::MountPoint;
use crate::config::ListenerConfig;

/// A listener's rules, shared by its connections behind one `Arc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListenerRules {
    /// Put in front of every topic this listener's clients name.
    pub mount: Option<MountPoint>,
    /// The listener's place in the config's listeners: with `per_listener_settings true` it
    /// selects the listener's own passwords, ACL and client id rules (`Auth::scope`). `None`
    /// for a listener the config does not list (an embedding app's): the global settings.
    pub index: Option<usize>,
    /// `use_username_as_clientid`: the client id becomes the user name, and a client without
    /// one is refused.
    pub use_username_as_clientid: bool,
}

impl ListenerRules {
    /// The rules of `l`, the listener at `index` of the config.
    pub(crate) fn of(l: &ListenerConfig, index: Option<usize>) -> Self {
        Self {
            mount: MountPoint::of(l.mount_point.as_deref()),
            index,
            use_username_as_clientid: l.use_username_as_clientid,
        }
    }
}
