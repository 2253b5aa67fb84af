//! Listeners and the broker's lifetime: accept connections until shutdown, then close every
//! connection and wait for their tasks.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use super::{Shared, Stats, connection, sys};
use crate::config::Config;
use crate::log::{LogType, Logger};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("{0}")]
    Log(std::io::Error),
}

/// Runs a broker on one bound listener until `shutdown` completes.
///
/// The listener's settings (e.g. `max_connections`) are those of the first listener of
/// `config`, if any. The app embeds the broker this way, on any port (port 0 in tests).
pub async fn run(listener: TcpListener, config: Config, shutdown: impl Future<Output = ()>) -> Result<(), BrokerError> {
    serve(vec![listener], config, shutdown).await
}

/// Runs a broker on several bound listeners, matched in order with `config`'s listeners.
pub async fn serve(listeners: Vec<TcpListener>, config: Config, shutdown: impl Future<Output = ()>) -> Result<(), BrokerError> {
    let log = Logger::new(&config.log).map_err(BrokerError::Log)?;
    let settings = config.effective_listeners();
    let shared = Arc::new(Shared::new(config, log));
    shared.log.log(LogType::Notice, format_args!("mqtt-lab-broker version {} running", shared.version));
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every task holds a sender; when all are dropped, every task has ended.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);

    for (i, listener) in listeners.into_iter().enumerate() {
        let max_connections = settings.get(i).and_then(|l| l.max_connections);
        if let Ok(addr) = listener.local_addr() {
            shared.log.log(LogType::Notice, format_args!("Opening listen socket on {addr}."));
        }
        tokio::spawn(accept_loop(shared.clone(), listener, max_connections, stop_rx.clone(), done_tx.clone()));
    }
    tokio::spawn(sys::publish_loop(shared.clone(), stop_rx.clone(), done_tx.clone()));

    shutdown.await;
    let _ = stop_tx.send(true);
    drop(done_tx);
    let _ = done_rx.recv().await;
    shared.log.log(LogType::Notice, format_args!("mqtt-lab-broker version {} terminating", shared.version));
    Ok(())
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    max_connections: Option<usize>,
    mut stop: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
) {
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
        if max_connections.is_some_and(|max| open.load(Ordering::Relaxed) >= max) {
            shared.log.log(LogType::Notice, format_args!("Client connection from {peer} denied: max_connections exceeded."));
            drop(stream);
            continue;
        }
        Stats::add(&shared.stats.sockets, 1);
        shared.log.log(LogType::Notice, format_args!("New connection from {peer} on port {port}."));
        open.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(client(shared.clone(), stream, peer, open.clone(), stop.clone(), done.clone()));
    }
}

async fn client(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    open: Arc<AtomicUsize>,
    stop: watch::Receiver<bool>,
    _done: mpsc::Sender<()>,
) {
    if shared.config.set_tcp_nodelay {
        let _ = stream.set_nodelay(true);
    }
    connection::serve(shared, stream, peer, stop).await;
    open.fetch_sub(1, Ordering::Relaxed);
}
