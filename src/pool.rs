//! Per-thread pools of the rooms a busy connection needs and an idle one does not: byte
//! buffers ([`BufferPool`]) and the room of a future ([`Pooled`]).
//!
//! A connection between requests keeps none of them: it takes what it needs from its
//! thread's pool when a request arrives and gives it back when the response is written. In
//! the steady state the same few rooms go round, so a request allocates nothing for them,
//! while ten thousand idle connections cost ten thousand small tasks, not ten thousand sets
//! of rooms. A room may be taken on one thread and given back on another (a task moved); each
//! pool keeps at most a fixed number, so none grows without bound.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
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

/// Rooms of futures kept per thread and per kind of room, of whatever future type.
const MAX_ROOMS: usize = 64;

/// A room a [`RoomPool`] keeps: it holds one future type, and can say whether a fresh
/// future is of that type.
pub(crate) trait Refill {
    /// Moves the future out of `fresh` (an `Option` of some future type) into this room if it
    /// holds this room's type.
    fn refill(self: Pin<&mut Self>, fresh: &mut dyn Any) -> bool;
    /// Drops the future, if any.
    fn clear(self: Pin<&mut Self>);
}

/// Empty rooms of futures, each of one type, for a thread's next futures of those types: the
/// pool behind [`Pooled`] and behind [`FutureSlot`](crate::FutureSlot). Kept in a
/// `thread_local!`; the most recently given back last.
pub(crate) struct RoomPool<R: ?Sized> {
    rooms: RefCell<Vec<Pin<Box<R>>>>,
}

impl<R: ?Sized + Refill> RoomPool<R> {
    pub(crate) const fn new() -> Self {
        RoomPool {
            rooms: RefCell::new(Vec::new()),
        }
    }

    /// A kept room of `fresh`'s type, with `fresh` moved into it; `None` when there is none
    /// (`fresh` is then untouched).
    pub(crate) fn take(&self, fresh: &mut dyn Any) -> Option<Pin<Box<R>>> {
        let mut rooms = self.rooms.try_borrow_mut().ok()?;
        let at = rooms
            .iter_mut()
            .rposition(|room| room.as_mut().refill(fresh))?;
        Some(rooms.swap_remove(at))
    }

    /// Empties `room` (outside any borrow of the pool: dropping a future may give back rooms
    /// of its own) and keeps it, if there is space.
    pub(crate) fn give_back(&self, mut room: Pin<Box<R>>) {
        room.as_mut().clear();
        if let Ok(mut rooms) = self.rooms.try_borrow_mut() {
            if rooms.len() < MAX_ROOMS {
                rooms.push(room);
            }
        }
    }
}

thread_local! {
    /// The rooms of [`Pooled`] futures.
    static ROOMS: RoomPool<dyn Room> = const { RoomPool::new() };
}

/// A future run in a room from its thread's pool (or a new room when none of its type is
/// free), given back to the pool when it completes or is dropped.
///
/// What the future is when it is not running costs its owner a pointer, not the future's
/// size: a connection's exchange (the handler's future, the response being written) is large,
/// and a connection spends most of its life between exchanges.
pub(crate) struct Pooled<F> {
    room: Option<Pin<Box<dyn Room>>>,
    _future: PhantomData<fn() -> F>,
}

impl<F> Pooled<F>
where
    F: Future + Send + 'static,
    F::Output: 'static,
{
    /// `fut`, moved into a free room of its type, or into a new one.
    pub(crate) fn new(fut: F) -> Self {
        let mut fresh = Some(fut);
        let found = ROOMS
            .try_with(|rooms| rooms.take(&mut fresh))
            .ok()
            .flatten();
        let room = found.unwrap_or_else(|| Box::pin(fresh));
        Pooled {
            room: Some(room),
            _future: PhantomData,
        }
    }
}

impl<F> Future for Pooled<F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let room = self.room.as_mut().expect("Pooled polled after completion");
        let mut output: Option<F::Output> = None;
        std::task::ready!(room.as_mut().poll_into(cx, &mut output));
        if let Some(room) = self.room.take() {
            give_back(room);
        }
        Poll::Ready(output.expect("a room that completed gives its output"))
    }
}

impl<F> Drop for Pooled<F> {
    fn drop(&mut self) {
        if let Some(room) = self.room.take() {
            give_back(room);
        }
    }
}

/// Keeps `room`, emptied, for the next future of its type on this thread.
fn give_back(room: Pin<Box<dyn Room>>) {
    let _ = ROOMS.try_with(|rooms| rooms.give_back(room));
}

/// What a [`Pooled`] keeps its future in: an `Option` of the future's type, behind one
/// allocation; `None` while in the pool.
trait Room: Refill + Send {
    /// Polls the future; once it completes, its output goes into `output` (an `Option` of
    /// the output's type) and the room is empty.
    fn poll_into(self: Pin<&mut Self>, cx: &mut Context<'_>, output: &mut dyn Any) -> Poll<()>;
}

/// Every room is an `Option` of its future's type.
impl<F: 'static> Refill for Option<F> {
    fn refill(mut self: Pin<&mut Self>, fresh: &mut dyn Any) -> bool {
        match fresh.downcast_mut::<Option<F>>() {
            Some(fresh) => {
                self.set(fresh.take());
                true
            }
            None => false,
        }
    }

    fn clear(mut self: Pin<&mut Self>) {
        self.set(None);
    }
}

impl<F> Room for Option<F>
where
    F: Future + Send + 'static,
    F::Output: 'static,
{
    fn poll_into(mut self: Pin<&mut Self>, cx: &mut Context<'_>, output: &mut dyn Any) -> Poll<()> {
        let fut = self
            .as_mut()
            .as_pin_mut()
            .expect("Pooled room polled empty");
        let done = std::task::ready!(fut.poll(cx));
        self.set(None);
        if let Some(output) = output.downcast_mut::<Option<F::Output>>() {
            *output = Some(done);
        }
        Poll::Ready(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address<F>(pooled: &Pooled<F>) -> *const u8 {
        let room: &dyn Room = &**pooled.room.as_ref().expect("a room");
        (room as *const dyn Room).cast()
    }

    #[test]
    fn a_future_runs_in_the_room_the_last_of_its_type_left() {
        async fn twice(n: u32) -> u32 {
            futures_lite::future::yield_now().await;
            n * 2
        }
        let first = Pooled::new(twice(1));
        let at = address(&first);
        assert_eq!(futures_lite::future::block_on(first), 2);
        let second = Pooled::new(twice(2));
        assert_eq!(address(&second), at);
        // A room in use is not handed out again.
        let third = Pooled::new(twice(3));
        assert_ne!(address(&third), at);
        assert_eq!(futures_lite::future::block_on(second), 4);
        assert_eq!(futures_lite::future::block_on(third), 6);
        // Another type of future gets a room of its own.
        let other = Pooled::new(async { "other" });
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
        let pooled = Pooled::new(waiter(flag.clone()));
        let at = address(&pooled);
        drop(pooled);
        assert_eq!(std::sync::Arc::strong_count(&flag), 1);
        let again = Pooled::new(waiter(flag.clone()));
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
