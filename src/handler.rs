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

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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
        slot.put(self(req));
    }
}

/// `fut`, answering with a [`Response`].
async fn into_response<Fut>(fut: Fut) -> Response
where
    Fut: Future<Output: IntoResponse>,
{
    fut.await.into_response()
}

/// Room for a handler's future that is used again for the next request.
///
/// [`Handler::call_in`] puts a future in the slot; awaiting the slot (it is a future itself)
/// runs it to its response and leaves the slot empty, with its allocation kept. The next
/// [`put`](Self::put) of a future of the same type moves it into that room; a future of
/// another type replaces the room. A response known at once is put as
/// `std::future::ready(response)`.
///
/// ```
/// use smolweb::{BoxFuture, FutureSlot, Handler, IntoResponse, Request, Response};
///
/// /// Answers with a fixed text, without boxing a future per request.
/// struct Fixed(&'static str);
///
/// impl Handler for Fixed {
///     fn call(&self, _req: Request) -> BoxFuture<Response> {
///         Box::pin(std::future::ready(self.0.into_response()))
///     }
///
///     fn call_in(&self, _req: Request, slot: &mut FutureSlot) {
///         slot.put(std::future::ready(self.0.into_response()));
///     }
/// }
///
/// let mut slot = FutureSlot::new();
/// let req = Request::from_http(smolweb::http::Request::new(
///     smolweb::Method::Get,
///     smolweb::Url::parse("http://localhost/")?,
/// ));
/// Fixed("hi").call_in(req, &mut slot);
/// let res = smol::block_on(&mut slot);
/// assert_eq!(res.len(), Some(2));
/// # Ok::<(), smolweb::http::url::ParseError>(())
/// ```
#[derive(Default)]
pub struct FutureSlot {
    room: Option<Pin<Box<dyn Room>>>,
}

impl FutureSlot {
    /// An empty slot; it allocates on its first [`put`](Self::put).
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `fut` in the slot, in the room the last future left if it was of the same type.
    /// A future still in the slot is dropped.
    pub fn put<F>(&mut self, fut: F)
    where
        F: Future<Output: IntoResponse> + Send + 'static,
    {
        let mut fresh = Some(fut);
        if let Some(room) = &mut self.room {
            if room.as_mut().refill(&mut fresh) {
                return;
            }
        }
        self.room = Some(Box::pin(fresh));
    }

    /// Drops whatever the slot holds, keeping its room.
    pub fn clear(&mut self) {
        if let Some(room) = &mut self.room {
            room.as_mut().clear();
        }
    }
}

impl std::fmt::Debug for FutureSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FutureSlot")
            .field("room", &self.room.is_some())
            .finish()
    }
}

impl Future for FutureSlot {
    type Output = Response;

    /// The response of the future put last.
    ///
    /// # Panics
    ///
    /// When the slot is empty: nothing was put since its last response, as any future
    /// polled again after completing may.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let room = self.room.as_mut().expect("FutureSlot polled while empty");
        let res = std::task::ready!(room.as_mut().poll_response(cx));
        room.as_mut().clear();
        Poll::Ready(res)
    }
}

/// What a [`FutureSlot`] keeps its future in: an `Option` of the future's type, behind the
/// slot's one allocation. The future's output becomes a [`Response`] as it completes, so the
/// room holds only the future (wrapping it in an `async` block that converts would double its
/// size: the block keeps both the future it was given and the one it awaits).
trait Room: Send {
    /// Moves the future out of `fresh` into this room if `fresh` holds this room's type.
    fn refill(self: Pin<&mut Self>, fresh: &mut dyn Any) -> bool;
    /// # Panics
    ///
    /// When the room is empty.
    fn poll_response(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response>;
    fn clear(self: Pin<&mut Self>);
}

impl<F> Room for Option<F>
where
    F: Future<Output: IntoResponse> + Send + 'static,
{
    fn refill(mut self: Pin<&mut Self>, fresh: &mut dyn Any) -> bool {
        match fresh.downcast_mut::<Option<F>>() {
            Some(fresh) => {
                self.set(fresh.take());
                true
            }
            None => false,
        }
    }

    fn poll_response(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        self.as_pin_mut()
            .expect("FutureSlot polled while empty")
            .poll(cx)
            .map(IntoResponse::into_response)
    }

    fn clear(mut self: Pin<&mut Self>) {
        self.set(None);
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
        slot.put(self(req, next));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StatusCode;

    fn room_at(slot: &FutureSlot) -> *const u8 {
        let room: &dyn Room = &**slot.room.as_ref().expect("a room");
        (room as *const dyn Room).cast()
    }

    #[test]
    fn a_future_of_the_same_type_goes_in_the_same_room() {
        async fn answer(status: StatusCode) -> Response {
            crate::response::new_response(status)
        }
        let mut slot = FutureSlot::new();
        slot.put(answer(StatusCode::Ok));
        let at = room_at(&slot);
        assert_eq!(smol::block_on(&mut slot).status(), StatusCode::Ok);
        slot.put(answer(StatusCode::Created));
        assert_eq!(room_at(&slot), at);
        assert_eq!(smol::block_on(&mut slot).status(), StatusCode::Created);

        // A ready response is a future too.
        let ready = |status| std::future::ready(crate::response::new_response(status));
        slot.put(ready(StatusCode::Accepted));
        assert_eq!(smol::block_on(&mut slot).status(), StatusCode::Accepted);
        let ready_at = room_at(&slot);
        slot.put(ready(StatusCode::NoContent));
        assert_eq!(room_at(&slot), ready_at);
        assert_eq!(smol::block_on(&mut slot).status(), StatusCode::NoContent);

        // Another type of future gets a room of its own.
        slot.put(async { crate::response::new_response(StatusCode::Gone) });
        assert_eq!(smol::block_on(&mut slot).status(), StatusCode::Gone);
    }

    #[test]
    fn a_future_put_over_an_unfinished_one_drops_it() {
        let flag = Arc::new(());
        let held = flag.clone();
        let mut slot = FutureSlot::new();
        slot.put(async move {
            std::future::pending::<()>().await;
            drop(held);
            crate::response::new_response(StatusCode::Ok)
        });
        assert!(
            futures_lite::future::block_on(futures_lite::future::poll_once(&mut slot)).is_none()
        );
        assert_eq!(Arc::strong_count(&flag), 2);
        slot.put(std::future::ready(crate::response::new_response(
            StatusCode::Ok,
        )));
        assert_eq!(Arc::strong_count(&flag), 1);
    }

    #[test]
    #[should_panic(expected = "FutureSlot polled while empty")]
    fn an_empty_slot_panics_when_polled() {
        let mut slot = FutureSlot::new();
        slot.put(std::future::ready(crate::response::new_response(
            StatusCode::Ok,
        )));
        smol::block_on(&mut slot);
        smol::block_on(&mut slot);
    }
}
