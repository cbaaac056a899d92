//! The middleware kit: ready-made [`Middleware`](crate::Middleware) for what most
//! applications need around their handlers. The book's *Middleware kit* chapter has a table
//! of every piece and its defaults.
//!
//! Each file holds one piece; they import the request, response and handler layers, never
//! the connection.
//!
//! | file | what it is |
//! | --- | --- |
//! | `vary.rs` | adding a name to `Vary` without losing what is there |
//! | `compress/` | [`Compression`] (feature `compression`) |

#[cfg(feature = "compression")]
mod compress;
mod vary;

#[cfg(feature = "compression")]
pub use compress::{COMPRESS_WHOLE_MAX, Compression};
