//! [`Handler`] (what answers a request) and [`Middleware`] (what wraps handlers), with [`Next`].
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

use crate::{IntoResponse, Request, Response};

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
}

impl<F, Fut, R> Handler for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let fut = self(req);
        Box::pin(async move { fut.await.into_response() })
    }
}

/// Something that wraps request handling: it may change the request, answer it itself, or
/// pass it on with [`Next::run`] and change the response.
///
/// Implemented for every `Fn(Request, Next) -> impl Future<Output = impl IntoResponse>`, so
/// `async fn mw(req: Request, next: Next) -> Response` is middleware.
pub trait Middleware: Send + Sync + 'static {
    /// Handles one request, usually by calling `next.run(req)`.
    fn handle(&self, req: Request, next: Next) -> BoxFuture<Response>;
}

impl<F, Fut, R> Middleware for F
where
    F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn handle(&self, req: Request, next: Next) -> BoxFuture<Response> {
        let fut = self(req, next);
        Box::pin(async move { fut.await.into_response() })
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
}
