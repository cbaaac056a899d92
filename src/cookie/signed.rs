//! Signed cookies (feature `signed-cookies`): a value the client can read but not change.
//!
//! A signed value is `VALUE.MAC`, the MAC being HMAC-SHA256 over the cookie's name and value
//! under a [`Key`], in hex. The name is signed too, so a value signed for one cookie is
//! refused in another. Keys rotate: a [`CookieSigner`] signs with its first key and accepts
//! any of them, so cookies signed with the old key stay valid while it is listed.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::set::Cookie;

/// Shortest key accepted, in bytes.
///
/// **Default:** 32. **Unit:** bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// A secret for signing cookies: at least [`MIN_KEY_BYTES`] random bytes, kept out of the
/// source (an environment variable, a secrets file).
///
/// ```
/// let key = smolweb::cookie::Key::from_bytes(&[7u8; 32]);
/// # let _ = key;
/// ```
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A key from `secret`. Panics if it is shorter than [`MIN_KEY_BYTES`]: a short key is a
    /// mistake in the program's setup, to be found at start-up.
    pub fn from_bytes(secret: &[u8]) -> Key {
        assert!(
            secret.len() >= MIN_KEY_BYTES,
            "a cookie key needs at least {MIN_KEY_BYTES} bytes, got {}",
            secret.len()
        );
        Key(secret.to_vec())
    }

    /// A new random key of [`MIN_KEY_BYTES`] from the operating system's random source
    /// (feature `sessions`). Cookies signed with it stop verifying when the process ends:
    /// fine for a development server, not for several instances or restarts.
    ///
    /// ```
    /// let key = smolweb::cookie::Key::generate();
    /// # let _ = key;
    /// ```
    #[cfg(feature = "sessions")]
    pub fn generate() -> Key {
        let mut bytes = [0u8; MIN_KEY_BYTES];
        getrandom::getrandom(&mut bytes).expect("the operating system's random source");
        Key(bytes.to_vec())
    }

    fn mac(&self, name: &str, value: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(name.as_bytes());
        mac.update(b"=");
        mac.update(value.as_bytes());
        mac
    }
}

/// Signs cookies with its first key and verifies them with any of its keys.
///
/// ```
/// use smolweb::cookie::{Cookie, CookieSigner, Key};
///
/// let old = Key::from_bytes(&[1u8; 32]);
/// let new = Key::from_bytes(&[2u8; 32]);
/// let signed_before = CookieSigner::new(old.clone()).sign(Cookie::new("user", "ada"));
///
/// let signer = CookieSigner::new(new).with_old_key(old);
/// assert_eq!(signer.verify("user", signed_before.value()).as_deref(), Some("ada"));
/// let fresh = signer.sign(Cookie::new("user", "ada"));
/// assert_eq!(signer.verify("user", fresh.value()).as_deref(), Some("ada"));
/// // Changed by the client, or moved to another cookie: refused.
/// assert_eq!(signer.verify("user", &fresh.value().replace("ada", "bob")), None);
/// assert_eq!(signer.verify("admin", fresh.value()), None);
/// ```
#[derive(Debug, Clone)]
pub struct CookieSigner {
    keys: Vec<Key>,
}

impl CookieSigner {
    /// A signer with `key`.
    pub fn new(key: Key) -> Self {
        CookieSigner { keys: vec![key] }
    }

    /// Also accepts cookies signed with `old` (while rotating keys).
    pub fn with_old_key(mut self, old: Key) -> Self {
        self.keys.push(old);
        self
    }

    /// `cookie` with its value signed.
    pub fn sign(&self, cookie: Cookie) -> Cookie {
        let mac = self.keys[0].mac(cookie.name(), cookie.value());
        let tag = hex(&mac.finalize().into_bytes());
        let value = format!("{}.{tag}", cookie.value());
        cookie.with_value(value)
    }

    /// The value a signed `signed` holds for the cookie `name`, if one of the keys signed it.
    pub fn verify(&self, name: &str, signed: &str) -> Option<String> {
        let (value, tag) = signed.rsplit_once('.')?;
        let tag = unhex(tag)?;
        self.keys
            .iter()
            .any(|key| key.mac(name, value).verify_slice(&tag).is_ok())
            .then(|| value.to_owned())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
