//! Request heads (RFC 9112 §2–§7): request line, header fields and body framing.
//!
//! [`parse`] turns the bytes of one request head into an `http_types::Request` plus what the
//! connection needs to know: how the body is framed, whether to keep the connection, whether
//! the client waits for `100 Continue`. Anything ambiguous is rejected with a [`HeadError`]
//! carrying the status to answer with; the connection is then closed.

use http_types::headers::{self, HeaderName};
use http_types::{Method, StatusCode, Url, Version};

use super::raw::{HeadRoom, RawHead};
use crate::request::Inner;

/// Hard upper bound on header fields, whatever the configuration says (the parser's table
/// lives on the stack).
pub(crate) const HARD_MAX_HEADERS: usize = 256;

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (no Content-Length, no Transfer-Encoding, or `Content-Length: 0`).
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head.
pub(crate) struct Head {
    pub request: Inner,
    pub framing: Framing,
    pub keep_alive: bool,
    pub expect_continue: bool,
    /// `OPTIONS *` (RFC 9112 §3.2.4): a question about the server as a whole, answered by
    /// the connection rather than routed (its URL is the site's root).
    pub asterisk: bool,
    /// Bytes of the buffer the head took, including the blank line.
    pub len: usize,
}

/// Why a request head was refused: the status to answer with and a one-line reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadError {
    /// The status of the response sent before closing.
    pub status: StatusCode,
    /// A short, plain-text reason that reveals nothing about the server.
    pub reason: &'static str,
}

impl HeadError {
    pub(crate) const fn new(status: StatusCode, reason: &'static str) -> Self {
        HeadError { status, reason }
    }
}

impl std::fmt::Display for HeadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", u16::from(self.status), self.reason)
    }
}

impl std::error::Error for HeadError {}

const fn bad(reason: &'static str) -> HeadError {
    HeadError::new(StatusCode::BadRequest, reason)
}

/// Limits [`parse`] enforces on one head.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadLimits {
    pub max_headers: usize,
    pub max_target: usize,
}

/// The error for a head that did not end within `max_head_bytes`.
pub(crate) fn too_large(buf: &[u8]) -> HeadError {
    let first_line_done = buf
        .iter()
        .skip_while(|b| **b == b'\r' || **b == b'\n')
        .any(|b| *b == b'\n');
    if first_line_done {
        HeadError::new(
            StatusCode::RequestHeaderFieldsTooLarge,
            "request header section too large",
        )
    } else {
        HeadError::new(StatusCode::UriTooLong, "request target too long")
    }
}

/// Parses one request head from the start of `buf`.
///
/// `Ok(None)` means more bytes are needed. `cache` is what the connection's last head left.
pub(crate) fn parse(
    buf: &[u8],
    limits: HeadLimits,
    cache: &mut HeadCache,
) -> Result<Option<Head>, HeadError> {
    // Uninitialized: httparse writes only the entries it fills (no 8 KiB memset per request).
    let mut table =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; HARD_MAX_HEADERS];
    let max = limits.max_headers.clamp(1, HARD_MAX_HEADERS);
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut table[..max]) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(parse_error(e)),
    };
    let version = match req.version {
        Some(0) => Version::Http1_0,
        Some(1) => Version::Http1_1,
        _ => {
            return Err(HeadError::new(
                StatusCode::HttpVersionNotSupported,
                "HTTP version not supported",
            ));
        }
    };
    let method = parse_method(req.method.unwrap_or(""))?;
    let target = req.path.unwrap_or("");
    if target.len() > limits.max_target {
        return Err(HeadError::new(
            StatusCode::UriTooLong,
            "request target too long",
        ));
    }

    let mut fields = Fields::default();
    for h in req.headers.iter() {
        fields.note(h)?;
    }
    let framing = fields.framing()?;
    let http11 = version == Version::Http1_1;
    if http11 && fields.hosts != 1 {
        return Err(bad("HTTP/1.1 request needs exactly one Host header"));
    }
    if fields.hosts > 1 {
        return Err(bad("more than one Host header"));
    }
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing; close after answering.
    let te_in_http10 = !http11 && fields.chunked_last.is_some();
    let keep_alive = !fields.close && (http11 || fields.keep_alive) && !te_in_http10;
    let expect_continue = match fields.expect {
        None => false,
        Some(v) if v.eq_ignore_ascii_case(b"100-continue") => http11,
        Some(_) => {
            return Err(HeadError::new(
                StatusCode::ExpectationFailed,
                "unsupported expectation",
            ));
        }
    };

    for h in req.headers.iter() {
        // http-types keeps only ASCII (and would panic on other values given as text).
        if !h.value.is_ascii() {
            return Err(bad("header value is not ASCII"));
        }
        if !h.name.is_ascii() {
            return Err(bad("invalid header name"));
        }
    }

    let asterisk = method == Method::Options && target == "*";
    let raw = match framing {
        Framing::None if !asterisk => RawHead::new(
            &buf[..len],
            method,
            version,
            target,
            fields.host,
            req.headers,
            &cache.room,
        ),
        _ => None,
    };
    let request = match raw {
        Some(raw) => {
            // What building the URL would check about the host, checked now.
            origin_base(fields.host, cache)?;
            Inner::Raw(raw)
        }
        None => {
            let url = build_url(if asterisk { "/" } else { target }, fields.host, cache)?;
            let fields = req.headers.iter().map(|h| {
                // Checked above to be ASCII.
                let value = std::str::from_utf8(h.value).unwrap_or_default();
                (h.name, value)
            });
            Inner::Http(http_request(method, version, url, fields))
        }
    };
    Ok(Some(Head {
        request,
        framing,
        keep_alive,
        expect_continue,
        asterisk,
        len,
    }))
}

/// The `http_types::Request` for a head whose fields were validated: what `Request::new`
/// and `append_header` for each field give, cheaper.
///
/// `http_types::Request::new` allocates a channel for trailers (cache-line aligned, so a slow
/// `posix_memalign`) per request; smolweb does not support request trailers. A clone of a
/// template request has no channel and no headers, and allocates only its URL, which is
/// replaced at once.
pub(crate) fn http_request<'a>(
    method: Method,
    version: Version,
    url: Url,
    fields: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> Box<http_types::Request> {
    static TEMPLATE: std::sync::OnceLock<http_types::Request> = std::sync::OnceLock::new();
    let mut request = Box::new(
        TEMPLATE
            .get_or_init(|| {
                let url = Url::parse("http://localhost/").expect("a valid URL");
                http_types::Request::new(Method::Get, url)
            })
            .clone(),
    );
    request.set_method(method);
    *request.url_mut() = url;
    request.set_version(Some(version));
    for (i, (name, value)) in fields.clone().enumerate() {
        // Validated as ASCII, so this does not fail.
        let Ok(header) = header_name(name) else {
            continue;
        };
        // `append` looks the name up before inserting; a name seen for the first time (the
        // usual case, found by comparing with the few names before it) is inserted directly.
        // Given as text, a value is copied once; a `HeaderValue` would be copied twice.
        let repeated = fields
            .clone()
            .take(i)
            .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name));
        if repeated {
            request.append_header(header, value);
        } else {
            request.insert_header(header, value);
        }
    }
    request
}

fn parse_error(e: httparse::Error) -> HeadError {
    use httparse::Error as E;
    match e {
        E::TooManyHeaders => HeadError::new(
            StatusCode::RequestHeaderFieldsTooLarge,
            "too many header fields",
        ),
        E::Version => HeadError::new(
            StatusCode::HttpVersionNotSupported,
            "HTTP version not supported",
        ),
        E::HeaderName => bad("invalid header name"),
        E::HeaderValue => bad("invalid header value"),
        E::NewLine => bad("invalid line ending"),
        E::Token => bad("invalid method"),
        E::Status => bad("invalid request line"),
    }
}

/// Methods are case-sensitive tokens (RFC 9110 §9.1): `get` is not `GET`.
fn parse_method(m: &str) -> Result<Method, HeadError> {
    Ok(match m {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        "CONNECT" => Method::Connect,
        "TRACE" => Method::Trace,
        other if other.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') => other
            .parse()
            .map_err(|_| HeadError::new(StatusCode::NotImplemented, "method not implemented"))?,
        _ => {
            return Err(HeadError::new(
                StatusCode::NotImplemented,
                "method not implemented",
            ));
        }
    })
}

/// What the connection-level header fields said, gathered in one pass.
#[derive(Default)]
struct Fields<'a> {
    hosts: usize,
    host: Option<&'a [u8]>,
    content_length: Option<u64>,
    /// Transfer codings in order, across all Transfer-Encoding fields.
    chunked_last: Option<bool>,
    chunked_count: usize,
    other_coding: bool,
    close: bool,
    keep_alive: bool,
    expect: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    fn note(&mut self, h: &httparse::Header<'a>) -> Result<(), HeadError> {
        let name = h.name.as_bytes();
        let value = h.value;
        if name.eq_ignore_ascii_case(b"host") {
            self.hosts += 1;
            self.host = Some(trim(value));
        } else if name.eq_ignore_ascii_case(b"content-length") {
            for item in value.split(|b| *b == b',') {
                let n = parse_length(trim(item)).ok_or(bad("invalid Content-Length"))?;
                if self.content_length.is_some_and(|old| old != n) {
                    return Err(bad("conflicting Content-Length values"));
                }
                self.content_length = Some(n);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            for item in value.split(|b| *b == b',').map(trim) {
                if item.is_empty() {
                    continue;
                }
                let chunked = item.eq_ignore_ascii_case(b"chunked");
                self.chunked_count += usize::from(chunked);
                self.other_coding |= !chunked;
                self.chunked_last = Some(chunked);
            }
            if self.chunked_last.is_none() {
                return Err(bad("empty Transfer-Encoding"));
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            for item in value.split(|b| *b == b',').map(trim) {
                self.close |= item.eq_ignore_ascii_case(b"close");
                self.keep_alive |= item.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case(b"expect") {
            if self.expect.is_some() {
                return Err(bad("more than one Expect header"));
            }
            self.expect = Some(trim(value));
        }
        Ok(())
    }

    /// RFC 9112 §6.3, strictly: both framings, or a final coding other than chunked, is an
    /// attempt at smuggling or a client we cannot understand.
    fn framing(&self) -> Result<Framing, HeadError> {
        match (self.chunked_last, self.content_length) {
            (Some(_), Some(_)) => Err(bad("both Content-Length and Transfer-Encoding")),
            (Some(false), None) => Err(bad("final transfer coding is not chunked")),
            (Some(true), None) if self.chunked_count > 1 => Err(bad("chunked applied twice")),
            (Some(true), None) if self.other_coding => Err(HeadError::new(
                StatusCode::NotImplemented,
                "transfer coding not implemented",
            )),
            (Some(true), None) => Ok(Framing::Chunked),
            (None, Some(0)) | (None, None) => Ok(Framing::None),
            (None, Some(n)) => Ok(Framing::Length(n)),
        }
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// `1*DIGIT`, no sign, no whitespace, no overflow.
pub(crate) fn parse_length(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
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

/// What a connection's heads leave for the next one: the base URL and the room for the bytes.
///
/// The base URL is the last `http://host/` the connection's requests were relative to.
/// Requests on one connection nearly always name the same host, so each URL is parsed
/// relative to this base: the host is parsed (and IDNA-checked) once per connection, not once
/// per request.
#[derive(Default)]
pub(crate) struct HeadCache {
    host: Vec<u8>,
    base: Option<Url>,
    scratch: String,
    room: HeadRoom,
}

impl HeadCache {
    fn base(&mut self, host: &[u8]) -> Result<&Url, HeadError> {
        if self.base.is_none() || self.host != host {
            self.scratch.clear();
            self.scratch.push_str("http://");
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
fn origin_base<'u>(host: Option<&[u8]>, urls: &'u mut HeadCache) -> Result<&'u Url, HeadError> {
    let host = match host {
        Some(h) if !h.is_empty() => h,
        _ => b"localhost".as_slice(),
    };
    if !valid_host(host) {
        return Err(bad("invalid Host header"));
    }
    urls.base(host)
}

fn build_url(target: &str, host: Option<&[u8]>, urls: &mut HeadCache) -> Result<Url, HeadError> {
    // A backslash is not a URI character, and the URL parser would silently turn it into `/`;
    // a fragment is never sent. Refuse both rather than guess.
    if target.bytes().any(|b| b == b'\\' || b == b'#') {
        return Err(bad("invalid request target"));
    }
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

/// Header names, sharing http-types' static names for the common ones (no allocation).
fn header_name(name: &str) -> Result<HeaderName, HeadError> {
    static KNOWN: [HeaderName; 18] = [
        headers::HOST,
        headers::USER_AGENT,
        headers::ACCEPT,
        headers::ACCEPT_ENCODING,
        headers::ACCEPT_LANGUAGE,
        headers::CONNECTION,
        headers::CONTENT_LENGTH,
        headers::CONTENT_TYPE,
        headers::COOKIE,
        headers::REFERER,
        headers::CACHE_CONTROL,
        headers::IF_NONE_MATCH,
        headers::IF_MODIFIED_SINCE,
        headers::IF_RANGE,
        headers::AUTHORIZATION,
        headers::TRANSFER_ENCODING,
        headers::EXPECT,
        headers::ORIGIN,
    ];
    if let Some(known) = KNOWN.iter().find(|k| k.as_str().eq_ignore_ascii_case(name)) {
        return Ok(known.clone());
    }
    name.parse().map_err(|_| bad("invalid header name"))
}
