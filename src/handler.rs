//! [`Handler`] (what answers a request) and [`Middleware`] (what wraps handlers), with [`Next`].
//! A connection keeps their futures in a [`FutureSlot`].
//!
//! Both traits are implemented for plain async functions and closures, so an application never
//! names them and never boxes anything:
//!
//! ```
//! use smolweb::{Next, Request, Response, Router};
//!
//! async fn hello(_req: Request) -> &'static str {
//!     "Hello, World!"
//! }
//!
//! async fn server_header(req: Request, next: Next) -> Response {
//!     let mut res = next.run(req).await;
//!     res.insert_header("server", "smolweb");
//!     res
//! }
//!
//! let app = Router::new()
//!     .get("/", hello)
//!     .get("/closure", |req: Request| async move { format!("{}", req.path()) })
//!     .middleware(server_header);
//! # let _ = app;
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http_types::Response;

use crate::request::Request;
use crate::response::IntoResponse;
use crate::slot::FutureSlot;

/// A boxed, sendable future, as handlers and middleware return through their traits.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Something that answers requests.
///
/// Implemented for every `Fn(Request) -> impl Future<Output = impl IntoResponse>`, which
/// covers `async fn handler(req: Request) -> impl IntoResponse` and `|req| async move { .. }`.
/// [`ServeDir`](crate::ServeDir) implements it directly.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn call(&self, req: Request) -> BoxFuture<Response>;

    /// Answers one request with a future put in `slot` (see [`FutureSlot`]), which the
    /// caller then awaits.
    ///
    /// A connection keeps one slot for all its requests, so a handler that overrides this
    /// method and puts the same type of future every time allocates nothing for it after the
    /// first request. Handlers made from functions and closures do. **Default:** puts the
    /// boxed future [`call`](Self::call) returns (one allocation per request).
    fn call_in(&self, req: Request, slot: &mut FutureSlot) {
        slot.put(self.call(req));
    }

    /// The state this handler cannot run without, if any: checked when the application is
    /// built, so that a router missing it fails at start-up, not with a `500` at the first
    /// request. [`stateful`](crate::stateful) handlers say theirs. **Default:** none.
    fn needs_state(&self) -> Option<StateNeed> {
        None
    }

    /// This handler with `middleware` around it, for one route: what
    /// [`Router::middleware`](crate::Router::middleware) does for a whole router. The
    /// middleware runs inside the router's, and [`needs_state`](Self::needs_state) is this
    /// handler's. Calls chain: `h.with(a).with(b)` runs `b`, then `a`, then `h`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use smolweb::{Handler, Router, StatusCode, middleware::Timeout, test::TestClient};
    ///
    /// async fn slow(_req: smolweb::Request) -> &'static str {
    ///     async_io::Timer::after(Duration::from_secs(5)).await;
    ///     "too late"
    /// }
    /// let app = Router::new()
    ///     .get("/slow", slow.with(Timeout::new(Duration::from_millis(50))))
    ///     .get("/fast", |_| async { "fast" });
    /// smol::block_on(async {
    ///     let client = TestClient::new(app);
    ///     assert_eq!(client.get("/slow").send().await.status(), StatusCode::ServiceUnavailable);
    ///     assert_eq!(client.get("/fast").send().await.text().await, "fast");
    /// });
    /// ```
    fn with<M: Middleware>(self, middleware: M) -> Wrapped
    where
        Self: Sized,
    {
        Wrapped {
            middleware: Arc::new(middleware),
            none: Arc::new([]),
            inner: Arc::new(self),
        }
    }
}

/// A handler with middleware around it, made by [`Handler::with`].
///
/// ```
/// use smolweb::{Handler, Next, Request, Router};
///
/// let wrapped: smolweb::Wrapped = (|_| async { "hi" })
///     .with(|req: Request, next: Next| async move { next.run(req).await });
/// let app = Router::new().get("/", wrapped);
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct Wrapped {
    middleware: Arc<dyn Middleware>,
    /// The empty chain a [`Next`] of this handler starts from, made once.
    none: Arc<[Arc<dyn Middleware>]>,
    inner: Arc<dyn Handler>,
}

impl std::fmt::Debug for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wrapped").finish_non_exhaustive()
    }
}

impl Wrapped {
    fn next(&self) -> Next {
        Next::new(self.none.clone(), self.inner.clone())
    }
}

impl Handler for Wrapped {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        self.middleware.handle(req, self.next())
    }

    fn call_in(&self, req: Request, slot: &mut FutureSlot) {
        self.middleware.handle_in(req, self.next(), slot);
    }

    fn needs_state(&self) -> Option<StateNeed> {
        self.inner.needs_state()
    }
}

/// A state type a handler needs (see [`Handler::needs_state`]).
#[derive(Debug, Clone, Copy)]
pub struct StateNeed {
    pub(crate) type_id: std::any::TypeId,
    pub(crate) name: &'static str,
}

impl StateNeed {
    /// The need for a state of type `S`.
    ///
    /// ```
    /// let need = smolweb::StateNeed::of::<String>();
    /// # let _ = need;
    /// ```
    pub fn of<S: 'static>() -> Self {
        StateNeed {
            type_id: std::any::TypeId::of::<S>(),
            name: std::any::type_name::<S>(),
        }
    }
}

impl<F, Fut, R> Handler for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn call(&self, req: Request) -> BoxFuture<Response> {
        Box::pin(into_response(self(req)))
    }

    fn call_in(&self, req: Request, slot: &mut FutureSlot) {
        slot.put_with(|| self(req));
    }
}

/// `fut`, answering with a [`Response`].
async fn into_response<Fut>(fut: Fut) -> Response
where
    Fut: Future<Output: IntoResponse>,
{
    fut.await.into_response()
}

/// Something that wraps request handling: it may change the request, answer it itself, or
/// pass it on with [`Next::run`] and change the response.
///
/// Implemented for every `Fn(Request, Next) -> impl Future<Output = impl IntoResponse>`, so
/// `async fn mw(req: Request, next: Next) -> Response` is middleware.
pub trait Middleware: Send + Sync + 'static {
    /// Handles one request, usually by calling `next.run(req)`.
    fn handle(&self, req: Request, next: Next) -> BoxFuture<Response>;

    /// Handles one request with a future put in `slot`, as [`Handler::call_in`] does; the
    /// outermost middleware of a connection's requests is called this way. Middleware made
    /// from functions and closures overrides it. **Default:** puts the boxed future
    /// [`handle`](Self::handle) returns.
    fn handle_in(&self, req: Request, next: Next, slot: &mut FutureSlot) {
        slot.put(self.handle(req, next));
    }
}

impl<F, Fut, R> Middleware for F
where
    F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn handle(&self, req: Request, next: Next) -> BoxFuture<Response> {
        Box::pin(into_response(self(req, next)))
    }

    fn handle_in(&self, req: Request, next: Next, slot: &mut FutureSlot) {
        slot.put_with(|| self(req, next));
    }
}

/// The rest of the chain after a middleware: further middleware, then the handler.
#[derive(Clone)]
pub struct Next {
    chain: Arc<[Arc<dyn Middleware>]>,
    at: usize,
    endpoint: Arc<dyn Handler>,
}

impl std::fmt::Debug for Next {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next")
            .field("remaining", &(self.chain.len() - self.at))
            .finish()
    }
}

impl Next {
    pub(crate) fn new(chain: Arc<[Arc<dyn Middleware>]>, endpoint: Arc<dyn Handler>) -> Self {
        Next {
            chain,
            at: 0,
            endpoint,
        }
    }

    /// Runs the rest of the chain on `req`.
    pub fn run(mut self, req: Request) -> BoxFuture<Response> {
        match self.chain.get(self.at).cloned() {
            Some(mw) => {
                self.at += 1;
                mw.handle(req, self)
            }
            None => self.endpoint.call(req),
        }
    }

    /// Runs the rest of the chain on `req`, with the future in `slot`.
    pub(crate) fn run_in(mut self, req: Request, slot: &mut FutureSlot) {
        match self.chain.get(self.at).cloned() {
            Some(mw) => {
                self.at += 1;
                mw.handle_in(req, self, slot);
            }
            None => self.endpoint.call_in(req, slot),
        }
    }
}
