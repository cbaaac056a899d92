//! [`Parts`]: the layout of a `multipart/byteranges` body (RFC 9110 §14.6) — the text of each
//! part's boundary and headers, and the file range after it — and its boundary.
//!
//! Only the text is held here; the file's bytes stay in the file until the connection sends
//! them.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A multipart body: `text` holds every delimiter and part head, in order; after the text up
/// to each part's `text_end` comes that part's file range; after the last, the rest of
/// `text` (the closing delimiter).
#[derive(Debug)]
pub(crate) struct Parts {
    text: Vec<u8>,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, Copy)]
struct Part {
    text_end: usize,
    offset: u64,
    len: u64,
}

/// One piece of a file body, in the order it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    /// Bytes to send as they are (boundaries, part headers).
    Bytes(&'a [u8]),
    /// `len` bytes of the file from `offset`.
    File { offset: u64, len: u64 },
}

impl Parts {
    /// The parts for `ranges` (inclusive, sorted, at least two) of a file of `file_len` bytes
    /// whose type is `mime`, and the response's `Content-Type` naming their boundary.
    pub(crate) fn new(mime: &str, file_len: u64, ranges: &[(u64, u64)]) -> (Parts, String) {
        let boundary = boundary();
        let mut text = Vec::with_capacity(ranges.len() * (boundary.len() + mime.len() + 64));
        let mut parts = Vec::with_capacity(ranges.len());
        for (i, &(first, last)) in ranges.iter().enumerate() {
            // The first delimiter starts the body; each later one ends the part before.
            let crlf = if i == 0 { "" } else { "\r\n" };
            let head = format!(
                "{crlf}--{boundary}\r\nContent-Type: {mime}\r\n\
                 Content-Range: bytes {first}-{last}/{file_len}\r\n\r\n"
            );
            text.extend_from_slice(head.as_bytes());
            parts.push(Part {
                text_end: text.len(),
                offset: first,
                len: last - first + 1,
            });
        }
        text.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/byteranges; boundary={boundary}");
        (Parts { text, parts }, content_type)
    }

    /// The whole body's length: the text and every range.
    pub(crate) fn len(&self) -> u64 {
        self.text.len() as u64 + self.parts.iter().map(|p| p.len).sum::<u64>()
    }

    /// Segment `i` of the body: text and file ranges alternate, text first and last.
    pub(crate) fn segment(&self, i: usize) -> Option<Segment<'_>> {
        let part = i / 2;
        let text_start = |part: usize| part.checked_sub(1).map_or(0, |p| self.parts[p].text_end);
        if i % 2 == 1 {
            let p = self.parts.get(part)?;
            return Some(Segment::File {
                offset: p.offset,
                len: p.len,
            });
        }
        match self.parts.get(part) {
            Some(p) => Some(Segment::Bytes(&self.text[text_start(part)..p.text_end])),
            None if part == self.parts.len() => {
                Some(Segment::Bytes(&self.text[text_start(part)..]))
            }
            None => None,
        }
    }
}

/// A boundary unique to this response: 128 bits from this process's id, the time and a
/// counter, mixed (splitmix64) so they look random. It is not checked against the file: a
/// file would have to hold these 40 characters, which it cannot know before the response is
/// made, to end a part early, and the client reads each part by its `Content-Range` length
/// anyway.
fn boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let a = mix(nanos ^ u64::from(std::process::id()).rotate_left(32));
    let b = mix(a ^ count);
    let mut boundary = String::with_capacity(40);
    let _ = write!(boundary, "smolweb-{a:016x}{b:016x}");
    boundary
}

/// splitmix64's output function: every input bit affects every output bit.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(parts: &Parts) -> Vec<Segment<'_>> {
        (0..).map_while(|i| parts.segment(i)).collect()
    }

    #[test]
    fn text_and_ranges_alternate() {
        let (parts, content_type) = Parts::new("text/plain", 100, &[(0, 9), (50, 59)]);
        let boundary = content_type
            .strip_prefix("multipart/byteranges; boundary=")
            .unwrap();
        assert_eq!(boundary.len(), 40);
        let segments = segments(&parts);
        let head = |crlf: &str, range: &str| {
            format!(
                "{crlf}--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes {range}/100\r\n\r\n"
            )
        };
        assert_eq!(segments.len(), 5);
        assert_eq!(segments[0], Segment::Bytes(head("", "0-9").as_bytes()));
        assert_eq!(segments[1], Segment::File { offset: 0, len: 10 });
        assert_eq!(
            segments[2],
            Segment::Bytes(head("\r\n", "50-59").as_bytes())
        );
        assert_eq!(
            segments[3],
            Segment::File {
                offset: 50,
                len: 10
            }
        );
        let end = format!("\r\n--{boundary}--\r\n");
        assert_eq!(segments[4], Segment::Bytes(end.as_bytes()));
        let total: u64 = segments
            .iter()
            .map(|s| match s {
                Segment::Bytes(b) => b.len() as u64,
                Segment::File { len, .. } => *len,
            })
            .sum();
        assert_eq!(parts.len(), total);
    }

    #[test]
    fn boundaries_differ_per_response() {
        let all: std::collections::HashSet<String> = (0..1000).map(|_| boundary()).collect();
        assert_eq!(all.len(), 1000);
        assert!(all.iter().all(|b| b.len() == 40 && b.is_ascii()));
    }
}
