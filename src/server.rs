//! [`Server`]: bind, accept, and run connections on smol executor threads.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use async_io::{Async, Timer};
use smol::Executor;

use crate::socket::TcpTransport;
use crate::{Config, Router, Service};

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
    listener: Async<TcpListener>,
    addr: SocketAddr,
    threads: usize,
    config: Config,
}

impl Server {
    /// Binds a nonblocking listener. Port 0 picks a free port: see [`local_addr`](Self::local_addr).
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listener = Async::<TcpListener>::bind(first_addr(addr)?)?;
        let addr = listener.get_ref().local_addr()?;
        Ok(Server {
            listener,
            addr,
            threads: default_threads(),
            config: Config::default(),
        })
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

    /// Sets the limits and timeouts.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Serves `router` on this thread plus `threads - 1` more; returns only on a fatal
    /// listener error.
    pub fn run(self, router: Router) -> io::Result<()> {
        let ex = Arc::new(Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        for i in 1..self.threads {
            let (ex, stopped) = (ex.clone(), stopped.clone());
            std::thread::Builder::new()
                .name(format!("smolweb-{i}"))
                .spawn(move || smol::block_on(ex.run(stopped.recv())))?;
        }
        let result = smol::block_on(ex.run(self.serve(router, &ex)));
        drop(stop);
        result
    }

    /// The accept loop as a future: each connection becomes a task on `ex`.
    pub async fn serve(self, router: Router, ex: &Executor<'_>) -> io::Result<()> {
        let service = Service::with_config(router, self.config);
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => match TcpTransport::new(stream, Some(peer)) {
                    Ok(transport) => {
                        let service = service.clone();
                        ex.spawn(async move { service.serve_connection(transport).await })
                            .detach();
                    }
                    Err(e) => log::debug!("could not set up connection from {peer}: {e}"),
                },
                Err(e) => accept_failed(e).await,
            }
        }
    }
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

fn first_addr(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
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
