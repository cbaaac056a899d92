//! [`RequestId`]: an id for every request, on the request and on its response.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use http_types::headers::HeaderName;

use crate::handler::{BoxFuture, Middleware, Next};
use crate::request::{Request, ResponseRequestId};

/// The longest request id taken from a proxy; a longer one is replaced.
///
/// **Default:** 128. **Unit:** bytes.
///
/// ```
/// assert_eq!(smolweb::middleware::MAX_REQUEST_ID_BYTES, 128);
/// ```
pub const MAX_REQUEST_ID_BYTES: usize = 128;

/// Middleware that gives every request an id: [`Request::request_id`] for the handlers
/// behind it, the `x-request-id` header on the response, and the `id=` of the line
/// [`log_requests`](crate::log_requests) writes (in whichever order the two are added).
///
/// The id a request brings in its header is kept when the request came through a trusted
/// proxy ([`TrustedProxies`](super::TrustedProxies) ran before and trusted the peer: add it
/// first) and is 1 to [`MAX_REQUEST_ID_BYTES`] visible ASCII characters; otherwise a new one
/// is made, so a client cannot choose the id its request is logged under. New ids are
/// unique within the process (a counter) and, very likely, across restarts (a prefix made
/// from the start time and the process id): `5f1c0e9a3b27-0000002a`. They are not secret
/// and not hard to guess.
///
/// ```
/// use smolweb::{middleware::RequestId, Request, Router, test::TestClient};
///
/// let app = Router::new()
///     .get("/", |req: Request| async move { format!("id {}", req.request_id().unwrap()) })
///     .middleware(RequestId::new().header("x-trace-id"));
/// smol::block_on(async {
///     let client = TestClient::new(app);
///     let res = client.get("/").header("x-trace-id", "chosen-by-client").send().await;
///     let id = res.header("x-trace-id").unwrap().to_string();
///     assert_ne!(id, "chosen-by-client"); // no trusted proxy: a new id
///     assert_eq!(res.text().await, format!("id {id}"));
/// });
/// ```
///
/// Behind a proxy, with [`TrustedProxies`](super::TrustedProxies) added first:
///
/// ```
/// use smolweb::middleware::{RequestId, TrustedProxies};
/// use smolweb::{Router, test::TestClient};
///
/// let app = Router::new()
///     .get("/", |_| async { "hi" })
///     .middleware(TrustedProxies::new(["10.0.0.0/8"]).unwrap())
///     .middleware(RequestId::new());
/// smol::block_on(async {
///     let proxy = TestClient::new(app).peer_addr("10.0.0.1:50000".parse().unwrap());
///     let res = proxy.get("/").header("x-request-id", "edge-7f3a").send().await;
///     assert_eq!(res.header("x-request-id"), Some("edge-7f3a"));
///     let res = proxy.get("/").header("x-request-id", "has space").send().await;
///     assert_ne!(res.header("x-request-id"), Some("has space")); // not sane: replaced
/// });
/// ```
#[derive(Debug, Clone)]
pub struct RequestId {
    header: HeaderName,
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestId {
    /// Request ids in the `x-request-id` header.
    ///
    /// ```
    /// let app = smolweb::Router::new().middleware(smolweb::middleware::RequestId::new());
    /// # let _ = app;
    /// ```
    pub fn new() -> Self {
        RequestId {
            header: HeaderName::from_string("x-request-id".to_owned()).expect("a header name"),
        }
    }

    /// The header the id is read from (from a trusted proxy) and written to (on the
    /// response).
    ///
    /// **Default:** `x-request-id`.
    ///
    /// # Panics
    /// If `name` is not a header name (a token: letters, digits and ``!#$%&'*+-.^_`|~``),
    /// a mistake in the program found at start-up.
    ///
    /// ```
    /// let ids = smolweb::middleware::RequestId::new().header("X-Correlation-Id");
    /// # let _ = ids;
    /// ```
    pub fn header(mut self, name: &str) -> Self {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        assert!(
            !name.is_empty() && name.bytes().all(token),
            "RequestId::header: {name:?} is not a header name"
        );
        self.header =
            HeaderName::from_string(name.to_ascii_lowercase()).expect("a token is a header name");
        self
    }

    /// The id `req` keeps: the one a trusted proxy sent, if it is sane, else a new one.
    fn id_for(&self, req: &Request) -> Arc<str> {
        let given = req
            .via_trusted_proxy()
            .then(|| req.header(&self.header))
            .flatten()
            .filter(|id| is_sane(id));
        match given {
            Some(id) => id.into(),
            None => new_id().into(),
        }
    }
}

impl Middleware for RequestId {
    fn handle(&self, mut req: Request, next: Next) -> BoxFuture<crate::Response> {
        let id = self.id_for(&req);
        req.set_request_id(id.clone());
        let header = self.header.clone();
        let res = next.run(req);
        Box::pin(async move {
            let mut res = res.await;
            res.insert_header(header, &*id);
            res.ext_mut().insert(ResponseRequestId(id));
            res
        })
    }
}

/// 1 to [`MAX_REQUEST_ID_BYTES`] bytes, each visible ASCII (`!` to `~`).
fn is_sane(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_BYTES).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// A new id: this process's prefix and the next value of its counter.
fn new_id() -> String {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        mix(nanos ^ (u64::from(std::process::id()) << 40)) & 0xffff_ffff_ffff
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:012x}-{n:08x}")
}

/// SplitMix64's finalizer: nearby inputs (start times a few ns apart) give unrelated outputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_over_ten_thousand_calls() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(
            ids.iter().all(|id| is_sane(id) && id.len() == 21),
            "{ids:?}"
        );
    }

    #[test]
    fn what_counts_as_sane() {
        assert!(is_sane("abc-123_XYZ"));
        assert!(is_sane(&"a".repeat(MAX_REQUEST_ID_BYTES)));
        assert!(!is_sane(&"a".repeat(MAX_REQUEST_ID_BYTES + 1)));
        assert!(!is_sane(""));
        assert!(!is_sane("a b"));
        assert!(!is_sane("a\tb"));
        assert!(!is_sane("zoë"));
    }

    #[test]
    #[should_panic(expected = "is not a header name")]
    fn a_header_name_with_a_space_panics() {
        let _ = RequestId::new().header("x request id");
    }
}
