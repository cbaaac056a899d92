//! Response heads (RFC 9112 §4, §6): status line, header fields, framing, chunk frames.

use http_types::{Response, StatusCode};

use super::date;

/// How the body that follows a response head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseFraming {
    /// The status never carries a body (1xx, 204, 304): no Content-Length either.
    NoBody,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body ends when the connection closes (HTTP/1.0 clients).
    Close,
}

/// What becomes of the connection after a response, as its `connection` field says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Persistence {
    /// Open for the next request.
    KeepAlive,
    /// Closed after this response.
    Close,
    /// Handed to another protocol after this `101` (`connection: upgrade`).
    Upgrade,
}

/// True for statuses whose responses never have a body (RFC 9110 §6.4.1).
pub(crate) fn status_has_body(status: StatusCode) -> bool {
    let code = u16::from(status);
    !(code < 200 || code == 204 || code == 304)
}

/// True if a `Connection` field value lists `close`.
fn lists_close(value: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case("close"))
}

/// Header fields smolweb writes itself; a handler's values for these are ignored (but a
/// `connection: close` is honoured).
fn is_hop_by_hop(name: &str) -> bool {
    [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
    ]
    .contains(&name)
}

/// A field value that could split the response (CR, LF or NUL) is never written.
fn is_safe(bytes: &[u8]) -> bool {
    !bytes.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0)
}

/// Appends the status line and header section of `res` to `out`, and returns what becomes of
/// the connection after this response: `after`, except that a response which itself says
/// `connection: close` closes a connection that would have been kept. The `connection` field
/// written follows from that (for HTTP/1.0 clients, `keep-alive` when staying open).
pub(crate) fn write_head(
    out: &mut Vec<u8>,
    res: &Response,
    framing: ResponseFraming,
    after: Persistence,
    http10: bool,
) -> Persistence {
    let mut after = after;
    let status = res.status();
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, u64::from(u16::from(status)));
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut has_date = false;
    for (name, values) in res.iter() {
        let name = name.as_str();
        if is_hop_by_hop(name) {
            let closes = values.iter().any(|v| lists_close(v.as_str()));
            if name == "connection" && closes && after == Persistence::KeepAlive {
                after = Persistence::Close;
            }
            continue;
        }
        has_date |= name == "date";
        for value in values.iter() {
            let value = value.as_str();
            if !is_safe(name.as_bytes()) || !is_safe(value.as_bytes()) {
                log::warn!("dropping response header {name:?}: CR, LF or NUL in it");
                continue;
            }
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    if !has_date {
        out.extend_from_slice(b"date: ");
        out.extend_from_slice(&date::now());
        out.extend_from_slice(b"\r\n");
    }
    match framing {
        ResponseFraming::Length(n) => {
            out.extend_from_slice(b"content-length: ");
            push_decimal(out, n);
            out.extend_from_slice(b"\r\n");
        }
        ResponseFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        ResponseFraming::NoBody | ResponseFraming::Close => {}
    }
    match (after, http10) {
        (Persistence::Upgrade, _) => out.extend_from_slice(b"connection: upgrade\r\n"),
        (Persistence::Close, _) => out.extend_from_slice(b"connection: close\r\n"),
        (Persistence::KeepAlive, true) => out.extend_from_slice(b"connection: keep-alive\r\n"),
        (Persistence::KeepAlive, false) => {}
    }
    out.extend_from_slice(b"\r\n");
    after
}

/// Appends `n` in decimal (what `write!` does, without the formatting machinery).
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Room left before chunk data for its size line: 8 hex digits and CRLF.
pub(crate) const CHUNK_HEADER_LEN: usize = 10;

/// Writes the size line of a chunk of `len` bytes into the 10 bytes reserved before it.
///
/// The size is zero-padded to 8 hex digits (RFC 9112 allows leading zeros), so the space can
/// be reserved before the data is read.
pub(crate) fn write_chunk_header(slot: &mut [u8], len: usize) {
    debug_assert!(len <= 0xffff_ffff && slot.len() == CHUNK_HEADER_LEN);
    for (i, b) in slot[..8].iter_mut().enumerate() {
        let nibble = (len >> (4 * (7 - i))) & 0xf;
        *b = b"0123456789abcdef"[nibble];
    }
    slot[8..].copy_from_slice(b"\r\n");
}

/// The last chunk and an empty trailer section.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_has_framing_and_no_injected_lines() {
        let mut res = Response::new(StatusCode::Ok);
        res.insert_header("x-ok", "yes");
        res.insert_header("x-evil", "a\r\nset-cookie: x=1");
        res.insert_header("content-length", "999");
        res.insert_header("connection", "Close");
        let mut out = Vec::new();
        let after = write_head(
            &mut out,
            &res,
            ResponseFraming::Length(5),
            Persistence::KeepAlive,
            false,
        );
        assert_eq!(
            after,
            Persistence::Close,
            "the handler's connection: close is honoured"
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("x-ok: yes\r\n"));
        assert!(!text.contains("set-cookie"));
        assert!(!text.contains("999"));
        assert!(text.contains("content-length: 5\r\n"));
        assert!(text.ends_with("connection: close\r\n\r\n"));
    }

    #[test]
    fn a_switch_says_connection_upgrade_and_keeps_the_upgrade_field() {
        let mut res = Response::new(StatusCode::SwitchingProtocols);
        res.insert_header("upgrade", "echo");
        res.insert_header("connection", "close");
        let mut out = Vec::new();
        let after = write_head(
            &mut out,
            &res,
            ResponseFraming::NoBody,
            Persistence::Upgrade,
            false,
        );
        assert_eq!(after, Persistence::Upgrade);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
            "{text}"
        );
        assert!(text.contains("upgrade: echo\r\n"), "{text}");
        assert!(text.ends_with("connection: upgrade\r\n\r\n"), "{text}");
        assert!(
            !text.contains("close") && !text.contains("content-length"),
            "{text}"
        );
    }

    #[test]
    fn decimal_matches_format() {
        for n in [0, 7, 10, 99, 200, 65_535, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }

    #[test]
    fn chunk_header_is_fixed_width_hex() {
        let mut slot = [0u8; CHUNK_HEADER_LEN];
        write_chunk_header(&mut slot, 0x1a2b);
        assert_eq!(&slot, b"00001a2b\r\n");
    }
}
