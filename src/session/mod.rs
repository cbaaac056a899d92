//! Sessions (feature `sessions`): a [`Session`] per client, found again on its next requests
//! through a signed session-id cookie, its data kept in a [`SessionStore`].
//!
//! ```
//! use smolweb::cookie::Key;
//! use smolweb::session::{MemoryStore, Session, Sessions};
//! use smolweb::{Request, Router, test::TestClient};
//!
//! async fn login(req: Request) -> &'static str {
//!     let session = req.ext::<Session>().expect("the Sessions middleware");
//!     session.renew(); // a new id at login: a planted id is worth nothing (fixation)
//!     session.insert("user", "ada");
//!     "welcome"
//! }
//!
//! async fn me(req: Request) -> String {
//!     let session = req.ext::<Session>().unwrap();
//!     session.get::<String>("user").unwrap_or_else(|| "nobody".into())
//! }
//!
//! let app = Router::new()
//!     .post("/login", login)
//!     .get("/me", me)
//!     .middleware(Sessions::new(MemoryStore::new(), Key::from_bytes(&[42u8; 32])));
//! smol::block_on(async {
//!     let client = TestClient::new(app);
//!     assert_eq!(client.get("/me").send().await.text().await, "nobody");
//!     client.post("/login").send().await;
//!     assert_eq!(client.get("/me").send().await.text().await, "ada");
//! });
//! ```
//!
//! The cookie (`sid` by default) holds only the session's id, signed, with `HttpOnly`,
//! `SameSite=Lax`, `Path=/`, `Max-Age` of the session's lifetime, and `Secure` when the
//! request came over TLS. A session is stored (and its cookie sent) only once something is
//! put in it, so visitors who never log in cost nothing. A session lasts its lifetime from
//! its last use: each request that brings it renews it in the store and in the cookie. A
//! request with a session cookie whose store cannot be reached gets `503` (with
//! `Retry-After`), not an empty session that would look like a logout.
//!
//! | file | what it is |
//! | --- | --- |
//! | `mod.rs` | [`Session`]: one client's session, as a handler sees it |
//! | `store.rs` | [`SessionStore`], and [`MemoryStore`] |
//! | `middleware.rs` | [`Sessions`]: loading and saving around each request |
//! | `redis.rs` | (feature `redis`) `RedisStore`, over a RESP client of its own |

mod middleware;
#[cfg(feature = "redis")]
mod redis;
mod store;

use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use middleware::{SESSION_TTL, Sessions};
#[cfg(feature = "redis")]
pub use redis::{COMMAND_TIMEOUT, CONNECTIONS, RETRY_EVERY, RedisStore};
pub use store::{MemoryStore, SessionData, SessionStore};

/// One client's session, in the request's extensions (`req.ext::<Session>()`) for the
/// handlers behind [`Sessions`]. Cheap to clone; clones share the session. Changes are saved
/// when the response goes back through the middleware.
///
/// ```
/// use smolweb::session::Session;
/// let session = Session::default();
/// session.insert("cart", vec![1, 2]);
/// assert_eq!(session.get::<Vec<u32>>("cart"), Some(vec![1, 2]));
/// session.remove("cart");
/// assert_eq!(session.get::<Vec<u32>>("cart"), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Session {
    inner: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    /// The id it was loaded with (none for a new session).
    pub(crate) id: Option<String>,
    pub(crate) data: SessionData,
    pub(crate) changed: bool,
    pub(crate) renew: bool,
    pub(crate) destroyed: bool,
}

impl Session {
    pub(crate) fn loaded(id: String, data: SessionData) -> Self {
        let state = State {
            id: Some(id),
            data,
            ..State::default()
        };
        Session {
            inner: Arc::new(Mutex::new(state)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value under `key` as `T`; `None` if there is none or it is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let value = self.lock().data.get(key)?.clone();
        serde_json::from_value(value).ok()
    }

    /// Puts `value` under `key`. Panics if `value` cannot be turned into JSON (a map with
    /// non-string keys, say): what goes in a session is the program's choice.
    pub fn insert(&self, key: &str, value: impl Serialize) {
        let value = serde_json::to_value(value).expect("a session value must serialize to JSON");
        let mut state = self.lock();
        state.data.insert(key.to_owned(), value);
        state.changed = true;
    }

    /// Removes the value under `key`.
    pub fn remove(&self, key: &str) {
        let mut state = self.lock();
        if state.data.remove(key).is_some() {
            state.changed = true;
        }
    }

    /// Gives the session a new id when it is saved, and forgets the old one: call it when
    /// the client logs in (or its privileges change), so an id an attacker planted before is
    /// worthless after (session fixation).
    pub fn renew(&self) {
        let mut state = self.lock();
        state.renew = true;
        state.changed = true;
    }

    /// Ends the session: its data is forgotten by the store and its cookie removed (log out).
    pub fn destroy(&self) {
        let mut state = self.lock();
        state.destroyed = true;
        state.data.clear();
    }

    /// True if the session was loaded from the store (the client had one).
    pub fn exists(&self) -> bool {
        self.lock().id.is_some()
    }
}
