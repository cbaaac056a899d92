//! [`FileBody`]: the part of an open file a response sends, which the connection writes.

use std::io;

/// Default size of the chunks a file is read and sent in.
///
/// **Default:** 64 KiB. **Unit:** bytes.
pub const FILE_CHUNK: usize = 64 * 1024;

/// The part of a file a response sends, carried in the response's extensions instead of an
/// `http_types::Body`, so that the connection reaches the file itself (see the `fs` module
/// docs). Nothing here touches a socket. Middleware reaches it through
/// [`ResponseExt::file_body`](crate::ResponseExt::file_body) and
/// [`ResponseExt::take_file_body`](crate::ResponseExt::take_file_body).
#[derive(Debug)]
pub struct FileBody {
    pub(crate) file: std::fs::File,
    /// Where the range starts in the file, and how long it is.
    pub(crate) offset: u64,
    pub(crate) len: u64,
    /// The most read (and sent) at once.
    pub(crate) chunk: usize,
}

impl FileBody {
    /// Reads from `pos` into `buf` (a positioned read: no seek, no shared file offset).
    pub(crate) fn read_at(&self, buf: &mut [u8], pos: u64) -> io::Result<usize> {
        super::open::read_at(&self.file, buf, pos)
    }
}

/// The file shrank while it was being sent: the length already announced is now a lie, so
/// the connection must end rather than pad the body with anything.
pub(crate) fn shrank() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while being sent")
}
