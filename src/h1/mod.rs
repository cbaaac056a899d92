//! The HTTP/1.1 codec (RFC 9112): request heads in, response heads and chunk frames out.
//!
//! The codec is plain functions over byte buffers; it does no I/O, which is what lets it be
//! fuzzed and property-tested on its own. It produces its own types (`Message`,
//! `RequestHead`) and http-types' vocabulary, and names nothing of the connection, the
//! application, files or the server.
//!
//! | file | what it is |
//! | --- | --- |
//! | `scan.rs` | a head checked as it arrives, before it is whole |
//! | `head.rs` | a request head: request line, limits, the parse as a whole |
//! | `fields.rs` | the fields that frame the body and decide keep-alive |
//! | `target.rs` | the characters a request target may hold |
//! | `token.rs` | token characters (methods, field names) |
//! | `url.rs` | targets to URLs, relative to the connection's base |
//! | `raw.rs` | a head kept as received, and the room it reuses |
//! | `build.rs` | the `http_types::Request` for a head, when asked for |
//! | `message.rs` | a parsed request, raw or built |
//! | `opaque.rs` | field values with obs-text, beside the built request |
//! | `error.rs` | why a head was refused |
//! | `chunked.rs` | the chunked body decoder |
//! | `encode.rs` | response heads and chunk frames |
//! | `date.rs` | HTTP dates, formatted and parsed |

mod build;
mod chunked;
pub(crate) mod date;
pub(crate) mod encode;
pub(crate) mod error;
pub(crate) mod fields;
pub(crate) mod head;
pub(crate) mod message;
pub(crate) mod opaque;
pub(crate) mod raw;
pub(crate) mod scan;
pub(crate) mod target;
pub(crate) mod token;
pub(crate) mod url;

pub use chunked::{ChunkError, ChunkedDecoder, MAX_CHUNK_EXT, MAX_CHUNK_SIZE_LINE, MAX_TRAILERS};
pub use error::HeadError;
