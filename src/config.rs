//! Limits and timeouts of a [`Server`](crate::Server) or [`Service`](crate::Service).

use std::time::Duration;

/// Default of [`Config::max_head_bytes`].
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// Default of [`Config::max_headers`].
pub const MAX_HEADERS: usize = 100;
/// Default of [`Config::max_target_bytes`].
pub const MAX_TARGET_BYTES: usize = 8 * 1024;
/// Default of [`Config::max_body_bytes`].
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Default of [`Config::max_drain_bytes`].
pub const MAX_DRAIN_BYTES: u64 = 256 * 1024;

/// Every limit and timeout a connection applies, in one place.
///
/// Build one from [`Config::default()`] and change what you need:
///
/// ```
/// use std::time::Duration;
/// let config = smolweb::Config {
///     header_timeout: Duration::from_secs(5),
///     max_body_bytes: 64 * 1024,
///     ..smolweb::Config::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest request head (request line and header fields) accepted; larger → `431`, or `414`
    /// when the request line alone does not fit.
    ///
    /// **Default:** 32 KiB ([`MAX_HEAD_BYTES`]). **Unit:** bytes.
    pub max_head_bytes: usize,
    /// Most header fields accepted in one request; more → `431`. Capped at 256.
    ///
    /// **Default:** 100 ([`MAX_HEADERS`]). **Unit:** fields.
    pub max_headers: usize,
    /// Longest request target (path and query) accepted; longer → `414`.
    ///
    /// **Default:** 8 KiB ([`MAX_TARGET_BYTES`]). **Unit:** bytes.
    pub max_target_bytes: usize,
    /// Largest body that [`Request::body_bytes`](crate::Request::body_bytes),
    /// [`body_string`](crate::Request::body_string) and
    /// [`body_json`](crate::Request::body_json) will buffer; larger → `413`.
    /// Streaming the body with [`Request::take_body`](crate::Request::take_body) is not limited.
    ///
    /// **Default:** 2 MiB ([`MAX_BODY_BYTES`]). **Unit:** bytes.
    pub max_body_bytes: usize,
    /// How much of a body the handler did not read is read and discarded so the connection
    /// can carry the next request; past this the connection is closed instead (at once, with
    /// `Connection: close` on the response, when the body's declared length already says so).
    ///
    /// **Default:** 256 KiB ([`MAX_DRAIN_BYTES`]). **Unit:** bytes.
    pub max_drain_bytes: u64,
    /// How long an idle keep-alive connection waits for the first byte of its next request
    /// (the first request of a connection has [`header_timeout`](Self::header_timeout) from
    /// the accept instead).
    ///
    /// **Default:** 60 s. **Unit:** time.
    pub keep_alive_timeout: Duration,
    /// How long a request head may take from its first byte to its blank line (slowloris);
    /// for the first request of a connection, from the accept: a connection that sends
    /// nothing is closed after it.
    ///
    /// **Default:** 10 s. **Unit:** time.
    pub header_timeout: Duration,
    /// How long a request body may go without a byte arriving while it is being read.
    ///
    /// **Default:** 30 s. **Unit:** time.
    pub body_timeout: Duration,
    /// How long a response write may make no progress (a client that stopped reading).
    ///
    /// **Default:** 30 s. **Unit:** time.
    pub write_timeout: Duration,
    /// Largest request body accepted at all, even streamed; larger → `413` and close.
    /// A `Content-Length` over the limit is refused before the handler runs; a chunked body
    /// fails with [`std::io::ErrorKind::FileTooLarge`] when it crosses it.
    ///
    /// **Default:** `None` (no limit). **Unit:** bytes.
    pub max_streamed_body_bytes: Option<u64>,
    /// Most connections served at once by a [`Server`](crate::Server). At the limit, when a
    /// new client is waiting, the server closes its oldest idle connections (keep-alive ones
    /// between requests, and new ones that have sent nothing yet): an eighth of them, at
    /// least one and at most 32 at a time, as nginx does. A connection that has begun a
    /// request is never closed for it; with none idle, new clients wait in the listen
    /// backlog until a connection ends.
    ///
    /// **Default:** half of `RLIMIT_NOFILE` less 64 (each connection may hold a socket and a
    /// file), at least 16; 4,096 when the limit is unknown. **Unit:** connections.
    pub max_connections: usize,
    /// On graceful shutdown, how long in-flight requests may take to finish before their
    /// connections are dropped.
    ///
    /// **Default:** 30 s. **Unit:** time.
    pub shutdown_timeout: Duration,
    /// On graceful shutdown, how long the server goes on accepting and serving before it
    /// stops, its [`Health`](crate::Health) check answering `503` meanwhile: the time a load
    /// balancer needs to see the check fail and send new requests elsewhere. Not after a
    /// [handoff](crate::Server::handoff) to a successor, which goes on serving the port: the
    /// check keeps passing and accepting stops at once.
    ///
    /// **Default:** 0 (stop accepting at once). **Unit:** time.
    pub drain_delay: Duration,
}

/// The default of [`Config::max_connections`].
pub fn default_max_connections() -> usize {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    match limit {
        Some(n) => usize::try_from(n.saturating_sub(64) / 2)
            .unwrap_or(usize::MAX)
            .max(16),
        None => 4096,
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_head_bytes: MAX_HEAD_BYTES,
            max_headers: MAX_HEADERS,
            max_target_bytes: MAX_TARGET_BYTES,
            max_body_bytes: MAX_BODY_BYTES,
            max_drain_bytes: MAX_DRAIN_BYTES,
            keep_alive_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_streamed_body_bytes: None,
            max_connections: default_max_connections(),
            shutdown_timeout: Duration::from_secs(30),
            drain_delay: Duration::ZERO,
        }
    }
}
