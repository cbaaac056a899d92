//! [`Message`]: a parsed request as the codec hands it on, kept as received or built.

use http_types::{Method, Version};

use super::opaque::OpaqueFields;
use super::raw::RawHead;

/// A request the codec parsed: its head as received, or an `http_types::Request`.
#[derive(Debug)]
pub(crate) enum Message {
    /// A head without a body, kept as received; the `http_types::Request` is built on first
    /// use (see [`RawHead`]). Not boxed: it is small (its bytes are behind one pointer).
    Raw(RawHead),
    /// Boxed: a request is handed down through several futures, and moving a pointer is
    /// cheaper than moving the whole `http_types::Request` at every step.
    Built(Box<http_types::Request>),
}

impl Message {
    pub(crate) fn method(&self) -> Method {
        match self {
            Message::Raw(raw) => raw.method(),
            Message::Built(http) => http.method(),
        }
    }

    pub(crate) fn version(&self) -> Option<Version> {
        match self {
            Message::Raw(raw) => Some(raw.version()),
            Message::Built(http) => http.version(),
        }
    }

    /// The path, still percent-encoded (what `url().path()` gives).
    pub(crate) fn path(&self) -> &str {
        match self {
            Message::Raw(raw) => raw.path(),
            Message::Built(http) => http.url().path(),
        }
    }

    /// The query without `?` (what `url().query()` gives).
    pub(crate) fn query(&self) -> Option<&str> {
        match self {
            Message::Raw(raw) => raw.query(),
            Message::Built(http) => http.url().query(),
        }
    }

    /// The first value of the field `name`, matched without regard to case; allocates nothing.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        match self {
            Message::Raw(raw) => raw.header(name),
            // A linear look at a few fields: `Headers::get` would need a `HeaderName`, whose
            // conversion from text allocates a lowercase copy (and panics if it is not ASCII).
            Message::Built(http) => http
                .iter()
                .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
                .map(|(_, values)| values.as_str())
                .or_else(|| std::str::from_utf8(OpaqueFields::get(http, name)?).ok()),
        }
    }

    /// The first value of the field `name` as received: what [`header`](Self::header) gives,
    /// or the bytes of a value that is not UTF-8.
    pub(crate) fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        match self {
            Message::Raw(raw) => raw.header(name).map(str::as_bytes),
            Message::Built(http) => self
                .header(name)
                .map(str::as_bytes)
                .or_else(|| OpaqueFields::get(http, name)),
        }
    }

    /// The `http_types::Request`, built now if it was not yet (and kept).
    pub(crate) fn http(&self) -> &http_types::Request {
        match self {
            Message::Raw(raw) => raw.http(),
            Message::Built(http) => http,
        }
    }

    /// The `http_types::Request` to change, built now if it was not yet: from then on the
    /// message is `Built`.
    pub(crate) fn http_mut(&mut self) -> &mut http_types::Request {
        if let Message::Raw(raw) = self {
            *self = Message::Built(raw.take_http());
        }
        match self {
            Message::Built(http) => http,
            Message::Raw(_) => unreachable!("replaced just above"),
        }
    }

    pub(crate) fn into_http(self) -> Box<http_types::Request> {
        match self {
            Message::Raw(mut raw) => raw.take_http(),
            Message::Built(http) => http,
        }
    }
}
