//! [`Cookie`]: a cookie to set, with its attributes, and [`CookieExt`] to set it.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_types::Response;

use super::value::{encode, valid_name};
use crate::h1::date;

/// Whether a cookie goes with cross-site requests (the `SameSite` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Only with requests from the same site.
    Strict,
    /// Also with top-level navigations from other sites (links): the usual choice for a
    /// session.
    Lax,
    /// With every request (needs `Secure`).
    None,
}

/// A cookie to set on a response, with its attributes.
///
/// ```
/// use std::time::Duration;
/// use smolweb::cookie::{Cookie, SameSite};
///
/// let c = Cookie::new("theme", "dark / blue")
///     .path("/")
///     .max_age(Duration::from_secs(3600))
///     .http_only(true)
///     .same_site(SameSite::Lax);
/// assert_eq!(
///     c.to_string(),
///     "theme=dark%20/%20blue; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    name: String,
    value: String,
    path: Option<String>,
    domain: Option<String>,
    max_age: Option<Duration>,
    expires: Option<SystemTime>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
}

impl Cookie {
    /// A cookie `name=value` with no attributes (a session cookie, for every path below the
    /// request's). Panics if `name` is not a token: names are chosen by the program.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        assert!(valid_name(&name), "{name:?} is not a valid cookie name");
        Cookie {
            name,
            value: value.into(),
            path: None,
            domain: None,
            max_age: None,
            expires: None,
            secure: false,
            http_only: false,
            same_site: None,
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value, as set (not encoded).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The same cookie with `value`.
    #[cfg(feature = "signed-cookies")]
    pub(crate) fn with_value(mut self, value: String) -> Self {
        self.value = value;
        self
    }

    /// `Path`: the cookie is sent for this path and below.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// `Domain`: the cookie is sent to this domain and its subdomains too.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// `Max-Age`: the cookie lasts this long (whole seconds).
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// `Expires`: the cookie lasts until then (for old clients; `Max-Age` wins where both
    /// are understood).
    pub fn expires(mut self, at: SystemTime) -> Self {
        self.expires = Some(at);
        self
    }

    /// `Secure`: only sent over HTTPS.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// `HttpOnly`: not readable from JavaScript.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// `SameSite`.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        self
    }

    /// The cookie that removes this one: the same name, path and domain, an empty value,
    /// `Max-Age=0` and an `Expires` in the past.
    pub fn removal(&self) -> Cookie {
        Cookie {
            value: String::new(),
            max_age: Some(Duration::ZERO),
            expires: Some(UNIX_EPOCH),
            ..self.clone()
        }
    }
}

/// The `Set-Cookie` value.
impl fmt::Display for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, encode(&self.value))?;
        if let Some(path) = &self.path {
            write!(f, "; Path={}", encode(path))?;
        }
        if let Some(domain) = &self.domain {
            write!(f, "; Domain={}", encode(domain))?;
        }
        if let Some(age) = self.max_age {
            write!(f, "; Max-Age={}", age.as_secs())?;
        }
        if let Some(at) = self.expires {
            let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let when = date::format(secs);
            write!(f, "; Expires={}", String::from_utf8_lossy(&when))?;
        }
        if self.secure {
            f.write_str("; Secure")?;
        }
        if self.http_only {
            f.write_str("; HttpOnly")?;
        }
        match self.same_site {
            Some(SameSite::Strict) => f.write_str("; SameSite=Strict"),
            Some(SameSite::Lax) => f.write_str("; SameSite=Lax"),
            Some(SameSite::None) => f.write_str("; SameSite=None"),
            None => Ok(()),
        }
    }
}

/// Setting and removing cookies on a response (`Set-Cookie`, one field per cookie).
///
/// ```
/// use smolweb::cookie::{Cookie, CookieExt};
/// use smolweb::{Response, StatusCode};
///
/// let mut res = Response::new(StatusCode::Ok);
/// res.set_cookie(Cookie::new("lang", "fr").path("/"));
/// res.remove_cookie(Cookie::new("old", "").path("/"));
/// let set: Vec<_> = res.header("set-cookie").unwrap().iter().map(|v| v.as_str()).collect();
/// assert_eq!(set[0], "lang=fr; Path=/");
/// assert!(set[1].starts_with("old=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970"));
/// ```
pub trait CookieExt {
    /// Adds a `Set-Cookie` for `cookie`.
    fn set_cookie(&mut self, cookie: Cookie);
    /// Adds a `Set-Cookie` that removes `cookie` (give the path and domain it was set with).
    fn remove_cookie(&mut self, cookie: Cookie);
}

impl CookieExt for Response {
    fn set_cookie(&mut self, cookie: Cookie) {
        self.append_header("set-cookie", cookie.to_string());
    }

    fn remove_cookie(&mut self, cookie: Cookie) {
        self.append_header("set-cookie", cookie.removal().to_string());
    }
}
