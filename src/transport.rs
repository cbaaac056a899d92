//! The byte pipe a connection runs over.
//!
//! A connection reads request bytes with [`Transport::poll_recv`] and writes every response
//! byte with [`Transport::poll_send`]. For TCP the only implementation of the write side is
//! in the socket module, which sends with `MSG_NOSIGNAL`; [`crate::memory`] implements the
//! same trait in memory, so whole requests can run through a [`Router`](crate::Router) with no
//! port.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;

/// A bidirectional byte stream that a connection is served over.
///
/// Both methods take `&self`: a request body being read by a handler and the connection
/// answering `100 Continue` share one transport.
///
/// # Example
///
/// ```
/// use smolweb::memory;
/// use smolweb::Transport;
///
/// let (client, server) = memory::pair();
/// // `server` can be passed to `Service::serve_connection`.
/// assert!(server.peer_addr().is_none());
/// # drop(client);
/// ```
pub trait Transport: Send + Sync + 'static {
    /// Reads bytes into `buf`; `Ok(0)` means the peer finished sending.
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;

    /// Writes some bytes of `buf`, returning how many were taken.
    ///
    /// Implementations must never raise a signal when the peer has gone away: they return an
    /// error (`BrokenPipe`, `ConnectionReset`, ...) instead.
    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;

    /// Ends the sending direction (TCP: `shutdown(SHUT_WR)`): the peer reads end of stream
    /// after what was sent, while this side can still read.
    fn shutdown_write(&self) -> io::Result<()> {
        Ok(())
    }

    /// The address of the peer, if the transport has one.
    fn peer_addr(&self) -> Option<SocketAddr> {
        None
    }
}

/// Writes all of `buf`, failing with `TimedOut` when no byte was taken for `timeout`.
pub(crate) async fn send_all<T: Transport>(
    transport: &T,
    buf: &[u8],
    timeout: Duration,
) -> io::Result<()> {
    send_all_with(buf, timeout, |cx, buf| transport.poll_send(cx, buf)).await
}

/// [`send_all`] through `poll_send`, a `Transport::poll_send` or a variant of it.
pub(crate) async fn send_all_with(
    mut buf: &[u8],
    timeout: Duration,
    mut poll_send: impl FnMut(&mut Context<'_>, &[u8]) -> Poll<io::Result<usize>>,
) -> io::Result<()> {
    let mut deadline = Deadline::new();
    std::future::poll_fn(|cx| {
        while !buf.is_empty() {
            match poll_send(cx, buf) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    buf = &buf[n..];
                    deadline.reset();
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    return deadline.poll_timeout(cx, timeout, "write made no progress");
                }
            }
        }
        Poll::Ready(Ok(()))
    })
    .await
}

/// A timeout for one kind of waiting: a request head, a body, a write making progress.
///
/// The clock starts at the first wait after [`reset`](Self::reset) (so an operation that never
/// has to wait never reads the clock), and is reset by progress. The reactor timer behind it
/// is kept and moved only when the deadline must come *earlier* than where it is armed; when
/// it fires before the current deadline (which moved later since), it is re-armed. A
/// keep-alive connection answering many requests therefore touches the timer about once per
/// timeout period, not once per request.
pub(crate) struct Deadline {
    timer: Timer,
    armed: Option<Instant>,
    /// When the current wait times out; `None` until the clock starts.
    due: Option<Instant>,
}

impl Deadline {
    pub(crate) fn new() -> Self {
        Deadline {
            timer: Timer::never(),
            armed: None,
            due: None,
        }
    }

    /// Progress was made (or a new wait begins): the next wait starts a new clock.
    pub(crate) fn reset(&mut self) {
        self.due = None;
    }

    /// `Pending` until the current wait has lasted `timeout`, then `Ready`.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>, timeout: Duration) -> Poll<()> {
        let due = match self.due {
            Some(due) => due,
            None => match Instant::now().checked_add(timeout) {
                Some(due) => *self.due.insert(due),
                // Too far in the future to represent: never.
                None => return Poll::Pending,
            },
        };
        loop {
            if self.armed.is_none_or(|at| at > due) {
                self.timer.set_at(due);
                self.armed = Some(due);
            }
            match futures_lite::Stream::poll_next(Pin::new(&mut self.timer), cx) {
                Poll::Pending => return Poll::Pending,
                _ => {
                    self.armed = None;
                    if Instant::now() >= due {
                        return Poll::Ready(());
                    }
                }
            }
        }
    }

    /// [`poll_expired`](Self::poll_expired) as a `TimedOut` error saying `what` timed out.
    pub(crate) fn poll_timeout<T>(
        &mut self,
        cx: &mut Context<'_>,
        timeout: Duration,
        what: &'static str,
    ) -> Poll<io::Result<T>> {
        match self.poll_expired(cx, timeout) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what))),
            Poll::Pending => Poll::Pending,
        }
    }
}
