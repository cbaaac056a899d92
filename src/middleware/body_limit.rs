//! [`BodyLimit`]: the largest body the buffered body helpers read, for the requests it wraps.

use http_types::Response;

use crate::handler::{BoxFuture, Middleware, Next};
use crate::request::Request;

/// Replaces [`Config::max_body_bytes`](crate::Config::max_body_bytes) for the requests it
/// wraps: [`Request::body_bytes`], [`body_string`](Request::body_string),
/// [`body_json`](Request::body_json) and [`body_form`](Request::body_form) read at most this
/// much, and answer a larger body with `413 Payload Too Large` (the same [`Error`](crate::Error)
/// as the configured limit; a declared `Content-Length` over it is refused before a byte is
/// read). It may lower the limit (an endpoint that takes a small JSON object) or raise it (an
/// upload route), and the innermost one wins.
///
/// What it does not change, because the connection applies it before routing:
/// [`Config::max_streamed_body_bytes`](crate::Config::max_streamed_body_bytes) (no limit by
/// default) refuses a larger `Content-Length` with `413` before any middleware runs, so a
/// `BodyLimit` can raise the buffered limit only up to it. Like the configured limit, it
/// leaves a body the handler streams with [`Request::take_body`] alone.
///
/// ```
/// use smolweb::{Handler, Request, Router, StatusCode, middleware::BodyLimit, test::TestClient};
///
/// async fn echo(mut req: Request) -> smolweb::Result<Vec<u8>> {
///     req.body_bytes().await
/// }
/// let app = Router::new()
///     .post("/small", echo.with(BodyLimit::new(16)))
///     .post("/large", echo);
/// smol::block_on(async {
///     let client = TestClient::new(app);
///     let big = "x".repeat(100);
///     let res = client.post("/small").body(big.clone()).send().await;
///     assert_eq!(res.status(), StatusCode::PayloadTooLarge);
///     assert_eq!(client.post("/large").body(big).send().await.status(), StatusCode::Ok);
/// });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    max: usize,
}

impl BodyLimit {
    /// Bodies of at most `max` bytes.
    ///
    /// **Default:** none (the limit is required; without the middleware,
    /// [`Config::max_body_bytes`](crate::Config::max_body_bytes), 2 MiB). **Unit:** bytes.
    ///
    /// ```
    /// let uploads = smolweb::middleware::BodyLimit::new(64 * 1024 * 1024);
    /// # let _ = uploads;
    /// ```
    pub fn new(max: usize) -> Self {
        BodyLimit { max }
    }
}

impl Middleware for BodyLimit {
    fn handle(&self, mut req: Request, next: Next) -> BoxFuture<Response> {
        req.set_body_limit(self.max);
        next.run(req)
    }
}
