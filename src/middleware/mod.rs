//! The middleware kit: ready-made [`Middleware`](crate::Middleware) for what most
//! applications need around their handlers. The book's *Middleware kit* chapter has a table
//! of every piece and its defaults.
//!
//! Each file holds one piece; they import the request, response and handler layers, never
//! the connection.
//!
//! | file | what it is |
//! | --- | --- |
//! | `cors.rs` | [`Cors`]: cross-origin requests allowed, preflights answered |
//! | `proxy.rs` | [`TrustedProxies`]: client address, scheme and host from trusted proxies |
//! | `forwarded.rs` | reading `Forwarded` (RFC 7239) and `X-Forwarded-For` (for `proxy.rs`) |
//! | `cidr.rs` | address ranges (`10.0.0.0/8`) and [`ProxyConfigError`] (for `proxy.rs`) |
//! | `request_id.rs` | [`RequestId`]: an id per request, on the request and the response |

mod cidr;
mod cors;
mod forwarded;
mod proxy;
mod request_id;

pub use cidr::ProxyConfigError;
pub use cors::{Cors, InvalidOrigin};
pub use proxy::TrustedProxies;
pub use request_id::{MAX_REQUEST_ID_BYTES, RequestId};
