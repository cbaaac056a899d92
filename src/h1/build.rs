//! The `http_types::Request` for a validated head, for the handlers that ask for one.

use http_types::headers::{self, HeaderName};
use http_types::{Method, Url, Version};

use super::error::{HeadError, bad};

/// The `http_types::Request` for a head whose fields were validated: what `Request::new`
/// and `append_header` for each field give, cheaper.
///
/// It starts from a template (see `template.rs`), whose URL is replaced at once.
pub(crate) fn http_request<'a>(
    method: Method,
    version: Version,
    url: Url,
    fields: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> Box<http_types::Request> {
    let mut request = crate::template::request();
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
