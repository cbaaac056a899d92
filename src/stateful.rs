//! [`stateful`]: a handler that is given the router's state, and whose need for it is checked
//! when the application is built.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use http_types::Response;

use crate::handler::{BoxFuture, Handler, StateNeed};
use crate::request::Request;
use crate::response::IntoResponse;
use crate::slot::FutureSlot;

/// A handler from `f`, which gets the request and the router's state `S` (an `Arc` of its
/// own: hold it across `.await`s, while the body is read). A router without a state of type
/// `S` for it is refused when the application is built (`Service::new`, `Server::run`):
/// a panic naming the route and the type, at start-up rather than a `500` at the first
/// request.
///
/// ```
/// use std::sync::Mutex;
/// use std::sync::Arc;
/// use smolweb::{Request, Router, stateful, test::TestClient};
///
/// #[derive(Default)]
/// struct Counter(Mutex<u64>);
///
/// async fn add(mut req: Request, counter: Arc<Counter>) -> smolweb::Result<String> {
///     let n: u64 = req.body_string().await?.trim().parse().unwrap_or(0);
///     let mut total = counter.0.lock().unwrap();
///     *total += n;
///     Ok(total.to_string())
/// }
///
/// let app = Router::new().post("/add", stateful(add)).with_state(Counter::default());
/// smol::block_on(async {
///     let client = TestClient::new(app);
///     assert_eq!(client.post("/add").body("2").send().await.text().await, "2");
///     assert_eq!(client.post("/add").body("3").send().await.text().await, "5");
/// });
///
/// // Forgetting `with_state` is caught when the application is built:
/// let forgot = Router::new().post("/add", stateful(add));
/// let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| smolweb::Service::new(forgot)));
/// assert!(built.is_err());
/// ```
pub fn stateful<S, F, Fut, R>(f: F) -> impl Handler
where
    S: Send + Sync + 'static,
    F: Fn(Request, Arc<S>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    Stateful {
        f,
        state: PhantomData::<fn() -> S>,
    }
}

struct Stateful<S, F> {
    f: F,
    state: PhantomData<fn() -> S>,
}

impl<S, F, Fut, R> Handler for Stateful<S, F>
where
    S: Send + Sync + 'static,
    F: Fn(Request, Arc<S>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let state = req.state_arc::<S>();
        let fut = (self.f)(req, state);
        Box::pin(async move { fut.await.into_response() })
    }

    fn call_in(&self, req: Request, slot: &mut FutureSlot) {
        let state = req.state_arc::<S>();
        slot.put_with(|| (self.f)(req, state));
    }

    fn needs_state(&self) -> Option<StateNeed> {
        Some(StateNeed::of::<S>())
    }
}
