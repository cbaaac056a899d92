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
        // Told apart by `version_of` (a well-formed version other than HTTP/1.x, or not one).
        E::Version => bad("invalid request line"),
        E::HeaderName => bad("invalid header name"),
        E::HeaderValue => bad("invalid header value"),
        E::NewLine => bad("invalid line ending"),
        E::Token => bad("invalid request line"),
        E::Status => bad("invalid request line"),
    }
}

/// What the version of a request line that httparse refused is (RFC 9112 §2.3, §3): the line
/// must be `method SP target SP HTTP-version`, the version `HTTP/` DIGIT `.` DIGIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VersionOf {
    /// `HTTP/1.x` with x of 2 or more: answered as HTTP/1.1; the minor digit is at this
    /// offset of the head.
    LaterMinor(usize),
    /// A well-formed version whose major is not 1 (`HTTP/2.0`, `HTTP/3.0`): `505`.
    OtherMajor,
    /// No well-formed request line: `400`.
    Malformed,
}

/// Classifies the request line at the start of `buf`.
pub(super) fn version_of(buf: &[u8]) -> VersionOf {
    let line_end = buf
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(buf.len());
    let line = &buf[..line_end];
    let mut parts = line.split(|&b| b == b' ');
    let (Some(_), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return VersionOf::Malformed;
    };
    match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() && !target.is_empty() =>
        {
            match (major, minor) {
                (b'1', b'2'..=b'9') => VersionOf::LaterMinor(line.len() - 1),
                (b'1', _) => VersionOf::Malformed,
                _ => VersionOf::OtherMajor,
            }
        }
        _ => VersionOf::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line_versions() {
        use VersionOf::*;
        assert_eq!(version_of(b"GET / HTTP/1.2\r\nHost: x"), LaterMinor(13));
        assert_eq!(version_of(b"GET /a HTTP/1.9\r\n"), LaterMinor(14));
        assert_eq!(version_of(b"GET / HTTP/2.0\r\n"), OtherMajor);
        assert_eq!(version_of(b"PRI * HTTP/2.0\r\n\r\nSM"), OtherMajor);
        for malformed in [
            &b"GET / http/1.1\r\n"[..],
            b"GET / HTTP/1\r\n",
            b"GET / HTTP/01.01\r\n",
            b"GET / HTTP/ 1.1\r\n",
            b"GET x x\r\n",
            b"GET /a b HTTP/1.1\r\n",
            b"GET /x\r\n",
            b"\x16\x03\x01",
        ] {
            assert_eq!(version_of(malformed), Malformed, "{malformed:?}");
        }
    }
}
