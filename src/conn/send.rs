//! [`send_all`]: the one loop that writes a buffer through a transport, under the write
//! timeout.

use std::io;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::deadline::{Deadline, Timeout};
use crate::metrics::Metrics;
use crate::transport::Transport;

/// Where a response's bytes go: the transport, the write timeout, and the counters of the
/// bytes sent.
pub(crate) struct Out<'a, T> {
    pub(crate) transport: &'a T,
    pub(crate) timeout: Duration,
    pub(crate) metrics: &'a Metrics,
}

impl<T: Transport> Out<'_, T> {
    /// [`send_all`], counted as copied bytes.
    pub(crate) async fn send(&self, buf: &[u8]) -> io::Result<()> {
        send_all(self.transport, buf, self.timeout).await?;
        self.metrics.copied(buf.len());
        Ok(())
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

/// [`send_all`] through `poll_send`: a `Transport::poll_send` or a variant of it.
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
                    return deadline.poll_timeout(cx, timeout, Timeout::Write);
                }
            }
        }
        Poll::Ready(Ok(()))
    })
    .await
}
