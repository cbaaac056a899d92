//! [`FileBody`]: what of an open file a response sends — one range, or the parts of a
//! multipart body — which the connection writes.

use std::io;

use super::multipart::{Parts, Segment};

/// Default size of the chunks a file is read and sent in.
///
/// **Default:** 64 KiB. **Unit:** bytes.
pub const FILE_CHUNK: usize = 64 * 1024;

/// What of a file a response sends, carried in the response's extensions instead of an
/// `http_types::Body`, so that the connection reaches the file itself (see the `fs` module
/// docs): a sequence of segments, bytes to send as they are and ranges of the file.
/// Nothing here touches a socket. Middleware reaches it through
/// [`ResponseExt::file_body`](crate::ResponseExt::file_body) and
/// [`ResponseExt::take_file_body`](crate::ResponseExt::take_file_body).
#[derive(Debug)]
pub struct FileBody {
    pub(crate) file: std::fs::File,
    /// The most read (and sent) at once.
    pub(crate) chunk: usize,
    /// The file's length when the response was made.
    file_len: u64,
    layout: Layout,
}

/// The segments of a body. One range (the whole file, or a single `Range`) is held inline,
/// so a plain file response allocates nothing for it.
#[derive(Debug)]
enum Layout {
    Range { offset: u64, len: u64 },
    Parts(Parts),
}

impl FileBody {
    /// `len` bytes from `offset` of `file`, which is `file_len` bytes long.
    pub(crate) fn range(
        file: std::fs::File,
        file_len: u64,
        (offset, len): (u64, u64),
        chunk: usize,
    ) -> Self {
        FileBody {
            file,
            chunk,
            file_len,
            layout: Layout::Range { offset, len },
        }
    }

    /// A multipart body of the ranges of `file`, which is `file_len` bytes long.
    pub(crate) fn parts(file: std::fs::File, file_len: u64, parts: Parts, chunk: usize) -> Self {
        FileBody {
            file,
            chunk,
            file_len,
            layout: Layout::Parts(parts),
        }
    }

    /// Whether `len` bytes from `offset` reach the end of the file (as it was when the
    /// response was made).
    pub(crate) fn reaches_end(&self, offset: u64, len: u64) -> bool {
        offset.saturating_add(len) >= self.file_len
    }

    /// The length of the whole body, every segment's together (the `Content-Length`).
    pub(crate) fn total_len(&self) -> u64 {
        match &self.layout {
            Layout::Range { len, .. } => *len,
            Layout::Parts(parts) => parts.len(),
        }
    }

    /// The segments, in the order they are sent.
    pub(crate) fn segments(&self) -> Segments<'_> {
        Segments { body: self, at: 0 }
    }

    /// Reads from `pos` into `buf` (a positioned read: no seek, no shared file offset).
    pub(crate) fn read_at(&self, buf: &mut [u8], pos: u64) -> io::Result<usize> {
        super::open::read_at(&self.file, buf, pos)
    }

    /// Reads from `pos` onto the end of `out`, into its spare capacity (which needs no
    /// zeroing first), as much as fits; returns how many bytes were added. It may read past a
    /// range's end if the file goes on: the caller truncates.
    pub(crate) fn read_at_onto(&self, out: &mut Vec<u8>, pos: u64) -> io::Result<usize> {
        super::open::read_at_onto(&self.file, out, pos)
    }
}

/// The segments of a [`FileBody`], in order (see [`FileBody::segments`]).
#[derive(Debug, Clone)]
pub(crate) struct Segments<'a> {
    body: &'a FileBody,
    at: usize,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let segment = match &self.body.layout {
            &Layout::Range { offset, len } => {
                (self.at == 0).then_some(Segment::File { offset, len })
            }
            Layout::Parts(parts) => parts.segment(self.at),
        };
        self.at += usize::from(segment.is_some());
        segment
    }
}

/// The file shrank while it was being sent: the length already announced is now a lie, so
/// the connection must end rather than pad the body with anything.
pub(crate) fn shrank() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while being sent")
}
