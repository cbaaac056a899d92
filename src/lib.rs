//! smolweb: a small, fast HTTP/1.1 web framework on [smol](https://docs.rs/smol) that never
//! dies because a client went away.
//!
//! Handlers are plain async functions; a [`Router`] maps methods and paths to them; a
//! [`Server`] runs the router on smol executor threads. Types from
//! [http-types](https://docs.rs/http-types) are the vocabulary, re-exported as [`http`] and,
//! for the everyday ones, at the crate root.
//!
//! ```no_run
//! use smolweb::{Json, Request, Result, Router, Server};
//!
//! async fn hello(_req: Request) -> &'static str {
//!     "Hello, World!"
//! }
//!
//! async fn user(req: Request) -> Result<Json<serde_json::Value>> {
//!     let id = req.param("id").unwrap_or_default();
//!     Ok(Json(serde_json::json!({ "id": id })))
//! }
//!
//! let app = Router::new()
//!     .get("/", hello)
//!     .get("/users/:id", user)
//!     .middleware(smolweb::log_requests);
//! Server::bind("127.0.0.1:8080")?.run(app)?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # The book
//!
//! A guide with a chapter per topic (routing, handlers, bodies, state, middleware and its kit,
//! compression, files, protocol upgrades, WebSocket, limits, production, testing,
//! architecture) is in `docs/` as an [mdBook](https://rust-lang.github.io/mdBook/): read `docs/src/` directly, or build it with
//! `mdbook build docs` (output in `docs/book/`). Its samples are compiled as doctests of this
//! crate. Complete programs are in `examples/`.
//!
//! # Clients that go away
//!
//! Every byte written to a socket goes through one module, [`socket`], which uses
//! `send(2)` with `MSG_NOSIGNAL` (`SO_NOSIGPIPE` on Apple and BSD). Files are streamed in
//! chunks through the same path (see [`FileResponse`]), and so are the bytes of a connection
//! after a protocol upgrade ([`Upgraded`]). A client that disconnects
//! mid-response ends its own connection with an ordinary error, even in a process whose
//! `SIGPIPE` is at its default action.
//!
//! # Cargo features
//!
//! * `sendfile` (off by default; Linux): file bodies larger than one chunk go out with
//!   `sendfile(2)`, zero-copy, from the [`Server`]'s own executor threads, which keep
//!   `SIGPIPE` *blocked* while they run. `sendfile` takes no flags and raises `SIGPIPE` on a
//!   closed connection; on those threads the signal stays pending and does nothing, and the
//!   call fails with `EPIPE` like `send`. Before a thread restores its signal mask, a pending
//!   `SIGPIPE` is consumed. Anywhere else (an executor you drive yourself) files are copied
//!   as without the feature; `zero_copy_bytes()` tells which path ran. Adds the `nix` crate
//!   (safe `pthread_sigmask`). One difference to know: with `sendfile` the socket queues the
//!   file's page-cache pages, not a copy, so a file changed or truncated *while* it is being
//!   sent may reach the client with the change (as with nginx). Replace served files by
//!   renaming new ones into place.
//! * `websocket` (off by default): `smolweb::websocket(..)` and the `smolweb::websocket`
//!   module, WebSocket (RFC 6455) endpoints built on protocol upgrades ([`Upgrade`]), with
//!   async-tungstenite for the frames. Adds 20 crates, none of them tokio. The book's
//!   *WebSocket* chapter describes it.
//! * `tls` (off by default): HTTPS with rustls 0.23 on the `ring` provider, through
//!   futures-rustls (`Server::tls`, the `tls` module). Adds 10 crates. The book's *HTTPS*
//!   chapter describes it.
//! * `signed-cookies` (off by default): cookies signed with HMAC-SHA256 (`cookie::CookieSigner`,
//!   `Request::signed_cookie`). Adds 9 crates (hmac, sha2 and theirs).
//! * `sessions` (off by default; implies `signed-cookies`): the `session` module, sessions
//!   behind a signed id cookie, kept in a `SessionStore` (in memory by default). Adds
//!   getrandom as well.
//! * `redis` (off by default; implies `sessions`): `session::RedisStore`, sessions in Redis
//!   over a RESP client of smolweb's own. Adds no crate beyond `sessions`.
//! * `activation` (off by default): `Server::from_activation`, the listening socket passed
//!   by systemd (`LISTEN_FDS`). Adds the `listenfd` crate.
//! * `compression` (off by default): `middleware::Compression`, response bodies in brotli,
//!   zstd or gzip by `Accept-Encoding`, streamed bodies flushed chunk by chunk. Adds 9
//!   crates (flate2 on zlib-rs, brotli, zstd and theirs; zstd builds its C library with
//!   `cc`). The
//!   book's *Middleware kit* chapter describes it.
//!
//! Crate counts are unique crates in `cargo tree -e normal --features X`; the default build
//! has 96.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, rust_2018_idioms)]

// Each module imports only modules below it in the layers `docs/src/architecture.md` draws.
mod accept;
mod coding;
mod config;
mod conn;
pub mod cookie;
mod de;
mod deadline;
mod error;
mod fs;
pub mod h1;
mod handler;
#[cfg(unix)]
mod handoff;
mod health;
mod listener;
mod logger;
pub mod memory;
mod metrics;
pub mod middleware;
mod percent;
mod pool;
mod request;
mod response;
mod router;
mod runtime;
mod server;
mod service;
#[cfg(feature = "sessions")]
pub mod session;
mod shutdown;
mod slot;
pub mod socket;
pub mod sse;
mod startup;
mod stateful;
mod stream;
mod template;
pub mod test;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
mod upgrade;
mod wake_all;
#[cfg(feature = "websocket")]
pub mod websocket;
#[cfg(all(feature = "sendfile", target_os = "linux"))]
mod zero_copy;

/// The HTTP vocabulary: the `http-types` crate, re-exported.
pub use http_types as http;
pub use http_types::{Body, Method, Mime, StatusCode, Url};

/// An HTTP response (`http_types::Response`).
pub type Response = http_types::Response;

pub use accept::ACCEPT_BACKOFF;
pub use config::{
    Config, MAX_BODY_BYTES, MAX_DRAIN_BYTES, MAX_HEAD_BYTES, MAX_HEADERS, MAX_TARGET_BYTES,
};
pub use error::{Error, Result};
pub use fs::{FILE_CHUNK, FileBody, FileResponse, ServeDir};
pub use handler::{BoxFuture, Handler, Middleware, Next, StateNeed, Wrapped};
#[cfg(unix)]
pub use handoff::{Handoff, HandoffError};
pub use health::Health;
pub use logger::log_requests;
pub use metrics::{Metrics, Snapshot};
pub use request::{AsHeaderName, Request};
pub use response::{IntoResponse, Json, ResponseExt};
pub use router::Router;
pub use server::{Server, THREADS_ENV};
pub use service::Service;
pub use slot::FutureSlot;
pub use startup::{BindError, RootError};
pub use stateful::stateful;
pub use stream::body_from_stream;
pub use transport::{PeerCredentials, TlsInfo, Transport};
pub use upgrade::{Upgrade, Upgraded};
#[cfg(feature = "websocket")]
pub use websocket::websocket;

/// Bytes this process has sent with `sendfile(2)` (the `sendfile` feature, Linux; see
/// [Cargo features](crate#cargo-features)).
///
/// Files larger than one chunk go out with `sendfile` on the [`Server`]'s own executor
/// threads; elsewhere (an executor you drive yourself), and for smaller files, they are
/// copied through `send(MSG_NOSIGNAL)`. This counter tells which path was taken.
///
/// ```
/// assert_eq!(smolweb::zero_copy_bytes(), 0); // nothing served yet
/// ```
#[cfg(all(feature = "sendfile", target_os = "linux"))]
pub fn zero_copy_bytes() -> u64 {
    zero_copy::BYTES.load(std::sync::atomic::Ordering::Relaxed)
}

/// The README and the docs book, compiled as doctests so their samples stay true.
#[cfg(doctest)]
mod book {
    #[doc = include_str!("../README.md")]
    struct Readme;
    #[doc = include_str!("../docs/src/introduction.md")]
    struct Introduction;
    #[doc = include_str!("../docs/src/getting-started.md")]
    struct GettingStarted;
    #[doc = include_str!("../docs/src/routing.md")]
    struct Routing;
    #[doc = include_str!("../docs/src/handlers.md")]
    struct Handlers;
    #[doc = include_str!("../docs/src/requests.md")]
    struct Requests;
    #[doc = include_str!("../docs/src/errors.md")]
    struct Errors;
    #[doc = include_str!("../docs/src/state.md")]
    struct State;
    #[doc = include_str!("../docs/src/middleware.md")]
    struct Middleware;
    #[doc = include_str!("../docs/src/middleware-kit.md")]
    struct MiddlewareKit;
    #[cfg(feature = "sessions")]
    #[doc = include_str!("../docs/src/cookies.md")]
    struct Cookies;
    #[doc = include_str!("../docs/src/files.md")]
    struct Files;
    #[cfg(feature = "compression")]
    #[doc = include_str!("../docs/src/compression.md")]
    struct Compression;
    #[doc = include_str!("../docs/src/streaming.md")]
    struct Streaming;
    #[doc = include_str!("../docs/src/upgrades.md")]
    struct Upgrades;
    #[cfg(feature = "websocket")]
    #[doc = include_str!("../docs/src/websocket.md")]
    struct WebSocket;
    #[cfg(feature = "tls")]
    #[doc = include_str!("../docs/src/tls.md")]
    struct Tls;
    #[doc = include_str!("../docs/src/limits.md")]
    struct Limits;
    #[doc = include_str!("../docs/src/production.md")]
    struct Production;
    #[doc = include_str!("../docs/src/testing.md")]
    struct Testing;
    #[doc = include_str!("../docs/src/performance.md")]
    struct Performance;
    #[doc = include_str!("../docs/src/architecture.md")]
    struct Architecture;
}
