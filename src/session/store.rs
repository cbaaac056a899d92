//! [`SessionStore`]: where sessions live between requests, and [`MemoryStore`], the default.

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::handler::BoxFuture;

/// A session's data: its values by key, as JSON.
pub type SessionData = HashMap<String, serde_json::Value>;

/// Where sessions are kept, by id. Implement it for a store that several server instances
/// share (Redis, a database table) when they run behind a load balancer: then a client's
/// requests may reach any of them and still find their session.
///
/// Ids are 64 hex digits from the operating system's random source; a store may use them as
/// keys as they are.
///
/// ```
/// use std::time::Duration;
/// use smolweb::BoxFuture;
/// use smolweb::session::{SessionData, SessionStore};
///
/// /// A store that keeps nothing (every request starts a new session).
/// struct Forgetful;
///
/// impl SessionStore for Forgetful {
///     fn load(&self, _id: &str, _ttl: Duration) -> BoxFuture<std::io::Result<Option<SessionData>>> {
///         Box::pin(async { Ok(None) })
///     }
///     fn store(&self, _id: &str, _data: SessionData, _ttl: Duration) -> BoxFuture<std::io::Result<()>> {
///         Box::pin(async { Ok(()) })
///     }
///     fn destroy(&self, _id: &str) -> BoxFuture<std::io::Result<()>> {
///         Box::pin(async { Ok(()) })
///     }
/// }
/// # let _ = smolweb::session::Sessions::new(Forgetful, smolweb::cookie::Key::from_bytes(&[0; 32]));
/// ```
pub trait SessionStore: Send + Sync + 'static {
    /// The data of session `id`, if it exists and has not expired; a session found lasts
    /// `ttl` from now (sessions expire when they go unused, not while they are used).
    fn load(&self, id: &str, ttl: Duration) -> BoxFuture<io::Result<Option<SessionData>>>;
    /// Keeps `data` as session `id` for `ttl` from now.
    fn store(&self, id: &str, data: SessionData, ttl: Duration) -> BoxFuture<io::Result<()>>;
    /// Forgets session `id`.
    fn destroy(&self, id: &str) -> BoxFuture<io::Result<()>>;
}

/// Sessions in this process's memory: lost on restart, and not shared between instances.
/// Expired sessions are removed as other sessions are stored.
///
/// ```
/// let store = smolweb::session::MemoryStore::new();
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<String, (SessionData, Instant)>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// How many sessions it holds (expired ones not yet removed included).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when it holds no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (SessionData, Instant)>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SessionStore for MemoryStore {
    fn load(&self, id: &str, ttl: Duration) -> BoxFuture<io::Result<Option<SessionData>>> {
        let now = Instant::now();
        let mut sessions = self.lock();
        let found = sessions
            .get_mut(id)
            .filter(|(_, expires)| *expires > now)
            .map(|(data, expires)| {
                *expires = now + ttl;
                data.clone()
            });
        Box::pin(std::future::ready(Ok(found)))
    }

    fn store(&self, id: &str, data: SessionData, ttl: Duration) -> BoxFuture<io::Result<()>> {
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, (_, expires)| *expires > now);
        sessions.insert(id.to_owned(), (data, now + ttl));
        Box::pin(std::future::ready(Ok(())))
    }

    fn destroy(&self, id: &str) -> BoxFuture<io::Result<()>> {
        self.lock().remove(id);
        Box::pin(std::future::ready(Ok(())))
    }
}
