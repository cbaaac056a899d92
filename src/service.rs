//! [`Service`]: a router and its configuration, ready to answer requests and connections.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_lite::FutureExt;
use http_types::{Response, StatusCode};

use crate::config::Config;
use crate::conn::idle::IdleList;
use crate::conn::{self, Respond};
use crate::h1::message::Message;
use crate::handler::{Handler, Middleware, Next};
use crate::health::Health;
use crate::metrics::Metrics;
use crate::request::{Request, State};
use crate::response::{status_response, to_json_error};
use crate::router::Router;
use crate::shutdown::Signal;
use crate::slot::FutureSlot;
use crate::transport::{Remote, Transport};

/// A [`Router`] made ready to serve: its middleware chain, route table and [`Config`].
///
/// A [`Server`](crate::Server) builds one for you. Build one yourself to serve connections
/// over another [`Transport`] (see [`crate::memory`]) or to run a [`Request`] through the whole
/// application with no HTTP at all:
///
/// ```
/// use smolweb::{Request, Router, Service, StatusCode};
/// use smolweb::http::{Method, Url};
///
/// let service = Service::new(Router::new().get("/", |_| async { "hi" }));
/// let req = Request::from_http(smolweb::http::Request::new(Method::Get, Url::parse("http://x/nope")?));
/// let res = smol::block_on(service.respond(req));
/// assert_eq!(res.status(), StatusCode::NotFound);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    chain: Arc<[Arc<dyn Middleware>]>,
    routes: Arc<dyn Handler>,
    state: Option<State>,
    /// smolweb's own error responses are JSON (`Router::json_errors`).
    json_errors: bool,
    config: Config,
    metrics: Metrics,
    health: Health,
    /// Connections wait on it while idle.
    shutdown: Signal,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// A service with the default [`Config`].
    pub fn new(router: Router) -> Self {
        Self::with_config(router, Config::default())
    }

    /// A service with the given limits and timeouts.
    pub fn with_config(router: Router, config: Config) -> Self {
        Self::with_probes(router, config, Metrics::default(), Health::default())
    }

    /// [`with_config`](Self::with_config), with a server's counters and health check.
    pub(crate) fn with_probes(
        router: Router,
        config: Config,
        metrics: Metrics,
        health: Health,
    ) -> Self {
        let (chain, table) = router.into_parts();
        let state = table.state();
        let json_errors = table.json_errors();
        Service {
            inner: Arc::new(Inner {
                chain,
                routes: table,
                state,
                json_errors,
                config,
                metrics,
                health,
                shutdown: Signal::new(),
            }),
        }
    }

    /// The health check of this service (see [`Health`]).
    ///
    /// ```
    /// let service = smolweb::Service::new(smolweb::Router::new());
    /// assert!(!service.health().draining());
    /// ```
    pub fn health(&self) -> &Health {
        &self.inner.health
    }

    /// The counters of this service's connections (see [`Metrics`]).
    ///
    /// ```
    /// let service = smolweb::Service::new(smolweb::Router::new());
    /// assert_eq!(service.metrics().snapshot().responses, [0; 5]);
    /// ```
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Begins a graceful shutdown of every connection this service serves: idle keep-alive
    /// connections close now, busy ones after the response in progress (which says
    /// `Connection: close`). [`Server::run_until`](crate::Server::run_until) calls this.
    pub fn shutdown(&self) {
        self.inner.shutdown.begin();
    }

    /// True once [`shutdown`](Self::shutdown) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutdown.watch().has_begun()
    }

    /// The limits and timeouts connections use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Runs `req` through the middleware and the router. A handler that panics gives a
    /// `500` (the panic is logged); nothing else is affected.
    pub async fn respond(&self, req: Request) -> Response {
        self.respond_in(req, &mut FutureSlot::new()).await
    }

    /// [`respond`](Self::respond), with the handler's future in `slot`: a connection passes
    /// the same slot for every request, so that the future's room is allocated once.
    async fn respond_in(&self, mut req: Request, slot: &mut FutureSlot) -> Response {
        req.set_state(self.inner.state.clone());
        let next = Next::new(self.inner.chain.clone(), self.inner.routes.clone());
        // Both the synchronous call and every poll of the future may panic.
        let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| next.run_in(req, slot))) {
            Ok(()) => AssertUnwindSafe(&mut *slot).catch_unwind().await,
            Err(panic) => Err(panic),
        };
        let mut res = outcome.unwrap_or_else(|panic| {
            slot.clear();
            let msg = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(non-string panic payload)");
            log::error!("handler panicked: {msg}");
            status_response(StatusCode::InternalServerError)
        });
        if self.inner.json_errors {
            to_json_error(&mut res);
        }
        res
    }

    /// Serves HTTP/1.1 on `transport` until the peer closes, an error ends the connection,
    /// or a request asks to close. Never panics and never fails: a broken connection is an
    /// ordinary end, logged at debug level.
    pub async fn serve_connection<T: Transport>(&self, transport: T) {
        conn::serve(self, conn::Shared::of(transport), None).await
    }

    /// Serves one connection listed in `idle`, from which its server may close it while it
    /// is idle, to make room at the connection limit. The caller must wake the connection's
    /// task when shutdown begins (the accept loop races it with the shutdown watch): a listed
    /// connection only looks at the flag.
    ///
    /// Not an `async fn`: the connection's future is [`conn::serve`]'s itself, with no layer
    /// around it keeping a copy of its arguments.
    pub(crate) fn serve_listed<'a, T: Transport>(
        &'a self,
        conn: Arc<conn::Shared<T>>,
        idle: &'a IdleList,
    ) -> impl Future<Output = ()> + Send + 'a {
        conn::serve(self, conn, Some(idle))
    }
}

impl From<Router> for Service {
    /// The router with the default [`Config`].
    fn from(router: Router) -> Self {
        Service::new(router)
    }
}

impl Respond for Service {
    type Room = FutureSlot;

    fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    fn config(&self) -> &Config {
        &self.inner.config
    }

    fn shutdown(&self) -> &crate::shutdown::Watch {
        self.inner.shutdown.watch()
    }

    fn respond(
        &self,
        message: Message,
        remote: &Remote,
        room: &mut FutureSlot,
    ) -> impl Future<Output = Response> + Send {
        let req = Request::new(message, remote.clone(), self.inner.config.max_body_bytes);
        self.respond_in(req, room)
    }
}
