//! The header fields that decide how a request is framed and whether its connection stays
//! open (RFC 9112 §6, §9.3): `Host`, `Content-Length`, `Transfer-Encoding`, `Connection`,
//! `Expect`, gathered in one pass over the head.

use http_types::StatusCode;

use super::error::{HeadError, bad};

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestFraming {
    /// No body (no Content-Length, no Transfer-Encoding, or `Content-Length: 0`).
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// What the connection-level header fields said, gathered in one pass.
#[derive(Default)]
pub(super) struct Fields<'a> {
    pub hosts: usize,
    pub host: Option<&'a [u8]>,
    content_length: Option<u64>,
    /// Transfer codings in order, across all Transfer-Encoding fields.
    pub chunked_last: Option<bool>,
    chunked_count: usize,
    other_coding: bool,
    pub close: bool,
    pub keep_alive: bool,
    /// `Connection` lists `upgrade`.
    pub connection_upgrade: bool,
    /// An `Upgrade` field names a protocol other than `h2c` (which smolweb does not speak:
    /// such a request is answered as HTTP/1.1).
    pub upgrade_protocol: bool,
    pub expect: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    #[inline]
    pub fn note(&mut self, h: &httparse::Header<'a>) -> Result<(), HeadError> {
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
                self.connection_upgrade |= item.eq_ignore_ascii_case(b"upgrade");
            }
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            self.upgrade_protocol |= value
                .split(|b| *b == b',')
                .map(trim)
                .any(|p| !p.is_empty() && !p.eq_ignore_ascii_case(b"h2c"));
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
    pub fn framing(&self) -> Result<RequestFraming, HeadError> {
        match (self.chunked_last, self.content_length) {
            (Some(_), Some(_)) => Err(bad("both Content-Length and Transfer-Encoding")),
            (Some(false), None) => Err(bad("final transfer coding is not chunked")),
            (Some(true), None) if self.chunked_count > 1 => Err(bad("chunked applied twice")),
            (Some(true), None) if self.other_coding => Err(HeadError::new(
                StatusCode::NotImplemented,
                "transfer coding not implemented",
            )),
            (Some(true), None) => Ok(RequestFraming::Chunked),
            (None, Some(0)) | (None, None) => Ok(RequestFraming::None),
            (None, Some(n)) => Ok(RequestFraming::Length(n)),
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
