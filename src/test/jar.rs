//! The [`TestClient`](super::TestClient)'s cookie jar: what `Set-Cookie` (RFC 6265 §5.2)
//! sets, sent back as one `Cookie` header.
//!
//! One site only: `Domain` and `Path` are not compared, `Secure` and `HttpOnly` do not
//! change what is sent. `Max-Age` of zero or less, or an `Expires` in the past, removes the
//! cookie, as a browser does when a session ends with a logout.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::h1::date;

/// Cookies by name, in the order they were first set.
#[derive(Debug, Default, Clone)]
pub(crate) struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    /// Applies one `Set-Cookie` value.
    pub(crate) fn set(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let expired = parts.any(|attr| {
            let (key, val) = attr.split_once('=').unwrap_or((attr, ""));
            let (key, val) = (key.trim(), val.trim());
            if key.eq_ignore_ascii_case("max-age") {
                val.parse::<i64>().is_ok_and(|age| age <= 0)
            } else if key.eq_ignore_ascii_case("expires") {
                date::parse(val).is_some_and(|at| at <= now)
            } else {
                false
            }
        });
        self.cookies.retain(|(n, _)| n != name);
        if !expired {
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn all(&self) -> &[(String, String)] {
        &self.cookies
    }

    pub(crate) fn insert(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    pub(crate) fn clear(&mut self) {
        self.cookies.clear();
    }

    /// The `Cookie` header for a request, if there is any cookie.
    pub(crate) fn header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        Some(pairs.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replace_and_expire() {
        let mut jar = Jar::default();
        jar.set("sid=abc; Path=/; HttpOnly; SameSite=Lax");
        jar.set("theme=dark");
        assert_eq!(jar.header().as_deref(), Some("sid=abc; theme=dark"));
        jar.set("sid=def; Max-Age=3600");
        assert_eq!(jar.get("sid"), Some("def"));
        jar.set("sid=; Max-Age=0");
        assert_eq!(jar.get("sid"), None);
        jar.set("theme=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(jar.header(), None);
        jar.set("no-equals-sign");
        jar.set("=nameless");
        assert!(jar.all().is_empty());
    }
}
