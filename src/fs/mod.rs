//! Files as responses: [`FileResponse`] for one file, [`ServeDir`] for a directory tree.
//!
//! # How a file is sent
//!
//! A file response carries a `FileBody` (the open file, the byte range, the chunk size) in the
//! response's extensions instead of an `http_types::Body`, so the connection reaches the file
//! directly: it reads a chunk with a positioned read (`pread`) into the connection's write
//! buffer, right behind the response head, and sends it with `send(MSG_NOSIGNAL)` through the
//! socket module; then the next chunk into the same buffer. A small file therefore costs one
//! `open`, one `fstat`, one `pread` and one `send`; a large one holds one chunk of memory
//! (64 KiB by default) however large it is. If the client goes away, the send fails with
//! `EPIPE`/`ECONNRESET`, the connection ends, and the file and buffer are dropped at once.
//!
//! A `Range` of several ranges is answered with a `multipart/byteranges` body whose part
//! headers and boundaries are bytes held in the `FileBody` between its file ranges: the
//! connection writes them through the same buffer, and each range goes the same way as a
//! single one (copied, or `sendfile`), so the file is never read into memory whole.
//!
//! Opening, `fstat` and reads run inline on the executor thread, as nginx does: for files in
//! the page cache they take microseconds, and a hop to a thread pool per read would cost more
//! than the read. Storage that can stall for long (network file systems) is better served by
//! a dedicated server.
//!
//! Middleware sees a file response with an empty `Body` (`res.len() == Some(0)`) and the
//! `FileBody` beside it ([`ResponseExt::file_body`](crate::ResponseExt::file_body)); the
//! `content-length` sent is the file's. A middleware that wants the bytes takes the
//! `FileBody` out ([`ResponseExt::take_file_body`](crate::ResponseExt::take_file_body)) and
//! reads it as a body ([`FileBody::into_body`]). A body set on a file response with
//! `set_body` (any body but an empty one) replaces the file: it is never silently ignored.
//!
//! | file | what it is |
//! | --- | --- |
//! | `body.rs` | `FileBody`: what of an open file a response carries, as segments |
//! | `multipart.rs` | the parts and boundary of a `multipart/byteranges` body |
//! | `open.rs` | opening (`O_NONBLOCK`, beneath a root) and positioned reads |
//! | `file.rs` | `FileResponse`: validators, conditionals, ranges |
//! | `precompressed.rs` | `name.br`/`.zst`/`.gz` siblings chosen by `Accept-Encoding` |
//! | `range.rs` | parsing `Range`: limits, coalescing |
//! | `reader.rs` | a `FileBody` read as an ordinary body, for middleware |
//! | `mime.rs` | content types by extension |
//! | `serve_dir.rs` | `ServeDir`: request paths to files under a root |
//!
//! Nothing here writes to a socket: the connection sends a `FileBody` (`conn/file.rs`).

pub(crate) mod body;
mod file;
mod mime;
pub(crate) mod multipart;
mod open;
mod precompressed;
mod range;
mod reader;
mod serve_dir;

pub use body::{FILE_CHUNK, FileBody};
pub use file::FileResponse;
pub use serve_dir::ServeDir;
