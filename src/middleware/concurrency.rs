//! [`ConcurrencyLimit`]: at most so many requests inside the handler behind it at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_types::headers::RETRY_AFTER;
use http_types::{Response, StatusCode};

use crate::handler::{BoxFuture, Middleware, Next};
use crate::request::Request;
use crate::response::error_response;

/// Lets at most `max` requests into the handler behind it at once; one more is answered at
/// once with `503 Service Unavailable` and `Retry-After`, without running the handler.
///
/// There is no queue: a request past the limit is not made to wait for a place (a bounded
/// wait would be a different piece). A place is taken when the request reaches the
/// middleware and given back when the handler has produced its response — or when its future
/// is dropped before that (the client went away, a [`Timeout`](super::Timeout) outside
/// fired): a guard gives it back on drop. The body of a streamed response is sent after the
/// place is given back, so a long download or an event stream holds no place.
///
/// Clones share one count: the same limit put on several routes (with
/// [`Handler::with`](crate::Handler::with)) bounds them together; two limits made with
/// [`new`](Self::new) count apart.
///
/// ```
/// use smolweb::{Router, StatusCode, middleware::ConcurrencyLimit, test::TestClient};
///
/// let app = Router::new()
///     .get("/", |_| async { "ok" })
///     .middleware(ConcurrencyLimit::new(0)); // nothing gets in
/// smol::block_on(async {
///     let res = TestClient::new(app).get("/").send().await;
///     assert_eq!(res.status(), StatusCode::ServiceUnavailable);
///     assert_eq!(res.header("retry-after"), Some("1"));
/// });
/// ```
#[derive(Debug, Clone)]
pub struct ConcurrencyLimit {
    max: usize,
    /// Requests inside now, shared by clones.
    inside: Arc<AtomicUsize>,
    retry_after: Duration,
}

impl ConcurrencyLimit {
    /// At most `max` requests at once.
    ///
    /// **Default:** none (the limit is required). **Unit:** requests.
    ///
    /// ```
    /// let limit = smolweb::middleware::ConcurrencyLimit::new(64);
    /// assert_eq!(limit.inside(), 0);
    /// ```
    pub fn new(max: usize) -> Self {
        ConcurrencyLimit {
            max,
            inside: Arc::default(),
            retry_after: Duration::from_secs(1),
        }
    }

    /// Sets the `Retry-After` a refused request is sent, in whole seconds (a fraction is
    /// rounded up, so it is never `0` unless `after` is zero).
    ///
    /// **Default:** 1 s. **Unit:** seconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// let limit = smolweb::middleware::ConcurrencyLimit::new(8).retry_after(Duration::from_secs(5));
    /// # let _ = limit;
    /// ```
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = after;
        self
    }

    /// How many requests are inside the handler now.
    ///
    /// ```
    /// assert_eq!(smolweb::middleware::ConcurrencyLimit::new(1).inside(), 0);
    /// ```
    pub fn inside(&self) -> usize {
        self.inside.load(Ordering::Acquire)
    }

    /// A place, if one is free.
    fn enter(&self) -> Option<Place> {
        self.inside
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Place(self.inside.clone()))
    }

    fn refusal(&self) -> Response {
        let mut res = error_response(StatusCode::ServiceUnavailable, "too many requests at once");
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        res.insert_header(RETRY_AFTER, secs.to_string());
        res
    }
}

/// One request's place; dropping it gives the place back.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Middleware for ConcurrencyLimit {
    fn handle(&self, req: Request, next: Next) -> BoxFuture<Response> {
        let Some(place) = self.enter() else {
            return Box::pin(std::future::ready(self.refusal()));
        };
        Box::pin(async move {
            let res = next.run(req).await;
            drop(place);
            res
        })
    }
}
