//! [`Timeout`]: a bound on how long the rest of the chain may take to produce a response.

use std::time::Duration;

use async_io::Timer;
use futures_lite::future;
use http_types::{Response, StatusCode};

use crate::handler::{BoxFuture, Middleware, Next};
use crate::request::Request;
use crate::response::error_response;

/// Answers `503 Service Unavailable` (a short text body, or JSON with
/// [`Router::json_errors`](crate::Router::json_errors)) when the handler behind it — the rest
/// of the chain — has not produced a response within the duration. The handler's future is
/// then dropped: it stops at the `.await` it was waiting in, and whatever it held (a database
/// connection, a file, a [`ConcurrencyLimit`](super::ConcurrencyLimit) place) is released.
///
/// It bounds the time to the response *head* only. A response whose body streams (server-sent
/// events, [`body_from_stream`](crate::body_from_stream), a file) is returned before its bytes
/// are produced, and is not cut off however long it runs; a client that stops reading is
/// bounded by [`Config::write_timeout`](crate::Config::write_timeout) instead. Neither is the
/// time the request spends before the middleware runs (reading the head).
///
/// Why `503` and not `504`: `504 Gateway Timeout` says a gateway waited for an upstream
/// server, which this server is not; `503` says this server could not answer in time, and
/// may be retried. Behind a proxy that should see `504`, set it with
/// [`status`](Self::status).
///
/// ```
/// use std::time::Duration;
/// use smolweb::{Router, StatusCode, middleware::Timeout, test::TestClient};
///
/// let app = Router::new()
///     .get("/", |_| async {
///         async_io::Timer::after(Duration::from_secs(5)).await;
///         "too late"
///     })
///     .middleware(Timeout::new(Duration::from_millis(50)));
/// smol::block_on(async {
///     let res = TestClient::new(app).get("/").send().await;
///     assert_eq!(res.status(), StatusCode::ServiceUnavailable);
///     assert_eq!(res.text().await, "request timed out");
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Timeout {
    after: Duration,
    status: StatusCode,
}

/// What a request that timed out is told.
const MESSAGE: &str = "request timed out";

impl Timeout {
    /// A timeout of `after` for each request.
    ///
    /// **Default:** none (the duration is required). **Unit:** time.
    ///
    /// ```
    /// let timeout = smolweb::middleware::Timeout::new(std::time::Duration::from_secs(10));
    /// # let _ = timeout;
    /// ```
    pub fn new(after: Duration) -> Self {
        Timeout {
            after,
            status: StatusCode::ServiceUnavailable,
        }
    }

    /// Sets the status a timed-out request gets.
    ///
    /// **Default:** `503 Service Unavailable`. **Unit:** an HTTP status.
    ///
    /// ```
    /// use smolweb::{StatusCode, middleware::Timeout};
    /// let behind_a_proxy = Timeout::new(std::time::Duration::from_secs(10))
    ///     .status(StatusCode::GatewayTimeout);
    /// # let _ = behind_a_proxy;
    /// ```
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl Middleware for Timeout {
    fn handle(&self, req: Request, next: Next) -> BoxFuture<Response> {
        let (after, status) = (self.after, self.status);
        Box::pin(async move {
            // The handler is polled first, so one ready at the deadline still answers.
            let expired = async move {
                Timer::after(after).await;
                error_response(status, MESSAGE)
            };
            future::or(next.run(req), expired).await
        })
    }
}
