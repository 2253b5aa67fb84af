//! The broker's lifetime: a [`Broker`] accepts connections from listeners (or any stream)
//! until shutdown, then closes every connection and waits for their tasks.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::connection::{self, Ending};
use super::transport::{self, Transport, TransportError};
use super::{
    InspectError, Inspector, RetainedInfo, RouterFigures, Shared, Stats, TopicInfo, WillOutcome, keepalive, sys,
};
use crate::auth::{Auth, AuthError};
use crate::config::{Config, ListenerConfig};
use crate::log::{LogType, Logger};
use crate::store::{Journal, Store, StoreError, Writer};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("{0}")]
    Log(std::io::Error),
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("{0}")]
    Transport(#[from] TransportError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot start the persistence thread: {0}")]
    Thread(std::io::Error),
}

/// Runs a broker on one bound listener until `shutdown` completes.
///
/// The listener's settings (e.g. `max_connections`) are those of the first listener of
/// `config`, if any. The app embeds the broker this way, on any port (port 0 in tests).
pub async fn run(listener: TcpListener, config: Config, shutdown: impl Future<Output = ()>) -> Result<(), BrokerError> {
    serve(vec![listener], config, shutdown).await
}

/// Runs a broker on several bound listeners, matched in order with `config`'s listeners.
pub async fn serve(
    listeners: Vec<TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), BrokerError> {
    let settings = config.effective_listeners();
    let broker = Broker::start(config)?;
    for (i, listener) in listeners.into_iter().enumerate() {
        let plain = ListenerConfig::default();
        broker.listen(listener, settings.get(i).unwrap_or(&plain))?;
    }
    shutdown.await;
    broker.shutdown().await;
    Ok(())
}

/// A running broker. Dropping it without [`Broker::shutdown`] leaves its tasks running.
pub struct Broker {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    /// Every task holds a clone; when all are dropped, every task has ended.
    done_tx: mpsc::Sender<()>,
    done_rx: mpsc::Receiver<()>,
    /// With persistence on: to wait at shutdown until everything recorded is on disk.
    journal: Option<Journal>,
}

impl Broker {
    /// Starts the broker's `$SYS` task; connections come through [`Self::listen`] or
    /// [`Self::accept_stream`]. Must be called within a tokio runtime.
    pub fn start(config: Config) -> Result<Self, BrokerError> {
        let log = Logger::new(&config.log).map_err(BrokerError::Log)?;
        for note in &config.startup_notes {
            log.log(LogType::Notice, format_args!("{note}"));
        }
        let (auth, warnings) = Auth::load(&config)?;
        for w in &warnings {
            log.log(LogType::Warning, format_args!("Warning: {w}"));
        }
        let persistence = match config.persistence_path() {
            Some(path) => {
                let store = Store::open(&path)?;
                let restored = store.load()?;
                let (tx, rx) = std::sync::mpsc::channel();
                log.log(
                    LogType::Notice,
                    format_args!(
                        "Restored {} retained messages and {} persistent sessions from {}.",
                        restored.retained.len(),
                        restored.sessions.len(),
                        path.display()
                    ),
                );
                Some((store, restored, Journal::new(tx), rx))
            }
            None => None,
        };
        let journal = persistence.as_ref().map(|(_, _, journal, _)| journal.clone());
        let parked = super::park::Group::new();
        let shared = Arc::new(Shared::new(config, log, auth, journal.clone(), parked.id()));
        shared.router().set_persistent_expiry(shared.config.persistent_client_expiration);
        if let Some((store, restored, _, entries)) = persistence {
            shared.router().restore(restored);
            let (release_to, failed_on) = (Arc::downgrade(&shared), Arc::downgrade(&shared));
            Writer::spawn(
                store,
                entries,
                move |releases| {
                    if let Some(shared) = release_to.upgrade() {
                        shared.router().release(releases);
                    }
                },
                move |e| {
                    if let Some(shared) = failed_on.upgrade() {
                        shared.log.log(LogType::Error, format_args!("Error: {e}; acknowledgements are held back."));
                    }
                },
            )
            .map_err(BrokerError::Thread)?;
        }
        shared.log.log(LogType::Notice, format_args!("mqtt-lab-broker version {} running", shared.version));
        let (stop, _) = watch::channel(false);
        let (done_tx, done_rx) = mpsc::channel::<()>(1);
        tokio::spawn(sys::publish_loop(shared.clone(), stop.subscribe(), done_tx.clone()));
        let keepalive = keepalive::run(shared.keepalive.clone(), stop.subscribe());
        // The parked connections are taken out when the timer ends: at shutdown, when this
        // `Broker` is dropped, or with the runtime (park/lot.rs).
        tokio::spawn(async move {
            let _parked = parked;
            keepalive.await;
        });
        tokio::spawn(expire_loop(shared.clone(), stop.subscribe()));
        super::bridge::start(&shared, &stop, &done_tx);
        Ok(Self { shared, stop, done_tx, done_rx, journal })
    }

    /// Accepts connections from `listener` (best bound by [`Self::bind`]) until shutdown, with
    /// the transport (plain, TLS, TLS-PSK), `max_connections`, `bind_interface` and the client
    /// rules of `settings`; its port and address are those `listener` is bound to.
    pub fn listen(&self, listener: TcpListener, settings: &ListenerConfig) -> Result<(), BrokerError> {
        let transport = Arc::new(Transport::for_listener(settings, &self.shared)?);
        // Already so when `listener` came from [`Self::bind`]; a listener bound otherwise gets it
        // here.
        transport::restrict_to_interface(&listener, settings)
            .map_err(|e| TransportError::Setup { port: settings.port, message: format!("bind_interface: {e}") })?;
        if let Ok(addr) = listener.local_addr() {
            self.shared.log.log(LogType::Notice, format_args!("{}", transport.opening_line(addr)));
        }
        let accepting = Accepting { shared: self.shared.clone(), transport, max_connections: settings.max_connections };
        tokio::spawn(accepting.run(listener, self.stop.subscribe(), self.done_tx.clone()));
        Ok(())
    }

    /// Binds a listener's socket as Mosquitto does: `bind_address` (every interface of both IP
    /// families without one), `socket_domain`, `bind_interface`. Must be called within a tokio
    /// runtime; hand the result to [`Self::listen`].
    ///
    /// # Errors
    /// The address, family, port or interface cannot be bound; the error says which.
    pub fn bind(settings: &ListenerConfig) -> std::io::Result<TcpListener> {
        transport::bind(settings)
    }

    /// Serves one connection over any byte stream (an in-memory pipe in tests, a TLS stream).
    pub fn accept_stream<S>(&self, stream: S, peer: SocketAddr)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (shared, stop, done) = (self.shared.clone(), self.stop.subscribe(), self.done_tx.clone());
        tokio::spawn(connection::serve(shared, stream, peer, stop, None, None).ending(Ending { open: None, done }));
    }

    /// Connections parked now: idle plain TCP clients held without a task (park/). For tests
    /// and status; it counts by looking at every parked connection of the process.
    pub fn parked_connections(&self) -> usize {
        super::park::parked_in(self.shared.park_group.id)
    }

    /// Clients, subscriptions and the messages held now (what `$SYS` reports).
    pub fn figures(&self) -> RouterFigures {
        self.shared.router().figures()
    }

    /// A handle for inspecting this broker from any thread (issue 22), e.g. the embedding app's
    /// topic tree; it does not keep the broker's state alive once it has stopped.
    pub fn inspector(&self) -> Inspector {
        Inspector::new(&self.shared)
    }

    /// The subscriptions matching `topic` and its retained message: [`Inspector::topic_info`].
    pub fn topic_info(&self, topic: &str) -> TopicInfo {
        self.inspector().topic_info(topic)
    }

    /// The retained messages `filter` matches: [`Inspector::retained_under`].
    ///
    /// # Errors
    /// The filter is not a valid, non-shared topic filter.
    pub fn retained_under(&self, filter: &str) -> Result<Vec<(String, RetainedInfo)>, InspectError> {
        self.inspector().retained_under(filter)
    }

    /// Deletes the retained messages `filter` matches at once: [`Inspector::clear_retained`].
    ///
    /// # Errors
    /// The filter is not a valid, non-shared topic filter.
    pub fn clear_retained(&self, filter: &str) -> Result<usize, InspectError> {
        self.inspector().clear_retained(filter)
    }

    /// Reads the password, ACL and PSK files again (SIGHUP). A file that cannot be read leaves the
    /// settings in force unchanged, with an error in the log; bad lines are skipped and logged.
    pub fn reload(&self) {
        let log = &self.shared.log;
        match Auth::load(&self.shared.config) {
            Ok((auth, warnings)) => {
                for w in &warnings {
                    log.log(LogType::Warning, format_args!("Warning: {w}"));
                }
                self.shared.set_auth(auth);
                log.log(LogType::Notice, format_args!("Reloaded password, ACL and PSK files."));
            }
            Err(e) => log.log(LogType::Error, format_args!("Error: {e}; keeping the previous settings.")),
        }
    }

    /// Closes every connection (no wills are sent) and waits for all tasks to end.
    pub async fn shutdown(self) {
        let Self { shared, stop, done_tx, mut done_rx, journal } = self;
        let _ = stop.send(true);
        // Connections past CONNECT wait on their wake alone; those before it see `stop`.
        shared.router().shut_down();
        drop(done_tx);
        let _ = done_rx.recv().await;
        if let Some(journal) = journal {
            // Everything recorded, wills of the last connections included, is on disk first.
            let synced = journal.sync();
            let _ = tokio::task::spawn_blocking(move || synced.recv()).await;
        }
        shared.log.log(LogType::Notice, format_args!("mqtt-lab-broker version {} terminating", shared.version));
    }
}

/// Ends expired sessions, sends delayed wills and deletes expired retained messages (MQTT 5.0
/// session, will and message expiry): at the next deadline the router names, or sooner when a
/// new deadline is set. With nothing due it sleeps: thousands of idle clients cost no wake-ups.
async fn expire_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let deadline_set = shared.router().deadline_set();
    loop {
        let now = Instant::now();
        let expired = shared.router().expire(now);
        for client in &expired.sessions {
            shared.log.log(LogType::Notice, format_args!("Expiring client {client} due to timeout."));
        }
        for (client, outcome) in expired.wills {
            match outcome {
                WillOutcome::Published(routed) => Stats::add(&shared.stats.publish_dropped, routed.dropped),
                WillOutcome::Denied(topic) => shared.log.log(
                    LogType::Notice,
                    format_args!("Denied will of {client} on {topic}: the ACL gives no write access."),
                ),
                WillOutcome::None | WillOutcome::Delayed(_) => {}
            }
        }
        let sleep = async {
            match expired.next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.changed() => return,
            () = deadline_set.notified() => {}
            () = sleep => {}
        }
    }
}

/// One listener's accept loop and what it needs.
struct Accepting {
    shared: Arc<Shared>,
    transport: Arc<Transport>,
    max_connections: Option<usize>,
}

impl Accepting {
    async fn run(self, listener: TcpListener, mut stop: watch::Receiver<bool>, done: mpsc::Sender<()>) {
        let shared = &self.shared;
        let port = listener.local_addr().map_or(0, |a| a.port());
        let open = Arc::new(AtomicUsize::new(0));
        loop {
            let (stream, peer) = tokio::select! {
                _ = stop.changed() => return,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: log, and keep serving the others.
                        shared.log.log(LogType::Error, format_args!("Error accepting a connection on port {port}: {e}."));
                        tokio::task::yield_now().await;
                        continue;
                    }
                },
            };
            // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d: logged as a.b.c.d.
            let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
            if self.max_connections.is_some_and(|max| open.load(Ordering::Relaxed) >= max) {
                shared.log.log(
                    LogType::Notice,
                    format_args!("Client connection from {} denied: max_connections exceeded.", peer.ip()),
                );
                drop(stream);
                continue;
            }
            Stats::add(&shared.stats.sockets, 1);
            shared.log.log(LogType::Notice, format_args!("New connection from {peer} on port {port}."));
            if shared.config.set_tcp_nodelay {
                let _ = stream.set_nodelay(true);
            }
            open.fetch_add(1, Ordering::Relaxed);
            let ending = Ending { open: Some(open.clone()), done: done.clone() };
            transport::spawn(&self.transport, shared.clone(), stream, peer, stop.clone(), ending);
        }
    }
}
