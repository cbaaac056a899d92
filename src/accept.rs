//! The accept loop: each accepted connection becomes a task, until the stop signal; then the
//! graceful shutdown (see `shutdown.rs`).

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_io::Timer;
use smol::Executor;
use smol::lock::{Semaphore, SemaphoreGuardArc};

use crate::conn::idle::IdleList;
use crate::conn::{Respond, Shared};
use crate::listener::{Accepted, Listener};
use crate::metrics::Open;
use crate::service::Service;
use crate::shutdown::{Drain, Stop, Tracked, Watch};
use crate::transport::Transport;

/// How long the accept loop pauses when the process is out of file descriptors or memory.
///
/// **Default:** 50 ms. **Unit:** time.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// What an accepted TCP connection runs before HTTP: nothing, or a TLS handshake.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layer {
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsConfig>,
}

impl Layer {
    /// Spawns the task serving HTTP on an accepted connection, over TLS if this layer has it
    /// (TCP only). Each kind of connection has a task of its own type, no larger than that
    /// kind needs: an idle connection's task is most of what it costs.
    fn spawn(
        &self,
        ex: &Executor<'_>,
        service: Service,
        accepted: Accepted,
        idle: Arc<IdleList>,
        held: Held,
    ) {
        let transport = match accepted {
            Accepted::Tcp(transport) => transport,
            #[cfg(unix)]
            Accepted::Unix(transport) => {
                let conn = Shared::of(transport);
                return ex.spawn(run(service, conn, idle, held)).detach();
            }
        };
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            let tls = tls.clone();
            return ex
                .spawn(run_tls(service, tls, transport, idle, held))
                .detach();
        }
        ex.spawn(run(service, Shared::of(transport), idle, held))
            .detach();
    }
}

/// What a connection's task holds until the connection ends or is cancelled: its place under
/// the connection limit, its count as open, and its tracking by the shutdown drain.
struct Held {
    _slot: SemaphoreGuardArc,
    _open: Open,
    tracked: Tracked,
}

/// A connection's task: HTTP on `conn` until it ends or the drain cancels it.
async fn run<T: Transport>(
    service: Service,
    conn: Arc<Shared<T>>,
    idle: Arc<IdleList>,
    held: Held,
) {
    let guard = guard(Respond::shutdown(&service), &held.tracked);
    futures_lite::future::or(service.serve_listed(conn, &idle), guard).await
}

/// What a connection's task races its connection with: the start of shutdown, which wakes
/// the task so that the connection sees it (a listed connection keeps no wait of its own:
/// see `conn::serve`), then the drain's cancellation. While the connection lives it waits in
/// a slot of the watch's list ([`Watch::begun`]); the drain's listener is made only once
/// shutdown has begun (the drain cancels only after that).
async fn guard(watch: &Watch, tracked: &Tracked) {
    watch.begun().await;
    tracked.cancelled().await;
}

/// [`run`] after a TLS handshake (within the header timeout; then the first head has its
/// own).
#[cfg(feature = "tls")]
async fn run_tls(
    service: Service,
    tls: crate::tls::TlsConfig,
    transport: crate::socket::TcpTransport,
    idle: Arc<IdleList>,
    held: Held,
) {
    let guard = guard(Respond::shutdown(&service), &held.tracked);
    let serve = async {
        let peer = Transport::peer_addr(&transport);
        let timeout = service.config().header_timeout;
        match crate::tls::accept(transport, tls.current(), timeout).await {
            Ok(session) => service.serve_listed(Shared::of(session), &idle).await,
            Err(e) => log::debug!("connection from {peer:?}: {e}"),
        }
    };
    futures_lite::future::or(serve, guard).await
}

/// Accepts connections onto `ex` until `signal`, then shuts down gracefully: the listener is
/// closed, `service` told to finish, and its connections given `deadline` to end (see
/// `shutdown.rs`).
pub(crate) async fn accept_until(
    listener: Listener,
    service: &Service,
    layer: &Layer,
    ex: &Executor<'_>,
    signal: impl Future<Output = Stop>,
    max_connections: usize,
    deadline: Duration,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    let idle = Arc::new(IdleList::default());
    let drain = Drain::new();
    let accept = async {
        loop {
            let slot = match slots.try_acquire_arc() {
                Some(slot) => slot,
                // At the connection limit: wait for a connection to end, or for a client in
                // the listen backlog; for a client, close the oldest idle connections to make
                // room (connections busy with a request are never closed for it). With none
                // idle, clients wait in the backlog until a connection ends.
                None => {
                    let freed = async { Some(slots.acquire_arc().await) };
                    let knocked = async {
                        let _ = listener.readable().await;
                        None
                    };
                    match futures_lite::future::or(freed, knocked).await {
                        Some(slot) => slot,
                        None => {
                            let closed = idle.evict_oldest();
                            service.metrics().limit_reached(closed);
                            log::debug!("at {max_connections} connections: closed {closed} idle");
                            slots.acquire_arc().await
                        }
                    }
                }
            };
            let transport = match listener.accept().await {
                Ok(Some(accepted)) => accepted,
                Ok(None) => continue,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            };
            let held = Held {
                _slot: slot,
                _open: service.metrics().accepted(),
                tracked: drain.track(),
            };
            layer.spawn(ex, service.clone(), transport, idle.clone(), held);
        }
    };
    // The signal: the health check fails at once; the server goes on accepting for the
    // drain delay (the balancer's time to notice), then stops.
    let drain_delay = service.config().drain_delay;
    {
        let mut accept = std::pin::pin!(accept);
        let mut how = Stop::Signal;
        let stopped = async {
            how = signal.await;
        };
        futures_lite::future::or(accept.as_mut(), stopped).await;
        if how == Stop::Signal {
            service.health().drain();
        }
        if how == Stop::Signal && !drain_delay.is_zero() {
            let delay = async {
                Timer::after(drain_delay).await;
            };
            futures_lite::future::or(accept.as_mut(), delay).await;
        }
    }
    listener.close();
    log::info!("shutting down: {} connections open", drain.open());
    service.shutdown();
    let left = drain.wait(deadline).await;
    if left > 0 {
        log::warn!("shutdown timeout: dropping {left} connections still busy");
    }
    Ok(())
}

/// An accept error never ends the server: out of descriptors or memory backs off briefly
/// (instead of spinning on a listener that stays readable), the rest are the client's.
async fn accept_failed(e: io::Error) {
    use rustix::io::Errno;
    let starved = matches!(
        Errno::from_io_error(&e),
        Some(Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM)
    );
    if starved {
        log::warn!("accept failed: {e}; pausing {ACCEPT_BACKOFF:?}");
        Timer::after(ACCEPT_BACKOFF).await;
    } else {
        log::debug!("accept failed: {e}");
    }
}
