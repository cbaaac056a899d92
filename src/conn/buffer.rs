//! [`ReadBuffer`]: a connection's received bytes not yet parsed or read.

use crate::h1::HeadError;
use crate::h1::scan::Scan;

/// First size of a connection's read buffer; it doubles up to `Config::max_head_bytes`.
pub(crate) const INITIAL_BUFFER: usize = 4 * 1024;

/// Received bytes waiting to be parsed (a head) or read (a body): `buf[start..end]`.
///
/// A connection with nothing buffered holds no allocation: the buffer is released once empty
/// (see [`release_if_empty`](Self::release_if_empty)), so an idle keep-alive connection costs
/// a small task, not a buffer.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The check of the head at `start`, as far as it has arrived.
    scan: Scan,
}

impl ReadBuffer {
    /// True when no byte is buffered.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// How many bytes are buffered.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// The buffered bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// `n` buffered bytes were used (body bytes decoded, say).
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.start += n;
        // What follows is looked at afresh when a head is next checked.
        self.scan = Scan::default();
    }

    /// A head of `len` bytes was parsed from the front: the next head is searched for after it.
    pub(crate) fn take_head(&mut self, len: usize) {
        self.consume(len);
    }

    /// The free space after the buffered bytes, to receive into (see
    /// [`make_room`](Self::make_room)); [`filled`](Self::filled) says how much was put there.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        &mut self.buf[self.end..]
    }

    pub(crate) fn filled(&mut self, n: usize) {
        self.end += n;
    }

    /// Makes room after the buffered bytes: moves them to the front, and grows the buffer up
    /// to `max` bytes if it is full. False when it is full at `max`.
    pub(crate) fn make_room(&mut self, max: usize) -> bool {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).clamp(INITIAL_BUFFER, max.max(INITIAL_BUFFER));
            if grown <= self.buf.len() {
                return false;
            }
            self.buf.resize(grown, 0);
        }
        true
    }

    /// Puts bytes received elsewhere (on a scratch buffer) into the empty buffer.
    pub(crate) fn keep(&mut self, bytes: &[u8]) {
        debug_assert!(self.is_empty());
        if bytes.is_empty() {
            return;
        }
        if self.buf.len() < bytes.len() {
            self.buf = vec![0; bytes.len().max(INITIAL_BUFFER)];
        }
        self.buf[..bytes.len()].copy_from_slice(bytes);
        (self.start, self.end, self.scan) = (0, bytes.len(), Scan::default());
    }

    /// Takes every buffered byte out (for a connection leaving HTTP), leaving the buffer empty.
    pub(crate) fn take_all(&mut self) -> Vec<u8> {
        let bytes = self.bytes().to_vec();
        *self = ReadBuffer::default();
        bytes
    }

    /// Frees the allocation if nothing is buffered.
    pub(crate) fn release_if_empty(&mut self) {
        if self.is_empty() && !self.buf.is_empty() {
            self.buf = Vec::new();
            (self.start, self.end, self.scan) = (0, 0, Scan::default());
        }
    }

    /// Checks the head at the front as far as it has arrived (each byte once, however it
    /// was cut into packets): `Ok(true)` once it is complete, an error as soon as it can no
    /// longer become a valid head.
    pub(crate) fn check_head(&mut self) -> Result<bool, HeadError> {
        self.scan.check(&self.buf[self.start..self.end])
    }
}

/// True if `bytes` hold the blank line that ends a head (`\n\n` or `\n\r\n`).
pub(crate) fn has_blank_line(bytes: &[u8]) -> bool {
    // Usually the head ends exactly where the bytes do.
    if bytes.ends_with(b"\r\n\r\n") {
        return true;
    }
    let mut from = 0;
    while let Some(at) = bytes[from..].iter().position(|&b| b == b'\n') {
        let lf = from + at;
        match bytes.get(lf + 1..) {
            Some([b'\n', ..] | [b'\r', b'\n', ..]) => return true,
            _ => from = lf + 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_of_a_head() {
        for yes in [
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            b"a\n\nb",
            b"\r\n\r\n",
            b"x\n\r\nbody",
        ] {
            assert!(has_blank_line(yes), "{yes:?}");
        }
        for no in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"",
            b"\n",
            b"a\r\nb\r\n",
            b"\n\r",
            b"\r\n\r",
        ] {
            assert!(!has_blank_line(no), "{no:?}");
        }
    }

    #[test]
    fn a_head_dribbled_in_is_found_once_it_ends() {
        let mut buffer = ReadBuffer::default();
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for (i, byte) in head.iter().enumerate() {
            assert!(buffer.make_room(64));
            buffer.spare()[0] = *byte;
            buffer.filled(1);
            assert_eq!(buffer.check_head(), Ok(i == head.len() - 1), "at {i}");
        }
        buffer.take_head(head.len());
        assert!(buffer.is_empty());
        buffer.release_if_empty();
        assert_eq!(buffer.buf.capacity(), 0);
    }
}
