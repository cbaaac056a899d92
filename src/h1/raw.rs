//! [`RawHead`]: a request head kept as it arrived, with an `http_types::Request` built from it
//! only when somebody asks for one.
//!
//! Most handlers read the method, the path and perhaps a header or two. Building an
//! `http_types::Request` for them (a parsed `Url`, a hash map holding a copy of every header
//! field) would be the largest cost of a small request, in instructions and in allocations
//! (the performance chapter has the figures). A head that qualifies is instead copied once, as
//! text, with the offsets of its pieces; `method`, `path`, `query`, `version` and `header` are
//! read from it directly, and the `http_types::Request` is built on the first call that hands
//! one out (`url`, `headers`, `as_http`, or anything that changes the request).
//!
//! A head qualifies when its request has no body, its target is in origin form and is kept
//! byte for byte by the URL parser ([`verbatim_target`]), it has at most [`INLINE_FIELDS`]
//! header fields and it is ASCII. Any other head is built at once. Both ways
//! validate the same things at parse time: a head refused one way is refused the other.

use std::fmt;
use std::sync::OnceLock;

use http_types::{Method, Url, Version};

/// At most this many header fields are kept as offsets (browsers send about 10 to 20); a head
/// with more is built eagerly.
pub(crate) const INLINE_FIELDS: usize = 32;

/// Bytes per header field in the table after the head's text: the start and end of its name
/// and of its value, each a little-endian `u16`.
const FIELD_BYTES: usize = 8;

/// A head of at most this many bytes (its field table included) leaves its
/// allocation to the next one; a larger one is freed with its request.
pub(crate) const KEEP_HEAD_ROOM: usize = 2048;

/// Where heads keep their bytes: the allocations of heads whose requests were dropped, kept
/// per thread for the next heads (of any connection). A keep-alive connection thus allocates
/// for a head only when its thread has none to spare, and an idle one keeps none.
#[derive(Clone, Default)]
pub(crate) struct HeadRoom;

/// Spare heads kept per thread.
const KEEP_HEADS: usize = 64;

thread_local! {
    static SPARE_HEADS: crate::pool::BufferPool =
        const { crate::pool::BufferPool::new(KEEP_HEADS, KEEP_HEAD_ROOM) };
}

impl HeadRoom {
    /// A spare head's allocation (empty, with its capacity), or a new empty `Vec`.
    fn take(&self) -> Vec<u8> {
        SPARE_HEADS
            .try_with(crate::pool::BufferPool::take)
            .unwrap_or_default()
    }

    /// Keeps `bytes`' allocation for the next head, unless it is too large to keep.
    fn give_back(&self, bytes: Vec<u8>) {
        let _ = SPARE_HEADS.try_with(|spare| spare.give_back(bytes));
    }
}

/// A request head as received (see the [module docs](self)).
pub(crate) struct RawHead {
    /// The head's bytes (ASCII, from the request line to the blank line), then a table of
    /// where each header field's name and value are in them ([`FIELD_BYTES`] per field): one
    /// allocation holds the whole head. It comes from and goes back to `room`.
    bytes: Vec<u8>,
    room: HeadRoom,
    /// Where the text ends and the field table begins.
    text_len: u16,
    method: Method,
    version: Version,
    /// The path part of the target; the query (without `?`) follows it when `query` is set.
    path: (u16, u16),
    query: Option<(u16, u16)>,
    /// The `Host` field's value, trimmed; `None` without one (HTTP/1.0).
    host: Option<(u16, u16)>,
    /// The connection is TLS: the URL is `https`.
    secure: bool,
    /// Built on first use.
    http: OnceLock<Box<http_types::Request>>,
}

impl RawHead {
    /// Keeps `head` (the head's bytes) if it qualifies; `target`, `host` and the `fields` must
    /// be slices of `head` (as httparse gives them) and already validated.
    pub(crate) fn new(
        head: &[u8],
        method: Method,
        version: Version,
        target: &str,
        host: Option<&[u8]>,
        fields: &[httparse::Header<'_>],
        room: &HeadRoom,
    ) -> Option<RawHead> {
        if fields.len() > INLINE_FIELDS || head.len() > usize::from(u16::MAX) || !head.is_ascii() {
            return None;
        }
        let path_len = verbatim_target(target)?;
        let at = |part: &[u8]| span(head, part);
        let target_at = at(target.as_bytes())?;
        let path = (target_at.0, target_at.0 + path_len as u16);
        let query = (path.1 < target_at.1).then(|| (path.1 + 1, target_at.1));
        let host = match host {
            Some(h) => Some(at(h)?),
            None => None,
        };
        let mut bytes = room.take();
        bytes.clear();
        bytes.reserve_exact(head.len() + FIELD_BYTES * fields.len());
        bytes.extend_from_slice(head);
        for field in fields {
            let (name, value) = (at(field.name.as_bytes())?, at(field.value)?);
            for offset in [name.0, name.1, value.0, value.1] {
                bytes.extend_from_slice(&offset.to_le_bytes());
            }
        }
        Some(RawHead {
            bytes,
            room: room.clone(),
            text_len: head.len() as u16,
            method,
            version,
            path,
            query,
            host,
            secure: false,
            http: OnceLock::new(),
        })
    }

    /// The head came over TLS (`secure`): its URL is `https`.
    pub(crate) fn over_tls(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    fn slice(&self, (start, end): (u16, u16)) -> &str {
        let text = &self.bytes[..usize::from(self.text_len)];
        // The text was checked to be ASCII, so every part of it is UTF-8.
        std::str::from_utf8(&text[usize::from(start)..usize::from(end)]).unwrap_or_default()
    }

    pub(crate) fn method(&self) -> Method {
        self.method
    }

    pub(crate) fn version(&self) -> Version {
        self.version
    }

    /// The path, exactly what `url().path()` gives.
    pub(crate) fn path(&self) -> &str {
        self.slice(self.path)
    }

    /// The query, exactly what `url().query()` gives.
    pub(crate) fn query(&self) -> Option<&str> {
        self.query.map(|q| self.slice(q))
    }

    /// The first value of the field named `name` (lowercase), as `Headers` would give it.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.fields()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    fn fields(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        let table = &self.bytes[usize::from(self.text_len)..];
        table.chunks_exact(FIELD_BYTES).map(|field| {
            let at = |i: usize| u16::from_le_bytes([field[i], field[i + 1]]);
            (self.slice((at(0), at(2))), self.slice((at(4), at(6))))
        })
    }

    /// The `http_types::Request` for this head, built on first use.
    pub(crate) fn http(&self) -> &http_types::Request {
        self.http.get_or_init(|| self.build())
    }

    /// The `http_types::Request` for this head, taken out (built now if it was not yet).
    pub(crate) fn take_http(&mut self) -> Box<http_types::Request> {
        match self.http.take() {
            Some(http) => http,
            None => self.build(),
        }
    }

    fn build(&self) -> Box<http_types::Request> {
        let host = self.host.map(|h| self.slice(h)).filter(|h| !h.is_empty());
        let target = match self.query {
            Some((_, end)) => self.slice((self.path.0, end)),
            None => self.path(),
        };
        let scheme = if self.secure { "https" } else { "http" };
        let url = format!("{scheme}://{}{target}", host.unwrap_or("localhost"));
        // The host was checked by parsing it into the connection's base URL and the target
        // is verbatim, so this parses; the fallback is only there to never panic.
        let url = Url::parse(&url).unwrap_or_else(|_| {
            debug_assert!(false, "a checked URL failed to parse: {url}");
            Url::parse("http://localhost/").expect("a valid URL")
        });
        super::build::http_request(self.method, self.version, url, self.fields())
    }
}

impl Drop for RawHead {
    fn drop(&mut self) {
        self.room.give_back(std::mem::take(&mut self.bytes));
    }
}

impl fmt::Debug for RawHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawHead")
            .field("method", &self.method)
            .field("path", &self.path())
            .field("query", &self.query())
            .field("version", &self.version)
            .field("fields", &self.fields().collect::<Vec<_>>())
            .finish()
    }
}

/// Where `part` (a slice of `whole`) is in `whole`, as offsets.
fn span(whole: &[u8], part: &[u8]) -> Option<(u16, u16)> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start
        .checked_add(part.len())
        .filter(|&end| end <= whole.len())?;
    Some((u16::try_from(start).ok()?, u16::try_from(end).ok()?))
}

/// `Some(length of the path)` if the URL parser keeps the origin-form `target` byte for byte,
/// so its path and query can be read from the target itself. `target` has passed
/// [`check_target`](super::target::check_target): only URI characters, `%` only before two
/// hex digits.
///
/// Deliberately narrower than what the parser keeps: no `'` in the query (the parser encodes
/// it there), no encoded dot, no `.` or `..` segment, no `//` at the start.
pub(crate) fn verbatim_target(target: &str) -> Option<usize> {
    let bytes = target.as_bytes();
    if bytes.first() != Some(&b'/') || bytes.get(1) == Some(&b'/') {
        return None;
    }
    let path_len = bytes.iter().position(|&b| b == b'?').unwrap_or(bytes.len());
    let (path, query) = bytes.split_at(path_len);
    if query.contains(&b'\'') {
        return None;
    }
    for (i, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'%') {
        if matches!(bytes.get(i + 1..i + 3), Some([b'2', b'e' | b'E'])) {
            return None;
        }
    }
    if path
        .split(|&b| b == b'/')
        .any(|segment| segment == b"." || segment == b"..")
    {
        return None;
    }
    Some(path_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps `head` as a `RawHead` in `room`, as the parser does.
    fn keep(head: &[u8], room: &HeadRoom) -> RawHead {
        let mut fields = [httparse::EMPTY_HEADER; 4];
        let mut req = httparse::Request::new(&mut fields);
        assert!(req.parse(head).unwrap().is_complete());
        let host = req
            .headers
            .iter()
            .find(|h| h.name == "Host")
            .map(|h| h.value);
        let target = req.path.unwrap();
        RawHead::new(
            head,
            Method::Get,
            Version::Http1_1,
            target,
            host,
            req.headers,
            room,
        )
        .expect("kept")
    }

    #[test]
    fn a_connection_reuses_the_room_of_its_last_head() {
        let room = HeadRoom;
        let first = keep(
            b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
            &room,
        );
        let at = first.bytes.as_ptr();
        drop(first);
        // A head of the same size or smaller goes where the last one was.
        let second = keep(b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n", &room);
        assert_eq!(second.bytes.as_ptr(), at);
        assert_eq!((second.path(), second.query()), ("/b", None));
        assert_eq!(second.header("host"), Some("h"));
        assert_eq!(second.fields().count(), 1);
        // While a request holds the room, the next head gets new room.
        let third = keep(b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n", &room);
        assert_ne!(third.bytes.as_ptr(), at);
        assert_eq!(third.path(), "/c");
        drop((second, third));
        // A head too large to keep leaves nothing behind.
        let long = format!(
            "GET /{} HTTP/1.1\r\nHost: h\r\n\r\n",
            "a".repeat(KEEP_HEAD_ROOM)
        );
        drop(keep(long.as_bytes(), &room));
        assert!(room.take().capacity() <= KEEP_HEAD_ROOM);
    }

    /// The claim the whole module rests on: whatever `verbatim_target` accepts, the URL parser
    /// gives back unchanged as path and query.
    fn check(target: &str) {
        if super::super::target::check_target(target.as_bytes()).is_err() {
            return;
        }
        let Some(path_len) = verbatim_target(target) else {
            return;
        };
        let url = Url::parse(&format!("http://example.com{target}")).expect("parses");
        assert_eq!(url.path(), &target[..path_len], "path of {target:?}");
        assert_eq!(
            url.query(),
            target.get(path_len + 1..),
            "query of {target:?}"
        );
        let base = Url::parse("http://example.com/").unwrap();
        let joined = Url::options().base_url(Some(&base)).parse(target).unwrap();
        assert_eq!(joined, url, "{target:?} relative to a base");
    }

    const ALPHABET: &[u8] = b"/.%2eE?a'\"#{`\\ ;@:~+";

    #[test]
    fn every_short_target_over_a_tricky_alphabet() {
        // All targets of up to 5 bytes starting with `/`: 20^4 + 20^3 + ... ≈ 168,000 checks.
        let mut target = Vec::with_capacity(5);
        fn walk(target: &mut Vec<u8>, left: usize) {
            check(std::str::from_utf8(target).unwrap());
            if left == 0 {
                return;
            }
            for &b in ALPHABET {
                target.push(b);
                walk(target, left - 1);
                target.pop();
            }
        }
        target.push(b'/');
        walk(&mut target, 4);
    }

    #[test]
    fn longer_pseudo_random_targets() {
        // A fixed-seed linear congruential generator: the same 20,000 targets on every run.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        };
        for _ in 0..20_000 {
            let len = 1 + next() % 24;
            let mut target = String::from("/");
            for _ in 0..len {
                target.push(char::from(ALPHABET[next() % ALPHABET.len()]));
            }
            check(&target);
        }
    }

    #[test]
    fn common_targets_are_verbatim_and_odd_ones_are_not() {
        for ok in [
            "/",
            "/a/b",
            "/users/42?x=1&y=%20",
            "/a?b?c",
            "/it's",
            "/a/.b/...",
            "/%41",
        ] {
            assert!(verbatim_target(ok).is_some(), "{ok}");
        }
        for not in [
            "//x", "/a/../b", "/a/.", "/%2e/", "/%2E", "/?it's", "x", "", "*",
        ] {
            assert!(verbatim_target(not).is_none(), "{not}");
        }
    }
}
