//! The byte pipe a connection runs over.
//!
//! A connection reads request bytes with [`Transport::poll_recv`] and writes every response
//! byte with [`Transport::poll_send`]. For TCP the only implementation of the write side is
//! in the socket module, which sends with `MSG_NOSIGNAL`; [`crate::memory`] implements the
//! same trait in memory, so whole requests can run through a [`Router`](crate::Router) with no
//! port.

use std::future::Future;
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
    mut buf: &[u8],
    timeout: Duration,
) -> io::Result<()> {
    let mut timer: Option<Timer> = None;
    std::future::poll_fn(|cx| {
        while !buf.is_empty() {
            match transport.poll_send(cx, buf) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    buf = &buf[n..];
                    timer = None;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    return poll_deadline(&mut timer, timeout, cx, "write made no progress");
                }
            }
        }
        Poll::Ready(Ok(()))
    })
    .await
}

/// A connection's reusable timeout for waiting on requests.
///
/// Moving a reactor timer on every request costs a lock and a tree update each time, so the
/// timer is moved only when the new deadline is *earlier* than where it is armed. When it
/// fires before the current deadline (which moved later since it was armed), it is re-armed.
/// A keep-alive connection answering many requests therefore touches the timer about once
/// per timeout period, not once per request.
pub(crate) struct Deadline {
    timer: Timer,
    armed: Option<Instant>,
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

    /// Starts a wait that times out `timeout` from now.
    pub(crate) fn start(&mut self, timeout: Duration) {
        self.due = Instant::now().checked_add(timeout);
    }

    /// `Ready` once the current wait's deadline has passed.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(due) = self.due else {
            return Poll::Pending;
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
}

/// Polls a lazily armed timer: `Pending` until it fires, then a `TimedOut` error.
///
/// The timer is created only when an operation would block, so a request whose bytes are
/// already there never touches the reactor's timer list.
pub(crate) fn poll_deadline<T>(
    timer: &mut Option<Timer>,
    timeout: Duration,
    cx: &mut Context<'_>,
    what: &'static str,
) -> Poll<io::Result<T>> {
    let timer = timer.get_or_insert_with(|| match Instant::now().checked_add(timeout) {
        Some(at) => Timer::at(at),
        None => Timer::never(),
    });
    match Pin::new(timer).poll(cx) {
        Poll::Ready(_) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what))),
        Poll::Pending => Poll::Pending,
    }
}
