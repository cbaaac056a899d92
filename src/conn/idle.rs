//! Idle connections, and closing the oldest of them to make room at `max_connections`.
//!
//! A connection waiting for a request it has not begun to receive (a keep-alive connection
//! between requests, or a new one that has sent nothing yet) is idle; it stamps itself with
//! when its wait began. At the connection limit, a server's accept loop asks its
//! [`IdleList`] to close the oldest idle connections, as nginx does ("reusing connections"),
//! rather than leave new clients in the backlog while idle sockets hold every slot.
//!
//! What must stay true: a connection that has received a byte of a request, or is writing a
//! response, is never closed from here. The state word makes that so: the connection swaps
//! itself to busy when bytes arrive, the evictor moves it from one exact idle stamp to
//! evicted, and only the one that wins acts. A connection that finds itself evicted when its
//! next request arrives closes without answering, like any keep-alive close the client races
//! with (RFC 9112 §9.3.1: the client may retry).

use std::sync::{Mutex, Weak};

use super::shared::Shared;
use crate::transport::Transport;

/// At most this many idle connections are closed per round at the limit; a round closes an
/// eighth of the idle ones, at least one (nginx's rule).
pub(crate) const MAX_EVICTED_PER_ROUND: usize = 32;

/// A connection as the list sees it.
pub(crate) trait Evict: Send + Sync {
    fn idle_since(&self) -> Option<u64>;
    /// Closes the connection if it is still idle since `since`; true if it was closed.
    fn evict(&self, since: u64) -> bool;
}

impl<T: Transport> Evict for Shared<T> {
    fn idle_since(&self) -> Option<u64> {
        self.idle.idle_since()
    }

    fn evict(&self, since: u64) -> bool {
        if !self.idle.evict(since) {
            return false;
        }
        // Its wait in `poll_recv` ends with end of stream, and it closes as after any
        // keep-alive wait. The list holds it alive meanwhile, so the socket is still its own.
        if self.transport.shutdown().is_ok() {
            return true;
        }
        // A transport that cannot: idle again, as if nothing happened.
        self.idle.unevict(since);
        false
    }
}

/// The connections of one accept loop, for closing the oldest idle ones.
#[derive(Default)]
pub(crate) struct IdleList {
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    conns: Vec<Option<Weak<dyn Evict>>>,
    free: Vec<usize>,
}

/// A connection's place in an [`IdleList`], given up when dropped.
pub(crate) struct Listed<'a> {
    list: &'a IdleList,
    at: usize,
}

impl Drop for Listed<'_> {
    fn drop(&mut self) {
        let mut slots = self.list.lock();
        slots.conns[self.at] = None;
        slots.free.push(self.at);
    }
}

impl IdleList {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lists a connection for as long as the returned guard lives.
    pub(crate) fn list(&self, conn: Weak<dyn Evict>) -> Listed<'_> {
        let mut slots = self.lock();
        let at = match slots.free.pop() {
            Some(at) => {
                slots.conns[at] = Some(conn);
                at
            }
            None => {
                slots.conns.push(Some(conn));
                slots.conns.len() - 1
            }
        };
        Listed { list: self, at }
    }

    /// Closes the oldest idle connections: an eighth of them, at least one, at most
    /// [`MAX_EVICTED_PER_ROUND`]. Returns how many were closed.
    pub(crate) fn evict_oldest(&self) -> usize {
        let mut idle: Vec<(u64, std::sync::Arc<dyn Evict>)> = {
            let slots = self.lock();
            slots
                .conns
                .iter()
                .flatten()
                .filter_map(Weak::upgrade)
                .filter_map(|conn| Some((conn.idle_since()?, conn)))
                .collect()
        };
        if idle.is_empty() {
            return 0;
        }
        let n = (idle.len() / 8).clamp(1, MAX_EVICTED_PER_ROUND);
        if n < idle.len() {
            idle.select_nth_unstable_by_key(n, |(since, _)| *since);
        }
        idle[..n]
            .iter()
            .filter(|(since, conn)| conn.evict(*since))
            .count()
    }
}
