//! http-types values made by cloning a template instead of being built.
//!
//! `http_types::Request::new` allocates a channel for trailers, and `Response::new` two (for
//! trailers and upgrades); each is a cache-line-aligned allocation, and smolweb uses none of
//! them. A clone of a template shares its channels, copies no body and no extensions, and
//! keeps the capacity of its header map, so a template can also hold a header every such value
//! has (`content-type: text/plain`, `accept-ranges`) or room for the headers about to be added.
//! What must stay true: a value cloned from here is indistinguishable, to the code that uses
//! it, from one built with `new` and the same insertions.

use std::sync::OnceLock;

use http_types::headers::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_RANGE, CONTENT_TYPE, ETAG, HeaderName,
    LAST_MODIFIED, VARY,
};
use http_types::{Method, Response, StatusCode, Url};

/// `text/plain;charset=utf-8`.
pub(crate) const TEXT: &str = "text/plain;charset=utf-8";

/// A `GET http://localhost/` request with no headers, boxed: the caller sets its method, URL,
/// version and fields.
pub(crate) fn request() -> Box<http_types::Request> {
    static TEMPLATE: OnceLock<http_types::Request> = OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        let url = Url::parse("http://localhost/").expect("a valid URL");
        http_types::Request::new(Method::Get, url)
    });
    Box::new(template.clone())
}

/// A clone of the response template in `cell` (made by `make` the first time), with
/// `status`.
fn cloned(
    cell: &'static OnceLock<Response>,
    make: fn() -> Response,
    status: StatusCode,
) -> Response {
    let mut res = cell.get_or_init(make).clone();
    res.set_status(status);
    res
}

/// A response with `status`, no headers and an empty body.
pub(crate) fn response(status: StatusCode) -> Response {
    static TEMPLATE: OnceLock<Response> = OnceLock::new();
    cloned(&TEMPLATE, || Response::new(StatusCode::Ok), status)
}

/// A response with `status` and `content-type: text/plain;charset=utf-8`, no body yet.
pub(crate) fn text(status: StatusCode) -> Response {
    static TEMPLATE: OnceLock<Response> = OnceLock::new();
    cloned(
        &TEMPLATE,
        || {
            let mut res = response(StatusCode::Ok);
            res.insert_header(CONTENT_TYPE, TEXT);
            res
        },
        status,
    )
}

/// What a file response starts from: `accept-ranges: bytes`, and room for the headers a file
/// response adds (`etag`, `last-modified`, `content-type`, `content-range`) so adding them
/// does not grow the map. (A map keeps its capacity when entries are removed.)
pub(crate) fn file_response(status: StatusCode) -> Response {
    static TEMPLATE: OnceLock<Response> = OnceLock::new();
    cloned(
        &TEMPLATE,
        || {
            let mut res = response(StatusCode::Ok);
            let added: [HeaderName; 7] = [
                ETAG,
                LAST_MODIFIED,
                CONTENT_TYPE,
                CONTENT_RANGE,
                CACHE_CONTROL,
                CONTENT_ENCODING,
                VARY,
            ];
            for name in &added {
                res.insert_header(name, "");
            }
            for name in &added {
                res.remove_header(name);
            }
            res.insert_header(ACCEPT_RANGES, "bytes");
            res
        },
        status,
    )
}
