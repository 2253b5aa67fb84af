//! The running broker: shared state, connection tasks, listeners and `$SYS`.

mod bridge;
mod connection;
mod held;
mod inspect;
mod keepalive;
mod mount;
mod park;
mod router;
mod server;
mod session;
mod stats;
mod subscriptions;
mod sys;
mod transport;
mod wake;

use std::sync::{Arc, Mutex, RwLock};

/// The broker's maps keyed by client id or topic level: foldhash, seeded per process, hashes
/// a short key several times faster than the standard SipHash and is still randomized.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

pub use bridge::BridgeInfo;
pub use inspect::{InspectError, Inspector, RetainedInfo, SubscriberInfo, TopicInfo};
pub use router::{Attached, Login, Origin, Retained, Routed, Router, RouterFigures, WillOutcome};
pub use server::{Broker, BrokerError, run, serve};
pub use session::{Delivery, Limits, Link, Message, Session};
pub use stats::Stats;
pub use transport::TransportError;
pub use wake::Wake;

use crate::auth::Auth;
use crate::config::Config;
use crate::log::Logger;
use crate::store::Journal;
use keepalive::Keepalive;

/// What every task of one broker shares.
pub(crate) struct Shared {
    /// A std mutex, never held across an `.await`: every critical section is a few map
    /// operations, so an async mutex would only add overhead.
    router: Mutex<Router>,
    /// Replaced whole on reload; readers clone the `Arc` and never hold the lock.
    auth: RwLock<Arc<Auth>>,
    pub stats: Stats,
    pub config: Config,
    pub log: Logger,
    pub started: tokio::time::Instant,
    /// Every connection's keepalive deadline; its task is started with the broker.
    pub keepalive: Arc<Keepalive>,
    pub version: &'static str,
    /// Each bridge's state, for the app's broker panel.
    pub bridges: bridge::BridgeStates,
    /// Where a parked connection resumes (park/): the runtime the broker was made in; `None`
    /// outside one (then nothing parks).
    pub runtime: Option<tokio::runtime::Handle>,
    /// This broker's parked connections, as one ([`park::Group`], held by its keepalive task).
    pub park_group: park::GroupId,
}

impl Shared {
    pub fn new(config: Config, log: Logger, auth: Auth, journal: Option<Journal>, park_group: park::GroupId) -> Self {
        let limits = Limits::from_config(&config);
        let mut router = Router::new(limits, journal);
        router.set_acl(auth.shared_acl());
        router.set_upgrade_outgoing_qos(config.upgrade_outgoing_qos);
        Self {
            router: Mutex::new(router),
            auth: RwLock::new(Arc::new(auth)),
            stats: Stats::default(),
            config,
            log,
            started: tokio::time::Instant::now(),
            keepalive: Arc::new(Keepalive::new()),
            version: env!("CARGO_PKG_VERSION"),
            bridges: bridge::BridgeStates::default(),
            runtime: tokio::runtime::Handle::try_current().ok(),
            park_group,
        }
    }

    /// Locks the router (a poisoned lock is taken over: held.rs). Task wake-ups raised while
    /// it is held go out once it is released.
    pub fn router(&self) -> held::RouterGuard<'_> {
        held::RouterGuard::lock(&self.router)
    }

    /// The router, locked at first use and kept for a batch of work (held.rs).
    pub fn batch(&self) -> held::Batch<'_> {
        held::Batch::new(&self.router)
    }

    /// The security settings in force now.
    pub fn auth(&self) -> Arc<Auth> {
        self.auth.read().map_or_else(|p| p.into_inner().clone(), |a| a.clone())
    }

    /// Puts reloaded settings in force: the router checks the new ACL at every delivery from
    /// now on, messages already queued included.
    pub fn set_auth(&self, auth: Auth) {
        self.router().set_acl(auth.shared_acl());
        let mut guard = self.auth.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = Arc::new(auth);
    }
}
