//! Request heads (RFC 9112 §2–§7): request line, header fields and body framing.
//!
//! [`parse`] turns the bytes of one request head into a [`RequestHead`]: the request (a
//! [`Message`]) plus what the connection needs to know: how the body is framed, whether to
//! keep the connection, whether the client waits for `100 Continue`. Anything ambiguous is
//! rejected with a [`HeadError`] carrying the status to answer with; the connection is then
//! closed.

use http_types::{Method, StatusCode, Version};

use super::build::http_request;
use super::error::{HeadError, VersionOf, bad, parse_error, version_of};
use super::fields::{Fields, RequestFraming};
use super::message::Message;
use super::opaque::OpaqueFields;
use super::raw::RawHead;
use super::target::check_target;
use super::url::{HeadCache, build_url, origin_base};

/// Hard upper bound on header fields, whatever the configuration says (the parser's table
/// lives on the stack).
pub(crate) const HARD_MAX_HEADERS: usize = 256;

/// A parsed request head.
pub(crate) struct RequestHead {
    pub message: Message,
    pub framing: RequestFraming,
    pub keep_alive: bool,
    pub expect_continue: bool,
    /// The client asks to switch protocols (RFC 9110 §7.8) and may be granted it: HTTP/1.1,
    /// `Connection: upgrade`, an `Upgrade` protocol other than `h2c`, and no body.
    pub upgrade: bool,
    /// `OPTIONS *` (RFC 9112 §3.2.4): a question about the server as a whole, answered by
    /// the connection rather than routed (its URL is the site's root).
    pub asterisk: bool,
    /// Bytes of the buffer the head took, including the blank line.
    pub len: usize,
}

/// Limits [`parse`] enforces on one head.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadLimits {
    pub max_headers: usize,
    pub max_target: usize,
}

/// Parses one request head from the start of `buf`.
///
/// `Ok(None)` means more bytes are needed. `cache` is what the connection's last head left.
pub(crate) fn parse(
    buf: &[u8],
    limits: HeadLimits,
    cache: &mut HeadCache,
) -> Result<Option<RequestHead>, HeadError> {
    // Uninitialized: httparse writes only the entries it fills (no 8 KiB memset per request).
    let mut table =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; HARD_MAX_HEADERS];
    let max = limits.max_headers.clamp(1, HARD_MAX_HEADERS);
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut table[..max]) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::Version) => {
            return match version_of(buf) {
                // RFC 9112 §2.3: a later minor version is answered as the highest this
                // server speaks. The head is parsed again with `1.1` in its place.
                VersionOf::LaterMinor(at) => {
                    let mut as_11 = buf.to_vec();
                    as_11[at] = b'1';
                    parse(&as_11, limits, cache)
                }
                VersionOf::OtherMajor => Err(HeadError::new(
                    StatusCode::HttpVersionNotSupported,
                    "HTTP version not supported",
                )),
                VersionOf::Malformed => Err(parse_error(httparse::Error::Version)),
            };
        }
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
    check_target(target.as_bytes())?;

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

    let asterisk = method == Method::Options && target == "*";
    let upgrade = http11
        && fields.connection_upgrade
        && fields.upgrade_protocol
        && framing == RequestFraming::None
        && method != Method::Connect;
    let raw = match framing {
        RequestFraming::None if !asterisk => RawHead::new(
            &buf[..len],
            method,
            version,
            target,
            fields.host,
            req.headers,
            &cache.room,
        )
        .map(|raw| raw.over_tls(cache.secure)),
        _ => None,
    };
    let message = match raw {
        Some(raw) => {
            // What building the URL would check about the host, checked now.
            origin_base(fields.host, cache)?;
            Message::Raw(raw)
        }
        None => {
            let url = build_url(if asterisk { "/" } else { target }, fields.host, cache)?;
            // http-types holds ASCII values only (and panics on others given as text): a
            // value with obs-text is kept beside the request instead.
            let ascii = req.headers.iter().filter_map(|h| {
                let value = std::str::from_utf8(h.value).ok().filter(|v| v.is_ascii())?;
                Some((h.name, value))
            });
            let mut http = http_request(method, version, url, ascii);
            OpaqueFields::keep(req.headers, &mut http);
            Message::Built(http)
        }
    };
    Ok(Some(RequestHead {
        message,
        framing,
        keep_alive,
        expect_continue,
        upgrade,
        asterisk,
        len,
    }))
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
