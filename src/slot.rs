//! [`FutureSlot`]: room for a handler's future, used again for the next request.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_types::Response;

use crate::pool;
use crate::response::IntoResponse;

/// Room for a handler's future that is used again for the next request.
///
/// [`Handler::call_in`](crate::Handler::call_in) puts a future in the slot; awaiting the slot
/// (it is a future itself) runs it to its response and leaves the slot empty, with its
/// allocation kept. The next [`put`](Self::put) of a future of the same type moves it into
/// that room; a future of another type replaces the room. A response known at once is put as
/// `std::future::ready(response)`.
///
/// A slot dropped gives its room to its thread, for the next slot's future of that type: a
/// slot made per request allocates nothing for its room in the steady state either.
///
/// ```
/// use smolweb::{BoxFuture, FutureSlot, Handler, IntoResponse, Request, Response};
///
/// /// Answers with a fixed text, without boxing a future per request.
/// struct Fixed(&'static str);
///
/// impl Handler for Fixed {
///     fn call(&self, _req: Request) -> BoxFuture<Response> {
///         Box::pin(std::future::ready(self.0.into_response()))
///     }
///
///     fn call_in(&self, _req: Request, slot: &mut FutureSlot) {
///         slot.put(std::future::ready(self.0.into_response()));
///     }
/// }
///
/// let mut slot = FutureSlot::new();
/// let req = Request::from_http(smolweb::http::Request::new(
///     smolweb::Method::Get,
///     smolweb::Url::parse("http://localhost/")?,
/// ));
/// Fixed("hi").call_in(req, &mut slot);
/// let res = smol::block_on(&mut slot);
/// assert_eq!(res.len(), Some(2));
/// # Ok::<(), smolweb::http::url::ParseError>(())
/// ```
#[derive(Default)]
pub struct FutureSlot {
    room: Option<Pin<Box<dyn Room>>>,
}

impl FutureSlot {
    /// An empty slot; it allocates on its first [`put`](Self::put).
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `fut` in the slot, in the room the last future left if it was of the same type.
    /// A future still in the slot is dropped.
    pub fn put<F>(&mut self, fut: F)
    where
        F: Future<Output: IntoResponse> + Send + 'static,
    {
        self.put_with(|| fut);
    }

    /// Puts the future `make` returns in the slot, as [`put`](Self::put) does, making it
    /// in its room rather than moving it there: a future's move copies all of its size.
    ///
    /// ```
    /// use smolweb::{FutureSlot, IntoResponse};
    ///
    /// async fn hello() -> &'static str {
    ///     "hi"
    /// }
    ///
    /// let mut slot = FutureSlot::new();
    /// slot.put_with(hello);
    /// assert_eq!(smol::block_on(&mut slot).len(), Some(2));
    /// ```
    pub fn put_with<F>(&mut self, make: impl FnOnce() -> F)
    where
        F: Future<Output: IntoResponse> + Send + 'static,
    {
        // The room in use goes to the thread's pool (its future dropped) and comes straight
        // back if it is of `F`'s type: the pool lists rooms by type, so no downcast of a
        // pinned room is needed.
        if let Some(old) = self.room.take() {
            old.keep();
        }
        self.room = Some(pool::room_with(make));
    }

    /// Drops whatever the slot holds, keeping its room.
    pub fn clear(&mut self) {
        if let Some(room) = &mut self.room {
            room.as_mut().clear();
        }
    }
}

impl Drop for FutureSlot {
    fn drop(&mut self) {
        if let Some(room) = self.room.take() {
            room.keep();
        }
    }
}

impl std::fmt::Debug for FutureSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FutureSlot")
            .field("room", &self.room.is_some())
            .finish()
    }
}

impl Future for FutureSlot {
    type Output = Response;

    /// The response of the future put last.
    ///
    /// # Panics
    ///
    /// When the slot is empty: nothing was put since its last response, as any future
    /// polled again after completing may.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let room = self.room.as_mut().expect("FutureSlot polled while empty");
        let res = std::task::ready!(room.as_mut().poll_response(cx));
        room.as_mut().clear();
        Poll::Ready(res)
    }
}

/// What a [`FutureSlot`] keeps its future in: an `Option` of the future's type, behind the
/// slot's one allocation. The future's output becomes a [`Response`] as it completes, so the
/// room holds only the future (wrapping it in an `async` block that converts would double its
/// size: the block keeps both the future it was given and the one it awaits).
trait Room: Send {
    /// # Panics
    ///
    /// When the room is empty.
    fn poll_response(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response>;
    /// Drops the future, if any.
    fn clear(self: Pin<&mut Self>);
    /// Empties the room and gives it to this thread's pool, for the next future of its type.
    fn keep(self: Pin<Box<Self>>);
}

impl<F> Room for Option<F>
where
    F: Future<Output: IntoResponse> + Send + 'static,
{
    fn poll_response(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        self.as_pin_mut()
            .expect("FutureSlot polled while empty")
            .poll(cx)
            .map(IntoResponse::into_response)
    }

    fn clear(mut self: Pin<&mut Self>) {
        self.set(None);
    }

    fn keep(self: Pin<Box<Self>>) {
        pool::keep_room(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_types::StatusCode;
    use std::sync::Arc;

    fn room_at(slot: &FutureSlot) -> *const u8 {
        let room: &dyn Room = &**slot.room.as_ref().expect("a room");
        (room as *const dyn Room).cast()
    }

    #[test]
    fn a_future_of_the_same_type_goes_in_the_same_room() {
        async fn answer(status: StatusCode) -> Response {
            crate::template::response(status)
        }
        let mut slot = FutureSlot::new();
        slot.put(answer(StatusCode::Ok));
        let at = room_at(&slot);
        assert_eq!(smol::block_on(&mut slot).status(), StatusCode::Ok);
        slot.put(answer(StatusCode::Created));
        assert_eq!(room_at(&slot), at);
        assert_eq!(smol::block_on(&mut slot).status(), StatusCode::Created);

        // A ready response is a future too.
        let ready = |status| std::future::ready(crate::template::response(status));
        slot.put(ready(StatusCode::Accepted));
        assert_eq!(smol::block_on(&mut slot).status(), StatusCode::Accepted);
        let ready_at = room_at(&slot);
        slot.put(ready(StatusCode::NoContent));
        assert_eq!(room_at(&slot), ready_at);
        assert_eq!(smol::block_on(&mut slot).status(), StatusCode::NoContent);

        // Another type of future gets a room of its own.
        slot.put(async { crate::template::response(StatusCode::Gone) });
        assert_eq!(smol::block_on(&mut slot).status(), StatusCode::Gone);
    }

    #[test]
    fn a_dropped_slot_leaves_its_room_to_the_next_slot_on_its_thread() {
        async fn answer(status: StatusCode) -> Response {
            crate::template::response(status)
        }
        let mut slot = FutureSlot::new();
        slot.put(answer(StatusCode::Ok));
        let at = room_at(&slot);
        drop(slot);
        let mut next = FutureSlot::new();
        next.put(answer(StatusCode::Created));
        assert_eq!(room_at(&next), at);
        assert_eq!(smol::block_on(&mut next).status(), StatusCode::Created);
    }

    #[test]
    fn a_future_put_over_an_unfinished_one_drops_it() {
        let flag = Arc::new(());
        let held = flag.clone();
        let mut slot = FutureSlot::new();
        slot.put(async move {
            std::future::pending::<()>().await;
            drop(held);
            crate::template::response(StatusCode::Ok)
        });
        assert!(
            futures_lite::future::block_on(futures_lite::future::poll_once(&mut slot)).is_none()
        );
        assert_eq!(Arc::strong_count(&flag), 2);
        slot.put(std::future::ready(crate::template::response(
            StatusCode::Ok,
        )));
        assert_eq!(Arc::strong_count(&flag), 1);
    }

    #[test]
    #[should_panic(expected = "FutureSlot polled while empty")]
    fn an_empty_slot_panics_when_polled() {
        let mut slot = FutureSlot::new();
        slot.put(std::future::ready(crate::template::response(
            StatusCode::Ok,
        )));
        smol::block_on(&mut slot);
        smol::block_on(&mut slot);
    }
}
