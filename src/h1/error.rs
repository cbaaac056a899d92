//! [`HeadError`]: why a request head was refused, with the status to answer.

use http_types::StatusCode;

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

pub(crate) const fn bad(reason: &'static str) -> HeadError {
    HeadError::new(StatusCode::BadRequest, reason)
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

/// The refusal for what httparse found wrong.
pub(super) fn parse_error(e: httparse::Error) -> HeadError {
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
