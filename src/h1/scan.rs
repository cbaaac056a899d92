//! [`Scan`]: a request head checked byte by byte as it arrives, so that input which can no
//! longer become a valid head is refused at once rather than at the header timeout.
//!
//! The scan follows the shape of a head (RFC 9112 §2–§5): empty lines, then
//! `method SP request-target SP HTTP/d.d` and its line end, then field lines
//! `name ":" value`, then the blank line. It looks at each byte once, however the head is cut
//! into packets, and keeps its place in a few bytes.
//!
//! What must stay true: the scan never refuses a prefix of a head that
//! [`parse`](super::head::parse) accepts (it is looser where the whole head is needed to
//! decide: method names, version digits, which target characters go where), and it finds a
//! head complete exactly where the parser does. The unit tests check both against the parser
//! on generated heads.

use super::error::{HeadError, bad};
use super::target;
use super::token::is_tchar;

/// Where in a head the next byte falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Before the request line; empty lines are skipped (RFC 9112 §2.2).
    #[default]
    Start,
    /// After a CR before the request line.
    StartCr,
    Method,
    /// Just after the SP that ends the method.
    TargetStart,
    Target,
    /// This many bytes of `HTTP/d.d` seen.
    Version(u8),
    /// After the CR that ends a line.
    LineCr,
    /// At the start of a field line, or of the blank line.
    FieldStart,
    Name,
    Value,
    /// After the CR of the blank line.
    EndCr,
    /// The blank line was seen: the head is complete.
    Complete,
}

/// The incremental check of one head: its place in the grammar and how many bytes it has
/// looked at. Restart it (`Scan::default()`) for each head.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    state: State,
    /// Bytes of the head looked at; it cannot outgrow `Config::max_head_bytes`.
    seen: u32,
}

/// A byte of a field value: HTAB, visible ASCII, SP, obs-text (RFC 9110 §5.5).
fn is_value_byte(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

impl Scan {
    /// Looks at the bytes of `head` (the head so far, from its first byte) that it has not
    /// seen yet. `Ok(true)` once the head is complete; an error as soon as `head` cannot be
    /// the beginning of a valid one.
    pub(crate) fn check(&mut self, head: &[u8]) -> Result<bool, HeadError> {
        let from = (self.seen as usize).min(head.len());
        for &b in &head[from..] {
            if self.state == State::Complete {
                break;
            }
            self.state = self.next(b)?;
            self.seen += 1;
        }
        Ok(self.state == State::Complete)
    }

    fn next(&self, b: u8) -> Result<State, HeadError> {
        use State::*;
        let line = bad("invalid request line");
        let field = bad("invalid header field");
        Ok(match (self.state, b) {
            (Start, b'\r') => StartCr,
            (Start | StartCr, b'\n') => Start,
            (Start | Method, b) if is_tchar(b) => Method,
            (Method, b' ') => TargetStart,
            (TargetStart | Target, b) if target::may_appear(b) => Target,
            (Target, b' ') => Version(0),
            (Version(n @ 0..=4), b) if b == b"HTTP/"[usize::from(n)] => Version(n + 1),
            (Version(5 | 7), b) if b.is_ascii_digit() => Version(self.version() + 1),
            (Version(6), b'.') => Version(7),
            (Version(8), b'\r') => LineCr,
            (Version(8), b'\n') => FieldStart,
            (Start | StartCr | Method | TargetStart | Target | Version(_), _) => return Err(line),
            (LineCr, b'\n') => FieldStart,
            (FieldStart, b'\r') => EndCr,
            (FieldStart | EndCr, b'\n') => Complete,
            (FieldStart | Name, b) if is_tchar(b) => Name,
            (Name, b':') => Value,
            (Value, b) if is_value_byte(b) => Value,
            (Value, b'\r') => LineCr,
            (Value, b'\n') => FieldStart,
            (LineCr | FieldStart | Name | Value | EndCr, _) => return Err(field),
            (Complete, _) => Complete,
        })
    }

    fn version(&self) -> u8 {
        match self.state {
            State::Version(n) => n,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::{HeadLimits, parse};
    use super::super::url::HeadCache;
    use super::*;

    const LIMITS: HeadLimits = HeadLimits {
        max_headers: 100,
        max_target: 8192,
    };

    /// Scans `bytes` cut at every position into two pieces, and byte by byte: all must agree.
    fn scan(bytes: &[u8]) -> Result<Option<usize>, usize> {
        let mut one = Scan::default();
        let whole = match one.check(bytes) {
            Ok(true) => Ok(Some(one.seen as usize)),
            Ok(false) => Ok(None),
            Err(_) => Err(one.seen as usize),
        };
        let mut dribbled = Scan::default();
        for end in 1..=bytes.len() {
            match dribbled.check(&bytes[..end]) {
                Ok(true) => break,
                Ok(false) => {}
                Err(_) => break,
            }
        }
        assert_eq!(one, dribbled, "{:?}", String::from_utf8_lossy(bytes));
        whole
    }

    #[test]
    fn valid_heads_pass_at_every_prefix() {
        for head in [
            &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            b"\r\n\nPOST /a?b HTTP/1.0\nContent-Length: 0\n\n",
            b"OPTIONS * HTTP/1.1\r\nHost: x\r\nX-A: caf\xc3\xa9 \t\r\n\r\n",
            b"GET http://[::1]:80/ HTTP/1.9\r\nHost: h\r\nA:\r\n\r\n",
        ] {
            for end in 0..head.len() {
                assert_eq!(scan(&head[..end]), Ok(None), "{end} of {head:?}");
            }
            assert_eq!(scan(head), Ok(Some(head.len())), "{head:?}");
            assert!(matches!(
                parse(head, LIMITS, &mut HeadCache::default()),
                Ok(Some(_))
            ));
        }
    }

    #[test]
    fn input_that_cannot_begin_a_head_is_refused_where_it_goes_wrong() {
        for (bytes, at) in [
            (&b"\x16\x03\x01\x00\xa5\x01"[..], 0),
            // Every byte of the banner is a token byte: it goes wrong at the line end.
            (b"SSH-2.0-OpenSSH_9.2p1\r\n", 21),
            (b"\x00\xff", 0),
            (b"GET /index.html\r\n", 15),
            // `GE` and `T` look like a method and a target until `/` comes for a version.
            (b"GE T / HTTP/1.1", 5),
            (b"GET  /", 4),
            (b"GET / http/1.1", 6),
            (b"GET / HTTP/1.1 ", 14),
            (b"GET / HTTP/1.10", 14),
            (b"GET /a b HTTP/1.1", 7),
            (b"GET /caf\xc3\xa9 HTTP/1.1", 8),
            (b"GET / HTTP/1.1\r\n Host: x", 16),
            (b"GET / HTTP/1.1\r\nHost : x", 20),
            (b"GET / HTTP/1.1\r\n: x", 16),
            (b"GET / HTTP/1.1\r\nA: a\x00", 20),
            (b"GET / HTTP/1.1\r\nA: a\rb", 21),
            (b"GET / HTTP/1.1\r\r", 15),
        ] {
            assert_eq!(scan(bytes), Err(at), "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    /// The scan against the parser on heads made by mutating valid ones: never refuse what
    /// the parser accepts, and end where it ends.
    #[test]
    fn the_scan_agrees_with_the_parser() {
        let seeds: [&[u8]; 3] = [
            b"GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
            b"POST /x HTTP/1.0\nContent-Length: 3\nX-Y: z\n\nabc",
            b"\r\nDELETE http://h/a HTTP/1.1\r\nHost: h\r\nA: \xc3\xa9\t\r\n\r\n",
        ];
        const NOISE: &[u8] = b" \t\r\n:/?%#aZ0-.\x00\x7f\xe9HTTP1";
        // A fixed-seed generator: the same 100,000 heads on every run.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        for round in 0..100_000 {
            let mut head = seeds[round % seeds.len()].to_vec();
            for _ in 0..1 + next(3) {
                let at = next(head.len());
                match next(3) {
                    0 => head[at] = NOISE[next(NOISE.len())],
                    1 => head.insert(at, NOISE[next(NOISE.len())]),
                    _ => {
                        head.remove(at);
                    }
                }
            }
            let mut ended = head.clone();
            ended.extend_from_slice(b"\r\n\r\n");
            for head in [head, ended] {
                let parsed = parse(&head, LIMITS, &mut HeadCache::default());
                let scanned = scan(&head);
                let shown = String::from_utf8_lossy(&head);
                if let Ok(Some(parsed)) = &parsed {
                    assert_eq!(scanned, Ok(Some(parsed.len)), "{shown:?}");
                }
                if scanned.is_err() {
                    assert!(
                        !matches!(parsed, Ok(Some(_))),
                        "the scan refused what the parser accepts: {shown:?}"
                    );
                }
            }
        }
    }
}
