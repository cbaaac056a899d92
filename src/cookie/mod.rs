//! Cookies (RFC 6265): read from a request's `Cookie` header, set and removed on a response
//! with `Set-Cookie` and its attributes.
//!
//! Values are percent-encoded when set and decoded when read, so any text (UTF-8 included)
//! round-trips, and a value can never end the header or add an attribute. A cookie whose
//! value does not decode is skipped when reading, as a browser's garbage would be.
//!
//! | file | what it is |
//! | --- | --- |
//! | `value.rs` | values encoded and decoded, `Cookie` headers read |
//! | `set.rs` | [`Cookie`] and its attributes, [`CookieExt`] to set it on a response |
//! | `signed.rs` | (feature `signed-cookies`) `CookieSigner` and its `Key` |

mod set;
#[cfg(feature = "signed-cookies")]
mod signed;
mod value;

pub use set::{Cookie, CookieExt, SameSite};
#[cfg(feature = "signed-cookies")]
pub use signed::{CookieSigner, Key, MIN_KEY_BYTES};
pub(crate) use value::parse;
