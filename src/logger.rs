//! Request logging middleware.

use std::time::Instant;

use http_types::Response;

use crate::handler::Next;
use crate::request::{Request, ResponseRequestId};

/// Logs one line per request through the `log` facade: method, path, status, duration, and
/// the request's id when [`RequestId`](crate::middleware::RequestId) gave it one
/// (`GET /notes 200 0.123 ms id=5f1c0e9a3b27-0000002a`), whether it runs inside or outside
/// `log_requests`.
///
/// `info` for 1xx–3xx, `warn` for 4xx, `error` for 5xx.
///
/// ```
/// let app = smolweb::Router::new()
///     .get("/", |_| async { "hi" })
///     .middleware(smolweb::log_requests);
/// # let _ = app;
/// ```
pub async fn log_requests(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method();
    let path = req.path().to_owned();
    // Set when RequestId runs before (outside) this; inside, it leaves the id on the response.
    let id = req.request_id().map(str::to_owned);
    let res = next.run(req).await;
    let id = id.or_else(|| {
        let on_response = res.ext().get::<ResponseRequestId>()?;
        Some(on_response.0.to_string())
    });
    let id = id.map_or(String::new(), |id| format!(" id={id}"));
    let status = u16::from(res.status());
    let elapsed = start.elapsed();
    let level = match status {
        500.. => log::Level::Error,
        400..=499 => log::Level::Warn,
        _ => log::Level::Info,
    };
    log::log!(
        level,
        "{method} {path} {status} {:.3} ms{id}",
        elapsed.as_secs_f64() * 1e3
    );
    res
}
