//! The HTTP/1.1 codec (RFC 9112): request heads in, response heads and chunk frames out.
//!
//! The codec is plain functions over byte buffers; it does no I/O, which is what lets it be
//! fuzzed and property-tested on its own.

mod chunked;
mod date;
pub(crate) mod head;
pub(crate) mod raw;
pub(crate) mod response;

pub use chunked::{ChunkError, ChunkedDecoder, MAX_CHUNK_EXT, MAX_CHUNK_SIZE_LINE, MAX_TRAILERS};
pub(crate) use date::format as format_date;
pub use head::HeadError;
