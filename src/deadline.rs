//! [`Deadline`]: the timer behind every timeout a connection applies (and a WebSocket's idle
//! and close timeouts).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;

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
    /// When the timeout being waited for began: its due time less `timeout`, once a poll set
    /// it.
    pub(crate) fn began(&self, timeout: Duration) -> Option<Instant> {
        self.due?.checked_sub(timeout)
    }

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

    /// [`poll_expired`](Self::poll_expired) as a `TimedOut` error saying which timeout.
    pub(crate) fn poll_timeout<T>(
        &mut self,
        cx: &mut Context<'_>,
        timeout: Duration,
        what: Timeout,
    ) -> Poll<io::Result<T>> {
        match self.poll_expired(cx, timeout) {
            Poll::Ready(()) => Poll::Ready(Err(what.error())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Which timeout ended something: carried by its `TimedOut` error, so that it can be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timeout {
    /// A request head took too long (`Config::header_timeout`).
    Header,
    /// A request body stalled (`Config::body_timeout`).
    Body,
    /// A write made no progress (`Config::write_timeout`).
    Write,
    /// Closing: the client kept sending past the linger.
    Linger,
}

impl Timeout {
    /// The `TimedOut` error for this timeout.
    pub(crate) fn error(self) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, self)
    }

    /// The timeout behind `e`, if one of these made it.
    pub(crate) fn of(e: &io::Error) -> Option<Timeout> {
        e.get_ref()?.downcast_ref::<Timeout>().copied()
    }
}

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Timeout::Header => "request head timeout",
            Timeout::Body => "request body idle timeout",
            Timeout::Write => "write made no progress",
            Timeout::Linger => "linger",
        })
    }
}

impl std::error::Error for Timeout {}
