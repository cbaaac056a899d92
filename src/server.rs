//! [`Server`]: bind, accept, and run connections on smol executor threads.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use async_io::{Async, Timer};
use smol::Executor;
use smol::lock::{Semaphore, SemaphoreGuardArc};

use crate::config::Config;
use crate::conn::Shared;
use crate::conn::idle::IdleList;
use crate::health::Health;
use crate::listener::{Accepted, Listener};
use crate::metrics::{Metrics, Open};
use crate::router::Router;
use crate::runtime;
use crate::service::Service;
use crate::shutdown::{Drain, Tracked};
use crate::socket;
use crate::startup::{BindError, BindStep};
use crate::transport::Transport;

/// Environment variable that sets the default number of executor threads.
pub const THREADS_ENV: &str = "SMOLWEB_THREADS";

/// How long the accept loop pauses when the process is out of file descriptors or memory.
///
/// **Default:** 50 ms. **Unit:** time.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// An HTTP/1.1 server: a bound listener, a thread count and a [`Config`].
///
/// ```no_run
/// use smolweb::{Router, Server};
///
/// let app = Router::new().get("/", |_| async { "Hello, World!" });
/// let server = Server::bind("127.0.0.1:8080")?;
/// println!("listening on http://{}", server.local_addr());
/// server.run(app)?; // blocks, serving on every core
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// To drive it on an executor you already run, use [`Server::serve`]:
///
/// ```no_run
/// use smolweb::{Router, Server};
///
/// let ex = smol::Executor::new();
/// let server = Server::bind("127.0.0.1:0")?;
/// smol::block_on(ex.run(server.serve(Router::new(), &ex)))?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Server {
    listener: Listener,
    addr: SocketAddr,
    threads: usize,
    config: Config,
    /// One `SO_REUSEPORT` listener and executor per thread (see [`Server::bind_per_core`]).
    per_core: bool,
    /// What each accepted connection runs first (TLS), if anything.
    layer: Layer,
    metrics: Metrics,
    health: Health,
}

impl Server {
    /// Binds a nonblocking listener. Port 0 picks a free port: see [`local_addr`](Self::local_addr).
    ///
    /// A failure is an `io::Error` of the cause's kind carrying a [`BindError`], whose
    /// one-line `Display` names the address and the cause
    /// (`cannot listen on 127.0.0.1:80: address already in use`).
    pub fn bind(addr: impl ToSocketAddrs + fmt::Debug) -> io::Result<Server> {
        Self::bind_with(addr, false)
    }

    fn bind_with(addr: impl ToSocketAddrs + fmt::Debug, per_core: bool) -> io::Result<Server> {
        let resolved = first_addr(&addr).map_err(|e| BindError::io(&addr, BindStep::Resolve, e))?;
        let listen = BindStep::Listen {
            port: resolved.port(),
        };
        let listener =
            socket::listen(resolved, per_core).map_err(|e| BindError::io(&addr, listen, e))?;
        let addr = listener.get_ref().local_addr()?;
        Ok(Server {
            listener: Listener::Tcp(listener),
            addr,
            threads: default_threads(),
            config: Config::default(),
            per_core,
            layer: Layer::default(),
            metrics: Metrics::default(),
            health: Health::default(),
        })
    }

    /// Binds for thread-per-core serving: [`run`](Self::run) gives every thread its own
    /// listener on the same address (`SO_REUSEPORT`, the kernel spreading new connections
    /// across them) and its own executor. No task ever moves between threads: less
    /// coordination, but a thread with busy connections gets no help from idle ones.
    /// [`Config::max_connections`] is divided among the threads.
    ///
    /// ```no_run
    /// let app = smolweb::Router::new().get("/", |_| async { "hi" });
    /// smolweb::Server::bind_per_core("127.0.0.1:8080")?.threads(2).run(app)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind_per_core(addr: impl ToSocketAddrs + fmt::Debug) -> io::Result<Server> {
        Self::bind_with(addr, true)
    }

    /// A server on a listener made elsewhere (an inherited socket, one configured your own
    /// way); it is made nonblocking.
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let server = smolweb::Server::from_listener(listener)?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_listener(listener: TcpListener) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        Ok(Self::on(Listener::Tcp(Async::new(listener)?), addr))
    }

    /// A server on a Unix-domain socket at `path` (same HTTP, same guarantees: every byte
    /// sent with `MSG_NOSIGNAL`). Handlers see the client's pid, uid and gid with
    /// [`Request::peer_credentials`](crate::Request::peer_credentials) (Linux). A socket file
    /// left at `path` by a server that is gone is replaced; a socket a server still listens on
    /// is `AddrInUse`, and any other file there is `AlreadyExists` (left alone). The file is
    /// removed when the server stops.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("smolweb-doc-{}.sock", std::process::id()));
    /// let server = smolweb::Server::bind_unix(&path)?;
    /// assert_eq!(server.unix_path(), Some(path.as_path()));
    /// # drop(server); let _ = std::fs::remove_file(&path);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(unix)]
    pub fn bind_unix(path: impl AsRef<std::path::Path>) -> io::Result<Server> {
        let listener = crate::listener::bind_unix(path.as_ref())?;
        Ok(Self::on(listener, SocketAddr::from(([0, 0, 0, 0], 0))))
    }

    /// The socket file of a server from [`bind_unix`](Self::bind_unix).
    #[cfg(unix)]
    pub fn unix_path(&self) -> Option<&std::path::Path> {
        match &self.listener {
            Listener::Unix(_, path) => path.as_deref(),
            Listener::Tcp(_) => None,
        }
    }

    /// A server on the first socket a supervisor passed (systemd's socket activation:
    /// `LISTEN_FDS`, and `LISTEN_PID` when set must be this process), TCP or Unix; `None`
    /// when no socket was passed (feature `activation`). A restart then refuses nothing: the
    /// supervisor keeps the socket, and connections wait in its queue for the next process.
    ///
    /// ```no_run
    /// use smolweb::{Router, Server};
    /// let server = match Server::from_activation()? {
    ///     Some(server) => server,
    ///     None => Server::bind("127.0.0.1:8080")?,
    /// };
    /// server.run(Router::new())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "activation")]
    pub fn from_activation() -> io::Result<Option<Server>> {
        let mut passed = listenfd::ListenFd::from_env();
        if passed.len() == 0 {
            return Ok(None);
        }
        if let Ok(Some(listener)) = passed.take_tcp_listener(0) {
            listener.set_nonblocking(true)?;
            return Self::from_listener(listener).map(Some);
        }
        let listener = passed.take_unix_listener(0)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "LISTEN_FDS: not a stream socket",
            )
        })?;
        listener.set_nonblocking(true)?;
        let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
        Ok(Some(Self::on(
            Listener::Unix(Async::new(listener)?, None),
            unspecified,
        )))
    }

    fn on(listener: Listener, addr: SocketAddr) -> Server {
        Server {
            listener,
            addr,
            threads: default_threads(),
            config: Config::default(),
            per_core: false,
            layer: Layer::default(),
            metrics: Metrics::default(),
            health: Health::default(),
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sets how many executor threads [`run`](Self::run) uses (at least 1; the calling
    /// thread is one of them).
    ///
    /// **Default:** the `SMOLWEB_THREADS` environment variable if set, otherwise one per
    /// available core.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The server's counters (connections, responses, clients that went away, refusals,
    /// bytes), to read or to serve in the Prometheus text format with
    /// [`Metrics::handler`]. Clones count into the same counters.
    ///
    /// ```
    /// let server = smolweb::Server::bind("127.0.0.1:0")?;
    /// let app = smolweb::Router::new().get("/metrics", server.metrics().handler());
    /// # let _ = app;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// The server's health check, which fails (`503`) once a graceful shutdown has begun:
    /// mount its [`handler`](Health::handler) for the load balancer, and give the balancer
    /// time to notice with [`Config::drain_delay`].
    ///
    /// ```
    /// let server = smolweb::Server::bind("127.0.0.1:0")?;
    /// let app = smolweb::Router::new().get("/healthz", server.health().handler());
    /// # let _ = app;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// Sets the limits and timeouts.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Serves HTTPS: every accepted connection begins with a TLS handshake with `tls`
    /// (feature `tls`; see [`tls`](crate::tls)).
    ///
    /// ```no_run
    /// use smolweb::{Router, Server, tls::TlsConfig};
    /// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// Server::bind("0.0.0.0:8443")?.tls(tls).run(Router::new())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        self.layer.tls = Some(tls);
        self
    }

    /// Serves `router` on this thread plus `threads - 1` more, until the process ends or a
    /// fatal listener error.
    pub fn run(self, router: Router) -> io::Result<()> {
        self.run_until(router, std::future::pending())
    }

    /// Like [`run`](Self::run), until `signal` completes; then shuts down gracefully: stops
    /// accepting (the listener is closed, so new connections are refused), closes idle
    /// keep-alive connections, lets requests in progress finish for up to
    /// [`Config::shutdown_timeout`], drops what is left, and returns.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use smolweb::{Router, Server};
    ///
    /// let stop = async_io::Timer::after(Duration::from_secs(60));
    /// Server::bind("127.0.0.1:0")?.run_until(Router::new(), async { stop.await; })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run_until(
        self,
        router: Router,
        signal: impl Future<Output = ()> + Send,
    ) -> io::Result<()> {
        if self.per_core {
            return self.run_per_core(router, signal);
        }
        let ex = Arc::new(Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let mut workers = Vec::new();
        for i in 1..self.threads {
            let (ex, stopped) = (ex.clone(), stopped.clone());
            workers.push(runtime::spawn_thread(i, move || {
                runtime::block_on(&ex, stopped.recv())
            })?);
        }
        let result = runtime::block_on(&ex, self.serve_until(router, &ex, signal));
        drop(stop);
        for worker in workers {
            let _ = worker.join();
        }
        result
    }

    /// `run_until` with a listener and an executor per thread.
    fn run_per_core(
        self,
        router: Router,
        signal: impl Future<Output = ()> + Send,
    ) -> io::Result<()> {
        let Server {
            listener,
            addr,
            threads,
            config,
            layer,
            metrics,
            health,
            ..
        } = self;
        let per_thread = (config.max_connections / threads).max(1);
        let deadline = config.shutdown_timeout;
        let service = Service::with_probes(router, config, metrics, health);
        // Closed when the signal comes: every thread's accept loop stops.
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let mut workers = Vec::new();
        for i in 1..threads {
            let listener = Listener::Tcp(socket::listen(addr, true)?);
            let (service, stopped, layer) = (service.clone(), stopped.clone(), layer.clone());
            workers.push(runtime::spawn_thread(i, move || {
                let ex = Executor::new();
                let signal = async {
                    let _ = stopped.recv().await;
                };
                let serve = accept_until(
                    listener, &service, &layer, &ex, signal, per_thread, deadline,
                );
                runtime::block_on(&ex, serve)
            })?);
        }
        let ex = Executor::new();
        let signal = async {
            signal.await;
            stop.close();
        };
        let result = runtime::block_on(
            &ex,
            accept_until(
                listener, &service, &layer, &ex, signal, per_thread, deadline,
            ),
        );
        for worker in workers {
            let _ = worker.join();
        }
        result
    }

    /// The accept loop as a future: each connection becomes a task on `ex`.
    pub async fn serve(self, router: Router, ex: &Executor<'_>) -> io::Result<()> {
        self.serve_until(router, ex, std::future::pending()).await
    }

    /// [`serve`](Self::serve) until `signal` completes, then a graceful shutdown as in
    /// [`run_until`](Self::run_until). Connections still open at the deadline are cancelled.
    pub async fn serve_until(
        self,
        router: Router,
        ex: &Executor<'_>,
        signal: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let Server {
            listener,
            config,
            layer,
            metrics,
            health,
            ..
        } = self;
        let (limit, deadline) = (config.max_connections, config.shutdown_timeout);
        let service = Service::with_probes(router, config, metrics, health);
        accept_until(listener, &service, &layer, ex, signal, limit, deadline).await
    }
}

/// What an accepted TCP connection runs before HTTP: nothing, or a TLS handshake.
#[derive(Debug, Clone, Default)]
struct Layer {
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::TlsConfig>,
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
    let cancelled = held.tracked.cancelled();
    futures_lite::future::or(service.serve_listed(conn, &idle), cancelled).await
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
    let cancelled = held.tracked.cancelled();
    let serve = async {
        let peer = Transport::peer_addr(&transport);
        let timeout = service.config().header_timeout;
        match crate::tls::accept(transport, tls.current(), timeout).await {
            Ok(session) => service.serve_listed(Shared::of(session), &idle).await,
            Err(e) => log::debug!("connection from {peer:?}: {e}"),
        }
    };
    futures_lite::future::or(serve, cancelled).await
}

/// Accepts connections onto `ex` until `signal`, then shuts down gracefully: the listener is
/// closed, `service` told to finish, and its connections given `deadline` to end (see
/// `shutdown.rs`).
async fn accept_until(
    listener: Listener,
    service: &Service,
    layer: &Layer,
    ex: &Executor<'_>,
    signal: impl Future<Output = ()>,
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
        futures_lite::future::or(accept.as_mut(), signal).await;
        service.health().drain();
        if !drain_delay.is_zero() {
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

fn first_addr(addr: &impl ToSocketAddrs) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind"))
}

fn default_threads() -> usize {
    std::env::var(THREADS_ENV)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
