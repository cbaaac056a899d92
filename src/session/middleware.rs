//! [`Sessions`]: the middleware that finds a request's session before the handler and saves
//! it after.

use std::sync::Arc;
use std::time::Duration;

use http_types::{Response, StatusCode};

use super::Session;
use super::store::SessionStore;
use crate::cookie::{Cookie, CookieExt, CookieSigner, Key, SameSite};
use crate::handler::{BoxFuture, Middleware, Next};
use crate::request::Request;
use crate::response::error_response;

/// How long a session lasts after it was last used, unless [`Sessions::ttl`] says otherwise.
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

    /// How long a session lasts after it was last used (the store's expiry and the cookie's
    /// `Max-Age`, both renewed by each request that brings the session).
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
            // A request that has a session cannot be answered without its store.
            let Ok(session) = settings.load(&req).await else {
                return unavailable();
            };
            let secure = req.tls().is_some();
            req.insert_ext(session.clone());
            let mut res = next.run(req).await;
            if settings.save(&session, secure, &mut res).await.is_err() {
                return unavailable();
            }
            res
        })
    }
}

/// The answer when the session store cannot be reached.
fn unavailable() -> Response {
    let mut res = error_response(StatusCode::ServiceUnavailable, "session store unavailable");
    res.insert_header("retry-after", "1");
    res
}

impl Settings {
    /// The session the request's cookie names (its life renewed), or a new one; `Err` when
    /// the store failed (it logs the outage).
    async fn load(&self, req: &Request) -> Result<Session, ()> {
        let Some(id) = req.signed_cookie(&self.signer, &self.cookie_name) else {
            return Ok(Session::default());
        };
        match self.store.load(&id, self.ttl).await {
            Ok(Some(data)) => Ok(Session::loaded(id, data)),
            Ok(None) => Ok(Session::default()),
            Err(e) => {
                log::debug!("session store: loading a session failed: {e}");
                Err(())
            }
        }
    }

    /// Stores what changed and sets (or removes) the cookie; an unchanged session's cookie is
    /// sent again with a fresh `Max-Age`, as the store renewed its life. `Err` when the store
    /// failed.
    async fn save(&self, session: &Session, secure: bool, res: &mut Response) -> Result<(), ()> {
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
        let failed = |e: std::io::Error| log::debug!("session store: saving a session failed: {e}");
        let cookie = Cookie::new(self.cookie_name.clone(), "").path("/");
        if destroyed {
            if let Some(id) = old_id {
                self.store.destroy(&id).await.map_err(failed)?;
            }
            res.remove_cookie(cookie);
            return Ok(());
        }
        let id = match old_id {
            Some(id) if !renew => id,
            _ if !changed => return Ok(()),
            old => {
                if let Some(old) = old {
                    self.store.destroy(&old).await.map_err(failed)?;
                }
                new_id().ok_or(())?
            }
        };
        if changed {
            self.store
                .store(&id, data, self.ttl)
                .await
                .map_err(failed)?;
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
        Ok(())
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
