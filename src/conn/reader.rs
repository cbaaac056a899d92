//! The request body as the handler reads it ([`BodyReader`]), and [`drain`]ing what it left
//! unread so the connection can carry the next request.
//!
//! Each request is a new *generation*: a [`BodyReader`] that outlives its request (moved into
//! a spawned task, say) reads end of stream, never the next request's bytes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::AsyncRead;

use super::body::BodyState;
use super::shared::Shared;
use crate::deadline::{Deadline, Timeout};
use crate::metrics::Metrics;
use crate::transport::Transport;

/// Reads and discards the rest of the current body, up to `limit` bytes of input.
/// `Ok(true)`: the body is done and the connection can carry another request.
pub(crate) async fn drain<T: Transport>(
    shared: &Shared<T>,
    limit: u64,
    timeout: Duration,
) -> io::Result<bool> {
    let mut deadline = Deadline::new();
    let start = shared.lock().body.wire;
    std::future::poll_fn(|cx| {
        let mut guard = shared.lock();
        let input = &mut *guard;
        let mut scratch = [0u8; 2048];
        loop {
            // Counted on the wire, framing included: chunk extensions and trailers are not a
            // way to make the server read without bound.
            if input.body.wire - start > limit {
                return Poll::Ready(Ok(false));
            }
            match input
                .body
                .poll_read(cx, &mut input.buffer, &shared.transport, &mut scratch)
            {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(true)),
                Poll::Ready(Ok(_)) => deadline.reset(),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    return deadline.poll_timeout(cx, timeout, Timeout::Body);
                }
            }
        }
    })
    .await
}

/// A request body as the handler sees it: streams bytes from the connection on demand.
pub(crate) struct BodyReader<T> {
    shared: Arc<Shared<T>>,
    generation: u64,
    timeout: Duration,
    deadline: Deadline,
    /// Counts a body that stalls past the timeout.
    metrics: Metrics,
}

impl<T> BodyReader<T> {
    pub(crate) fn new(
        shared: Arc<Shared<T>>,
        generation: u64,
        timeout: Duration,
        metrics: Metrics,
    ) -> Self {
        BodyReader {
            shared,
            generation,
            timeout,
            deadline: Deadline::new(),
            metrics,
        }
    }
}

impl<T: Transport> AsyncRead for BodyReader<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let mut guard = this.shared.lock();
        let input = &mut *guard;
        if input.body.generation != this.generation {
            return Poll::Ready(Ok(0));
        }
        let transport = &this.shared.transport;
        let result = match input.body.poll_continue(cx, transport) {
            Poll::Ready(Ok(())) => input.body.poll_read(cx, &mut input.buffer, transport, out),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        };
        match result {
            Poll::Pending => {
                let timed_out = this.deadline.poll_timeout(cx, this.timeout, Timeout::Body);
                if timed_out.is_ready() {
                    // The rest of the body may never come: the connection cannot be reused.
                    input.body.state = BodyState::Broken;
                    this.metrics.body_timeout();
                }
                timed_out
            }
            ready => {
                this.deadline.reset();
                ready
            }
        }
    }
}
