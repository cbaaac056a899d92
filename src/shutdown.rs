//! Graceful shutdown, in one place: the signal connections watch, and the drain that waits
//! for them.
//!
//! Shutdown begins with [`Signal::begin`]: idle keep-alive connections close at once, busy
//! ones after the response in progress (which says `Connection: close`). A server's accept
//! loop then stops accepting and waits on its [`Drain`]: each connection task it spawned holds
//! a [`Tracked`], and the drain completes when the last one is dropped, or, at the deadline,
//! cancels the connections still open. Nothing polls: the signal is a [`WakeAll`] (each
//! waiting connection a slot in one list), and the drain's waits end with a channel closing
//! (no message is ever sent on these channels).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_io::Timer;
use smol::channel::{self, Receiver, Recv, Sender};

use crate::wake_all::{Wait, WakeAll};

/// Why an accept loop stops: its signal (a graceful shutdown: the health check fails and the
/// drain delay is waited), or a successor took its listeners over (the port goes on being
/// served: neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Signal,
    HandedOff,
}

/// The moment shutdown begins: [`begin`](Self::begin) it here, watch for it with its
/// [`Watch`].
#[derive(Debug)]
pub(crate) struct Signal {
    watch: Watch,
}

impl Signal {
    pub(crate) fn new() -> Self {
        Signal {
            watch: Watch {
                event: Arc::default(),
            },
        }
    }

    /// Begins shutdown (once; later calls do nothing).
    pub(crate) fn begin(&self) {
        self.watch.event.wake_all();
    }

    /// What connections watch (clone it to keep one).
    pub(crate) fn watch(&self) -> &Watch {
        &self.watch
    }
}

/// A view of a [`Signal`]: whether shutdown has begun, and a wait for it.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    /// Happens at [`Signal::begin`].
    event: Arc<WakeAll>,
}

impl Watch {
    pub(crate) fn has_begun(&self) -> bool {
        self.event.is_done()
    }

    /// Completes when shutdown begins. A wait as long as a connection's costs a slot in a
    /// shared list, not an allocation of its own; polled again with the same waker, it is one
    /// atomic load.
    pub(crate) fn begun(&self) -> Wait<'_> {
        self.event.wait()
    }

    /// Completes when shutdown begins; owns what it waits on, so it can be kept and polled
    /// again and again (its slot stays registered between polls).
    #[cfg(feature = "websocket")]
    pub(crate) fn begun_owned(&self) -> impl Future<Output = ()> + Send + 'static {
        let event = self.event.clone();
        async move { event.wait().await }
    }
}

/// The connections one accept loop spawned, to wait for at shutdown.
#[derive(Debug)]
pub(crate) struct Drain {
    /// Each [`Tracked`] holds a clone; `idle` reads end of channel once all are dropped.
    tracker: Sender<()>,
    idle: Receiver<()>,
    /// Dropped when the drain gives up: every [`Tracked`] future is then cancelled.
    cancel: Sender<()>,
    cancelled: Receiver<()>,
}

impl Drain {
    pub(crate) fn new() -> Self {
        let (tracker, idle) = channel::bounded(1);
        let (cancel, cancelled) = channel::bounded(1);
        Drain {
            tracker,
            idle,
            cancel,
            cancelled,
        }
    }

    /// A token for one more connection: it counts until dropped.
    pub(crate) fn track(&self) -> Tracked {
        Tracked {
            _held: self.tracker.clone(),
            cancelled: self.cancelled.clone(),
        }
    }

    /// Connections tracked and not yet finished.
    pub(crate) fn open(&self) -> usize {
        self.tracker.sender_count() - 1
    }

    /// Waits until every tracked connection has finished, for at most `deadline`, then
    /// cancels the rest; returns how many were cancelled.
    pub(crate) async fn wait(self, deadline: Duration) -> usize {
        let Drain {
            tracker,
            idle,
            cancel,
            ..
        } = self;
        drop(tracker);
        let finished = async {
            // Never a message: this returns when the last tracker is dropped.
            let _ = idle.recv().await;
        };
        let timeout = async {
            Timer::after(deadline).await;
        };
        futures_lite::future::or(finished, timeout).await;
        let left = idle.sender_count();
        drop(cancel);
        left
    }
}

/// One connection counted by a [`Drain`].
#[derive(Debug)]
pub(crate) struct Tracked {
    _held: Sender<()>,
    cancelled: Receiver<()>,
}

impl Tracked {
    /// Completes when the drain cancels the connection: race the connection with it. (A
    /// method that took the connection's future and awaited it would hold that future twice
    /// in its own state, doubling every connection task.)
    pub(crate) fn cancelled(&self) -> Closed<'_> {
        Closed::new(&self.cancelled)
    }
}

/// Completes when `rx`'s channel is closed (no message is ever sent on it).
///
/// Cheap to poll over and over, as a connection does for every request: once its listener is
/// registered with a waker, a poll with the same waker is one atomic load. The listener is
/// polled again only when the channel has closed or the waker changed.
pub(crate) struct Closed<'a> {
    rx: &'a Receiver<()>,
    recv: Pin<Box<Recv<'a, ()>>>,
    registered: Option<Waker>,
}

impl<'a> Closed<'a> {
    fn new(rx: &'a Receiver<()>) -> Self {
        Closed {
            rx,
            recv: Box::pin(rx.recv()),
            registered: None,
        }
    }
}

impl Future for Closed<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let same_waker = this
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()));
        if same_waker && !this.rx.is_closed() {
            // The registered listener will wake this waker when the channel closes.
            return Poll::Pending;
        }
        match this.recv.as_mut().poll(cx) {
            Poll::Ready(_) => Poll::Ready(()),
            Poll::Pending => {
                this.registered = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
