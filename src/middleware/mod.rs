//! The middleware kit: ready-made [`Middleware`](crate::Middleware) for what most
//! applications need around their handlers. The book's *Middleware kit* chapter has a table
//! of every piece and its defaults.
//!
//! Each file holds one piece; they import the request, response and handler layers, never
//! the connection.
//!
//! | file | piece |
//! | --- | --- |
//! | `cors.rs` | [`Cors`]: cross-origin requests allowed, preflights answered |
//! | `proxy.rs` | [`TrustedProxies`]: client address, scheme and host from trusted proxies |
//! | `forwarded.rs` | reading `Forwarded` (RFC 7239) and `X-Forwarded-For` (for `proxy.rs`) |
//! | `cidr.rs` | address ranges (`10.0.0.0/8`) and [`ProxyConfigError`] (for `proxy.rs`) |
//! | `request_id.rs` | [`RequestId`]: an id per request, on the request and the response |
//! | `timeout.rs` | [`Timeout`]: `503` when the handler takes longer than a duration |
//! | `concurrency.rs` | [`ConcurrencyLimit`]: at most N requests in the handler, `503` past it |
//! | `body_limit.rs` | [`BodyLimit`]: the buffered body limit, per route |
//! | `compress/` | `Compression` (feature `compression`): brotli, zstd, gzip |
//! | `vary.rs` | adding a name to `Vary` without losing what is there |
//!
//! # One route or a whole router
//!
//! Every piece goes around a whole router with
//! [`Router::middleware`](crate::Router::middleware), or around one handler with
//! [`Handler::with`](crate::Handler::with) (bring the `Handler` trait into scope); a wrapped
//! handler keeps the state needs of the one inside.
//!
//! ```
//! use std::time::Duration;
//! use smolweb::middleware::{BodyLimit, ConcurrencyLimit, Timeout};
//! use smolweb::{Handler, Request, Router, StatusCode, test::TestClient};
//!
//! async fn upload(mut req: Request) -> smolweb::Result<String> {
//!     Ok(req.body_bytes().await?.len().to_string())
//! }
//! let app = Router::new()
//!     .post("/upload", upload.with(BodyLimit::new(8)).with(ConcurrencyLimit::new(4)))
//!     .get("/", |_| async { "home" })
//!     .middleware(Timeout::new(Duration::from_secs(10)));
//! smol::block_on(async {
//!     let client = TestClient::new(app);
//!     assert_eq!(client.post("/upload").body("12345678").send().await.text().await, "8");
//!     let res = client.post("/upload").body("123456789").send().await;
//!     assert_eq!(res.status(), StatusCode::PayloadTooLarge);
//! });
//! ```

mod body_limit;
mod cidr;
#[cfg(feature = "compression")]
mod compress;
mod concurrency;
mod cors;
mod forwarded;
mod proxy;
mod request_id;
mod timeout;
mod vary;

pub use body_limit::BodyLimit;
pub use cidr::ProxyConfigError;
#[cfg(feature = "compression")]
pub use compress::{COMPRESS_WHOLE_MAX, Compression};
pub use concurrency::ConcurrencyLimit;
pub use cors::{Cors, InvalidOrigin};
pub use proxy::TrustedProxies;
pub use request_id::{MAX_REQUEST_ID_BYTES, RequestId};
pub use timeout::Timeout;
