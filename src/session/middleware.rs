//! [`Sessions`]: the middleware that finds a request's session before the handler and saves
//! it after.

use std::sync::Arc;
use std::time::Duration;

use http_types::Response;

use super::Session;
use super::store::SessionStore;
use crate::cookie::{Cookie, CookieExt, CookieSigner, Key, SameSite};
use crate::handler::{BoxFuture, Middleware, Next};
use crate::request::Request;

/// How long a session lasts after it last changed, unless [`Sessions::ttl`] says otherwise.
///
/// **Default:** 24 hours. **Unit:** time.
pub const SESSION_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Bytes of randomness in a session id (written as twice as many hex digits).
const ID_BYTES: usize = 32;

/// Sessions for the handlers it wraps (see the [module docs](super)): put it on a router
/// with [`Router::middleware`](crate::Router::middleware).
///
/// ```
/// use std::time::Duration;
/// use smolweb::cookie::Key;
/// use smolweb::session::{MemoryStore, Sessions};
///
/// let key = Key::from_bytes(b"a secret of at least thirty-two bytes!");
/// let sessions = Sessions::new(MemoryStore::new(), key)
///     .cookie_name("app_session")
///     .ttl(Duration::from_secs(8 * 60 * 60));
/// let app = smolweb::Router::new().middleware(sessions);
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Settings>,
}

struct Settings {
    store: Arc<dyn SessionStore>,
    signer: CookieSigner,
    cookie_name: String,
    ttl: Duration,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("cookie_name", &self.inner.cookie_name)
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions kept in `store`, their id cookies signed with `key`.
    pub fn new(store: impl SessionStore, key: Key) -> Self {
        Self::with_signer(store, CookieSigner::new(key))
    }

    /// [`new`](Self::new) with a signer that also accepts old keys (while rotating).
    pub fn with_signer(store: impl SessionStore, signer: CookieSigner) -> Self {
        Sessions {
            inner: Arc::new(Settings {
                store: Arc::new(store),
                signer,
                cookie_name: "sid".to_owned(),
                ttl: SESSION_TTL,
            }),
        }
    }

    fn settings(&mut self) -> &mut Settings {
        Arc::get_mut(&mut self.inner).expect("configured before it is shared")
    }

    /// The cookie's name.
    ///
    /// **Default:** `sid`.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.settings().cookie_name = name.into();
        self
    }

    /// How long a session lasts after it last changed (the store's expiry and the cookie's
    /// `Max-Age`).
    ///
    /// **Default:** 24 hours ([`SESSION_TTL`]). **Unit:** time.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.settings().ttl = ttl;
        self
    }
}

impl Middleware for Sessions {
    fn handle(&self, mut req: Request, next: Next) -> BoxFuture<Response> {
        let settings = self.inner.clone();
        Box::pin(async move {
            let session = settings.load(&req).await;
            let secure = req.tls().is_some();
            req.insert_ext(session.clone());
            let mut res = next.run(req).await;
            settings.save(&session, secure, &mut res).await;
            res
        })
    }
}

impl Settings {
    /// The session the request's cookie names, or a new one.
    async fn load(&self, req: &Request) -> Session {
        let Some(id) = req.signed_cookie(&self.signer, &self.cookie_name) else {
            return Session::default();
        };
        match self.store.load(&id).await {
            Ok(Some(data)) => Session::loaded(id, data),
            Ok(None) => Session::default(),
            Err(e) => {
                log::warn!("session store: loading a session failed: {e}");
                Session::default()
            }
        }
    }

    /// Stores what changed and sets (or removes) the cookie.
    async fn save(&self, session: &Session, secure: bool, res: &mut Response) {
        let (old_id, data, changed, renew, destroyed) = {
            let mut state = session.lock();
            let data = std::mem::take(&mut state.data);
            (
                state.id.take(),
                data,
                state.changed,
                state.renew,
                state.destroyed,
            )
        };
        let cookie = Cookie::new(self.cookie_name.clone(), "").path("/");
        if destroyed {
            if let Some(id) = old_id {
                if let Err(e) = self.store.destroy(&id).await {
                    log::warn!("session store: destroying a session failed: {e}");
                }
            }
            res.remove_cookie(cookie);
            return;
        }
        if !changed {
            return;
        }
        let id = match old_id {
            Some(id) if !renew => id,
            old => {
                if let Some(old) = old {
                    if let Err(e) = self.store.destroy(&old).await {
                        log::warn!("session store: forgetting a renewed session failed: {e}");
                    }
                }
                match new_id() {
                    Some(id) => id,
                    None => return,
                }
            }
        };
        if let Err(e) = self.store.store(&id, data, self.ttl).await {
            log::error!("session store: saving a session failed: {e}");
            return;
        }
        let cookie = cookie
            .with_value(id)
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            // Whole seconds, rounded up: a lifetime under a second is not `Max-Age=0`, which
            // would remove the cookie at once.
            .max_age(Duration::from_secs(
                self.ttl.as_secs() + u64::from(self.ttl.subsec_nanos() > 0),
            ));
        res.set_cookie(self.signer.sign(cookie));
    }
}

/// A new session id: [`ID_BYTES`] from the operating system's random source, in hex.
fn new_id() -> Option<String> {
    let mut bytes = [0u8; ID_BYTES];
    if let Err(e) = getrandom::getrandom(&mut bytes) {
        log::error!("no randomness for a session id: {e}");
        return None;
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
