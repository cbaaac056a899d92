//! The characters of a request target (RFC 9112 §3.2, RFC 3986 §2–§3), checked before the
//! target is turned into a URL or routed.
//!
//! The URL parser is lenient: it percent-encodes a raw space or `{`, keeps `%zz` as it is and
//! turns `\` into `/`, so a target no client should send would reach the router as some other
//! path. Such a target is refused with `400` instead, as nginx does. What must stay true:
//! every target this accepts is one [`url`](super::url) can build, and a byte refused here is
//! also refused by the incremental check in [`scan`](super::scan) or by this check at the
//! end of the head (the scan may be looser, never stricter).

use super::error::{HeadError, bad};

/// May appear in a path segment (`pchar`) or as `/`: unreserved, sub-delims, `:`, `@`, `/`.
const PATH: u8 = 1;
/// May appear in a query: what a path may hold, and `?`.
const QUERY: u8 = 2;
/// May appear in an authority (`host:port`, an IPv6 literal in brackets).
const AUTHORITY: u8 = 4;
/// May appear in a scheme (after its first letter).
const SCHEME: u8 = 8;

/// The class bits of every byte; `%` is in none (it is checked with the two digits after it).
static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let unreserved = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        let sub_delim = matches!(
            c,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
        );
        let mut class = 0;
        if unreserved || sub_delim || matches!(c, b':' | b'@' | b'/') {
            class |= PATH | QUERY;
        }
        if c == b'?' {
            class |= QUERY;
        }
        if unreserved || sub_delim || matches!(c, b':' | b'@' | b'[' | b']') {
            class |= AUTHORITY;
        }
        if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.') {
            class |= SCHEME;
        }
        table[b] = class;
        b += 1;
    }
    table
};

/// True if `b` may appear somewhere in a valid target (`%` included): what the incremental
/// scan lets through before the whole target is known.
pub(crate) fn may_appear(b: u8) -> bool {
    CLASSES[usize::from(b)] != 0 || b == b'%'
}

/// Checks `target`'s characters and percent-encodings for its form: origin (`/path?query`),
/// absolute (`scheme://authority/path?query`), authority (`host:port`) or asterisk (`*`).
/// Which forms a method may use is decided elsewhere.
///
/// `%` must be followed by two hex digits everywhere, and `%00` (an encoded NUL) is refused
/// in the path, where it could only ever end up in a file name or a comparison; in the query
/// it is data.
pub(crate) fn check_target(target: &[u8]) -> Result<(), HeadError> {
    let refused = bad("invalid request target");
    if target == b"*" {
        return Ok(());
    }
    let path_from = if target.first() == Some(&b'/') {
        0
    } else if let Some(colon) = target.iter().position(|&b| b == b':') {
        let (scheme, rest) = target.split_at(colon);
        match rest.strip_prefix(b"://") {
            // Absolute form: the scheme, then the authority up to the path or the query.
            Some(after) if is_scheme(scheme) => {
                let authority = after
                    .iter()
                    .position(|&b| b == b'/' || b == b'?')
                    .unwrap_or(after.len());
                check_part(&after[..authority], AUTHORITY)?;
                target.len() - after.len() + authority
            }
            // Authority form (`host:port`).
            _ => return check_part(target, AUTHORITY),
        }
    } else {
        return Err(refused);
    };
    let rest = &target[path_from..];
    let path_len = rest.iter().position(|&b| b == b'?').unwrap_or(rest.len());
    let (path, query) = rest.split_at(path_len);
    check_part(path, PATH)?;
    if path.windows(3).any(|w| w == b"%00") {
        return Err(refused);
    }
    match query.split_first() {
        Some((_, query)) => check_part(query, QUERY),
        None => Ok(()),
    }
}

fn is_scheme(scheme: &[u8]) -> bool {
    scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| CLASSES[usize::from(b)] & SCHEME != 0)
}

/// Every byte of `part` is of `class` or begins a percent-encoding.
fn check_part(part: &[u8], class: u8) -> Result<(), HeadError> {
    let mut i = 0;
    while i < part.len() {
        let b = part[i];
        if b == b'%' {
            match part.get(i + 1..i + 3) {
                Some([h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return Err(bad("invalid percent-encoding in request target")),
            }
        } else if CLASSES[usize::from(b)] & class != 0 {
            i += 1;
        } else {
            return Err(bad("invalid request target"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_of_every_form() {
        for ok in [
            &b"/"[..],
            b"/a/b?c=d&e",
            b"/a;b=c/~u/a:b@c/!$&'()*+,;=",
            b"/%41%2f?q=%00&r=/?",
            b"/?",
            b"*",
            b"http://example.com/x?y",
            b"http://[::1]:8080/",
            b"HTTPS://h",
            b"example.com:443",
        ] {
            assert!(
                check_target(ok).is_ok(),
                "{:?}",
                String::from_utf8_lossy(ok)
            );
        }
        for not in [
            &b"/a b"[..],
            b"/\"",
            b"/<a>",
            b"/a\\b",
            b"/^",
            b"/`",
            b"/{}",
            b"/|",
            b"/[x]",
            b"/?[",
            b"/a#f",
            b"/caf\xc3\xa9",
            b"/foo%",
            b"/foo%2zbar",
            b"/%GH",
            b"/%4",
            b"/a%00b",
            b"/\x7f",
            b"x",
            b"",
            b"**",
            b"http://exa mple.com/",
            b"1http://h/",
            b"http://h/a b",
        ] {
            assert!(
                check_target(not).is_err(),
                "{:?}",
                String::from_utf8_lossy(not)
            );
        }
    }

    #[test]
    fn the_scan_lets_through_every_byte_a_valid_target_holds() {
        for b in 0..=255u8 {
            let target = [b'/', b];
            if check_target(&target).is_ok() {
                assert!(may_appear(b), "{b:#x}");
            }
            if !may_appear(b) {
                assert!(check_target(&[b'/', b]).is_err(), "{b:#x}");
                assert!(check_target(&[b'/', b'?', b]).is_err(), "{b:#x}");
            }
        }
    }
}
