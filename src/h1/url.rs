//! Request targets to URLs (RFC 9112 §3.2), relative to a base URL each connection keeps.

use http_types::Url;

use super::error::{HeadError, bad};
use super::raw::HeadRoom;

/// What heads leave for the next ones: the base URL and the room for the bytes.
///
/// The base URL is the last `http://host/` the requests were relative to. Requests nearly
/// always name the same host, so each URL is parsed relative to this base: the host is parsed
/// (and IDNA-checked) once per thread and host ([`with_thread_cache`]), not once per request.
#[derive(Default)]
pub(crate) struct HeadCache {
    host: Vec<u8>,
    base: Option<Url>,
    scratch: String,
    /// Where the connection's kept heads put their bytes.
    pub(super) room: HeadRoom,
    /// The connection is TLS: its URLs are `https`.
    pub(super) secure: bool,
}

thread_local! {
    /// This thread's caches, `http` then `https`: the connections a thread serves nearly
    /// always name one host, so a thread keeps one base URL per scheme and a connection
    /// (idle between requests, most of its life) keeps none.
    static CACHES: std::cell::RefCell<[HeadCache; 2]> =
        const { std::cell::RefCell::new([HeadCache::new(false), HeadCache::new(true)]) };
}

/// Runs `f` with this thread's cache for TLS (`secure`) or plain connections.
pub(crate) fn with_thread_cache<R>(secure: bool, f: impl FnOnce(&mut HeadCache) -> R) -> R {
    let mut f = Some(f);
    let cached = CACHES.try_with(|caches| {
        let mut caches = caches.try_borrow_mut().ok()?;
        let f = f.take()?;
        Some(f(&mut caches[usize::from(secure)]))
    });
    match (cached, f) {
        (Ok(Some(r)), _) => r,
        (_, Some(f)) => f(&mut HeadCache::new(secure)),
        (_, None) => unreachable!("the cache was used, so it gave a result"),
    }
}

impl HeadCache {
    /// A new cache, for TLS (`secure`) connections or not.
    pub(crate) const fn new(secure: bool) -> Self {
        HeadCache {
            host: Vec::new(),
            base: None,
            scratch: String::new(),
            room: HeadRoom,
            secure,
        }
    }

    fn base(&mut self, host: &[u8]) -> Result<&Url, HeadError> {
        if self.base.is_none() || self.host != host {
            self.scratch.clear();
            self.scratch
                .push_str(if self.secure { "https://" } else { "http://" });
            // valid_host checked the bytes are ASCII.
            self.scratch
                .push_str(std::str::from_utf8(host).map_err(|_| bad("invalid Host header"))?);
            self.scratch.push('/');
            let base = Url::parse(&self.scratch).map_err(|_| bad("invalid Host header"))?;
            self.host.clear();
            self.host.extend_from_slice(host);
            self.base = Some(base);
        }
        self.base.as_ref().ok_or(bad("invalid Host header"))
    }
}

/// The base URL for an origin-form target: `http://` and the `Host` field's value (or
/// `localhost` without one), which must be a valid host.
pub(super) fn origin_base<'u>(
    host: Option<&[u8]>,
    urls: &'u mut HeadCache,
) -> Result<&'u Url, HeadError> {
    let host = match host {
        Some(h) if !h.is_empty() => h,
        _ => b"localhost".as_slice(),
    };
    if !valid_host(host) {
        return Err(bad("invalid Host header"));
    }
    urls.base(host)
}

pub(super) fn build_url(
    target: &str,
    host: Option<&[u8]>,
    urls: &mut HeadCache,
) -> Result<Url, HeadError> {
    if target.starts_with('/') {
        let base = origin_base(host, urls)?;
        let url = if target.starts_with("//") {
            // Relative to a base, `//x` would name host `x`; as a path it must stay a path.
            let mut full = base.clone();
            full.set_path(target.split(['?']).next().unwrap_or(target));
            full.set_query(target.split_once('?').map(|(_, q)| q));
            full
        } else {
            Url::options()
                .base_url(Some(base))
                .parse(target)
                .map_err(|_| bad("invalid request target"))?
        };
        return Ok(url);
    }
    let scheme_ok = target
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
        || target
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    let authority = target.split_once("://").map_or("", |(_, rest)| rest);
    if scheme_ok && !authority.is_empty() && !authority.starts_with('/') {
        // Absolute form (RFC 9112 §3.2.2): the target's authority wins over Host.
        let url = Url::parse(target).map_err(|_| bad("invalid request target"))?;
        if url.host_str().is_some_and(|h| !h.is_empty()) {
            return Ok(url);
        }
    }
    Err(bad("invalid request target"))
}

/// Host names as RFC 3986 reg-name / IP-literal, plus an optional port: anything that could
/// change the meaning of the URL we build (`/`, `?`, `#`, `@`, `\`) is refused.
fn valid_host(host: &[u8]) -> bool {
    host.iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.' | b'_' | b'~' | b':' | b'[' | b']' | b'%' | b'!' | b'$'
            )
            || matches!(
                b,
                b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
            )
    })
}
