//! [`Health`]: a health check that fails while the server drains, so that a load balancer
//! stops sending before the server stops accepting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http_types::{Response, StatusCode};

/// Whether the server is draining, and a handler that says so: `200 ok` while it serves,
/// `503 draining` once a graceful shutdown has begun (for
/// [`Config::drain_delay`](crate::Config::drain_delay) the server goes on accepting and
/// serving, so that the balancer's checks see the `503` and it sends new requests elsewhere
/// before this server stops accepting).
///
/// ```
/// let server = smolweb::Server::bind("127.0.0.1:0")?;
/// let app = smolweb::Router::new().get("/healthz", server.health().handler());
/// assert!(!server.health().draining());
/// # let _ = app;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Health {
    draining: Arc<AtomicBool>,
}

impl Health {
    /// True once a graceful shutdown has begun.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub(crate) fn drain(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// The health check: `200` with `ok`, or `503` with `draining` (and `Connection: close`
    /// is up to the server once it stops).
    pub fn handler(&self) -> impl crate::Handler {
        let health = self.clone();
        move |_req: crate::Request| {
            let draining = health.draining();
            async move {
                let (status, text) = if draining {
                    (StatusCode::ServiceUnavailable, "draining")
                } else {
                    (StatusCode::Ok, "ok")
                };
                let mut res = Response::new(status);
                res.set_body(text);
                res.insert_header("cache-control", "no-store");
                res
            }
        }
    }
}
