//! Request logging middleware.

use std::time::Instant;

use http_types::Response;

use crate::handler::Next;
use crate::request::Request;

/// Logs one line per request through the `log` facade: method, path, status, duration.
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
    let res = next.run(req).await;
    let status = u16::from(res.status());
    let elapsed = start.elapsed();
    let level = match status {
        500.. => log::Level::Error,
        400..=499 => log::Level::Warn,
        _ => log::Level::Info,
    };
    log::log!(
        level,
        "{method} {path} {status} {:.3} ms",
        elapsed.as_secs_f64() * 1e3
    );
    res
}
