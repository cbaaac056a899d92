//! Per-thread pools of the rooms a busy connection needs and an idle one does not: byte
//! buffers ([`BufferPool`]) and the room of a future ([`Pooled`]).
//!
//! A connection between requests keeps none of them: it takes what it needs from its
//! thread's pool when a request arrives and gives it back when the response is written. In
//! the steady state the same few rooms go round, so a request allocates nothing for them,
//! while ten thousand idle connections cost ten thousand small tasks, not ten thousand sets
//! of rooms. A room may be taken on one thread and given back on another (a task moved); each
//! pool keeps at most a fixed number (rooms: per future type), so none grows without bound.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Byte buffers kept for the next user on the same thread.
pub(crate) struct BufferPool {
    bufs: RefCell<Vec<Vec<u8>>>,
    /// At most this many buffers are kept.
    max_kept: usize,
    /// A buffer larger than this is freed rather than kept.
    max_capacity: usize,
}

impl BufferPool {
    pub(crate) const fn new(max_kept: usize, max_capacity: usize) -> Self {
        BufferPool {
            bufs: RefCell::new(Vec::new()),
            max_kept,
            max_capacity,
        }
    }

    /// An empty buffer: the last one given back (with its capacity), or a new one (which
    /// allocates only when written to).
    pub(crate) fn take(&self) -> Vec<u8> {
        match self.bufs.try_borrow_mut() {
            Ok(mut bufs) => bufs.pop().unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// Keeps `buf`'s allocation for the next [`take`](Self::take), unless it is empty, too
    /// large, or the pool is full.
    pub(crate) fn give_back(&self, mut buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > self.max_capacity {
            return;
        }
        if let Ok(mut bufs) = self.bufs.try_borrow_mut() {
            if bufs.len() < self.max_kept {
                buf.clear();
                bufs.push(buf);
            }
        }
    }
}

/// Empty rooms of futures kept per thread and per future type, at most.
const MAX_ROOMS: usize = 64;

thread_local! {
    /// Empty rooms of futures ([`Pooled`] ones and [`FutureSlot`](crate::FutureSlot) ones):
    /// for each future type `F`, a `Vec<Pin<Box<Option<F>>>>`. Listed by type so that a future
    /// is made in its room instead of being made, then moved in (a move copies all of a
    /// future's size, and an exchange's is almost 2 KB).
    static ROOMS: RefCell<Vec<(TypeId, Box<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

/// A room holding the future `make` returns: an empty one of its type kept by this thread,
/// or a new one. The future is made in the room, not moved there.
pub(crate) fn room_with<F: 'static>(make: impl FnOnce() -> F) -> Pin<Box<Option<F>>> {
    let kept = ROOMS
        .try_with(|rooms| {
            let mut kinds = rooms.try_borrow_mut().ok()?;
            let (_, list) = kinds.iter_mut().find(|(t, _)| *t == TypeId::of::<F>())?;
            list.downcast_mut::<Vec<Pin<Box<Option<F>>>>>()?.pop()
        })
        .ok()
        .flatten();
    match kept {
        Some(mut room) => {
            room.as_mut().set(Some(make()));
            room
        }
        None => Box::pin(Some(make())),
    }
}

/// Empties `room` (dropping its future first, outside any borrow of the pool: dropping a
/// future may keep rooms of its own) and keeps it for this thread's next `F`, if its list has
/// space.
pub(crate) fn keep_room<F: 'static>(mut room: Pin<Box<Option<F>>>) {
    room.set(None);
    let _ = ROOMS.try_with(|rooms| {
        let Ok(mut kinds) = rooms.try_borrow_mut() else {
            return;
        };
        let at = match kinds.iter().position(|(t, _)| *t == TypeId::of::<F>()) {
            Some(at) => at,
            None => {
                let list: Vec<Pin<Box<Option<F>>>> = Vec::new();
                kinds.push((TypeId::of::<F>(), Box::new(list)));
                kinds.len() - 1
            }
        };
        if let Some(list) = kinds[at].1.downcast_mut::<Vec<Pin<Box<Option<F>>>>>() {
            if list.len() < MAX_ROOMS {
                list.push(room);
            }
        }
    });
}

/// A future run in a room from its thread's pool (or a new room when none of its type is
/// free), given back to the pool when it completes or is dropped.
///
/// What the future is when it is not running costs its owner a pointer, not the future's
/// size: a connection's exchange (the handler's future, the response being written) is large,
/// and a connection spends most of its life between exchanges.
pub(crate) struct Pooled<F: 'static> {
    room: Option<Pin<Box<Option<F>>>>,
}

impl<F: Future + 'static> Pooled<F> {
    /// The future `make` returns, made in a free room of its type, or in a new one.
    pub(crate) fn new(make: impl FnOnce() -> F) -> Self {
        Pooled {
            room: Some(room_with(make)),
        }
    }
}

impl<F: Future + 'static> Future for Pooled<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let room = self.room.as_mut().expect("Pooled polled after completion");
        let fut = room.as_mut().as_pin_mut().expect("a Pooled room is full");
        let output = std::task::ready!(fut.poll(cx));
        if let Some(room) = self.room.take() {
            keep_room(room);
        }
        Poll::Ready(output)
    }
}

impl<F: 'static> Drop for Pooled<F> {
    fn drop(&mut self) {
        if let Some(room) = self.room.take() {
            keep_room(room);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address<F>(pooled: &Pooled<F>) -> *const u8 {
        let room: &Option<F> = pooled.room.as_ref().expect("a room");
        (room as *const Option<F>).cast()
    }

    #[test]
    fn a_future_runs_in_the_room_the_last_of_its_type_left() {
        async fn twice(n: u32) -> u32 {
            futures_lite::future::yield_now().await;
            n * 2
        }
        let first = Pooled::new(|| twice(1));
        let at = address(&first);
        assert_eq!(futures_lite::future::block_on(first), 2);
        let second = Pooled::new(|| twice(2));
        assert_eq!(address(&second), at);
        // A room in use is not handed out again.
        let third = Pooled::new(|| twice(3));
        assert_ne!(address(&third), at);
        assert_eq!(futures_lite::future::block_on(second), 4);
        assert_eq!(futures_lite::future::block_on(third), 6);
        // Another type of future gets a room of its own.
        let other = Pooled::new(|| async { "other" });
        assert_ne!(address(&other), at);
        drop(other);
    }

    #[test]
    fn a_dropped_future_is_dropped_and_its_room_kept() {
        async fn waiter(held: std::sync::Arc<()>) {
            std::future::pending::<()>().await;
            drop(held);
        }
        let flag = std::sync::Arc::new(());
        let pooled = Pooled::new(|| waiter(flag.clone()));
        let at = address(&pooled);
        drop(pooled);
        assert_eq!(std::sync::Arc::strong_count(&flag), 1);
        let again = Pooled::new(|| waiter(flag.clone()));
        assert_eq!(address(&again), at);
    }

    #[test]
    fn a_buffer_is_kept_only_within_bounds() {
        let pool = BufferPool::new(1, 64);
        let mut buf = pool.take();
        buf.extend_from_slice(b"hello");
        let at = buf.as_ptr();
        pool.give_back(buf);
        let again = pool.take();
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), at);
        pool.give_back(vec![0; 65]);
        assert_eq!(pool.take().capacity(), 0);
    }
}
