//! Sending a [`FileBody`] after its response head: chunks copied through the write buffer
//! (`pread`, then `send`), or, with the `sendfile` feature, `sendfile` on threads where it is
//! allowed (`zero_copy.rs` says why that is safe).
//!
//! Both loops write only through the socket module. A client that goes away fails the next
//! `send` or `sendfile` with `EPIPE`/`ECONNRESET`, the connection ends, and the file and the
//! buffer are dropped at once.

use std::io;

use super::send::Out;
use crate::fs::body::{FileBody, shrank};
use crate::transport::Transport;

/// Sends `body` after the response head already in `out`, reusing `out` throughout.
pub(crate) async fn send_file<T: Transport>(
    w: &Out<'_, T>,
    out: &mut Vec<u8>,
    mut body: FileBody,
) -> io::Result<()> {
    if body.len > body.chunk as u64 && sendfile::send(w, out, &mut body).await? {
        return Ok(());
    }
    send_copied(w, out, body).await
}

/// The range in chunks read into `out` (after the head, for the first) and sent from there.
async fn send_copied<T: Transport>(
    w: &Out<'_, T>,
    out: &mut Vec<u8>,
    body: FileBody,
) -> io::Result<()> {
    let head = out.len();
    let first = usize::try_from(body.len)
        .unwrap_or(usize::MAX)
        .min(body.chunk);
    out.resize(head + first, 0);
    let (mut pos, mut left, mut filled) = (body.offset, body.len, head);
    loop {
        while left > 0 && filled < out.len() {
            let want = (out.len() - filled).min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = body.read_at(&mut out[filled..filled + want], pos)?;
            if n == 0 {
                return Err(shrank());
            }
            (filled, pos, left) = (filled + n, pos + n as u64, left - n as u64);
        }
        w.send(&out[..filled]).await?;
        filled = 0;
        if left == 0 {
            return Ok(());
        }
    }
}

#[cfg(all(feature = "sendfile", target_os = "linux"))]
mod sendfile {
    use std::io;
    use std::task::Poll;

    use super::super::send::{Out, send_all_with};
    use crate::deadline::{Deadline, Timeout};
    use crate::fs::body::{FileBody, shrank};
    use crate::socket::{SendFile, TcpTransport};
    use crate::transport::Transport;

    /// At most this much per `sendfile` call, so one response cannot hold the thread for long.
    const MAX_PER_CALL: usize = 1 << 20;

    /// Sends the head in `out`, then the range of `body`, with `sendfile` where that is
    /// allowed: a TCP transport on a thread that holds SIGPIPE blocked. The head goes with
    /// `MSG_MORE`, so it shares segments with the file.
    ///
    /// Returns `false` if it did not send everything: `body` then says what is left, and
    /// `out` holds the head still to send (or is empty if it went); the caller copies the rest.
    pub(super) async fn send<T: Transport>(
        w: &Out<'_, T>,
        out: &mut Vec<u8>,
        body: &mut FileBody,
    ) -> io::Result<bool> {
        let timeout = w.timeout;
        let Some(tcp) = (w.transport as &dyn std::any::Any).downcast_ref::<TcpTransport>() else {
            return Ok(false);
        };
        // Checked before the head too, so that a thread that may not `sendfile` sends the
        // head and the first chunk together.
        if !crate::zero_copy::allowed_here() {
            return Ok(false);
        }
        send_all_with(out, timeout, |cx, head| tcp.poll_send_more(cx, head)).await?;
        w.metrics.copied(out.len());
        out.clear();
        let mut deadline = Deadline::new();
        std::future::poll_fn(|cx| {
            while body.len > 0 {
                let count = usize::try_from(body.len)
                    .unwrap_or(usize::MAX)
                    .min(MAX_PER_CALL);
                match tcp.poll_send_file(cx, &body.file, &mut body.offset, count) {
                    Poll::Ready(Ok(SendFile::Sent(0))) => return Poll::Ready(Err(shrank())),
                    Poll::Ready(Ok(SendFile::Sent(n))) => {
                        w.metrics.zero_copy(n);
                        body.len -= n as u64;
                        deadline.reset();
                    }
                    Poll::Ready(Ok(SendFile::NotHere)) => return Poll::Ready(Ok(false)),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        return deadline.poll_timeout(cx, timeout, Timeout::Write);
                    }
                }
            }
            Poll::Ready(Ok(true))
        })
        .await
    }
}

/// Without the `sendfile` feature (or off Linux) files are always copied.
#[cfg(not(all(feature = "sendfile", target_os = "linux")))]
mod sendfile {
    use std::io;

    use super::super::send::Out;
    use crate::fs::body::FileBody;
    use crate::transport::Transport;

    pub(super) async fn send<T: Transport>(
        _w: &Out<'_, T>,
        _out: &mut Vec<u8>,
        _body: &mut FileBody,
    ) -> io::Result<bool> {
        Ok(false)
    }
}
