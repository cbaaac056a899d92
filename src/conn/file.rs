//! Sending a [`FileBody`] after its response head, segment by segment: bytes (the boundaries
//! and part headers of a multipart body) are appended to the write buffer; file ranges are
//! copied through it in chunks (`pread`, then `send`), or, with the `sendfile` feature, sent
//! with `sendfile` on threads where it is allowed (`zero_copy.rs` says why that is safe).
//!
//! Both loops write only through the socket module. A client that goes away fails the next
//! `send` or `sendfile` with `EPIPE`/`ECONNRESET`, the connection ends, and the file and the
//! buffer are dropped at once.

use std::io;

use super::send::Out;
use crate::fs::body::{FileBody, shrank};
use crate::fs::multipart::Segment;
use crate::transport::Transport;

/// What of a file range is left to send.
#[derive(Debug, Clone, Copy)]
struct Span {
    offset: u64,
    len: u64,
}

/// Sends `body` after the response head already in `out`, reusing `out` throughout. What is
/// in `out` goes out with the next segment's bytes: the head with the first chunk of the
/// file, a part's head with its range.
pub(crate) async fn send_file<T: Transport>(
    w: &Out<'_, T>,
    out: &mut Vec<u8>,
    body: FileBody,
) -> io::Result<()> {
    for segment in body.segments() {
        match segment {
            Segment::Bytes(bytes) => {
                out.extend_from_slice(bytes);
                if out.len() >= body.chunk {
                    w.send(out).await?;
                    out.clear();
                }
            }
            Segment::File { offset, len } => {
                let mut span = Span { offset, len };
                if len > body.chunk as u64 && sendfile::send(w, out, &body, &mut span).await? {
                    continue;
                }
                send_copied(w, out, &body, span).await?;
            }
        }
    }
    if !out.is_empty() {
        w.send(out).await?;
        out.clear();
    }
    Ok(())
}

/// The range in chunks read into `out` (after what it holds, for the first) and sent from
/// there; the last chunk is left in `out` for what follows (or the final send).
async fn send_copied<T: Transport>(
    w: &Out<'_, T>,
    out: &mut Vec<u8>,
    body: &FileBody,
    span: Span,
) -> io::Result<()> {
    let head = out.len();
    let first = usize::try_from(span.len)
        .unwrap_or(usize::MAX)
        .min(body.chunk);
    if span.len <= body.chunk as u64 && body.reaches_end(span.offset, span.len) {
        return read_to_end_onto(out, body, span);
    }
    out.resize(head + first, 0);
    let (mut pos, mut left, mut filled) = (span.offset, span.len, head);
    loop {
        while left > 0 && filled < out.len() {
            let want = (out.len() - filled).min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = body.read_at(&mut out[filled..filled + want], pos)?;
            if n == 0 {
                return Err(shrank());
            }
            (filled, pos, left) = (filled + n, pos + n as u64, left - n as u64);
        }
        if left == 0 {
            out.truncate(filled);
            return Ok(());
        }
        w.send(&out[..filled]).await?;
        filled = 0;
    }
}

/// A range that fits in one chunk and ends where the file ends (a small file, the usual
/// case), read onto the end of `out` without zeroing its room first: `pread` cannot give more
/// than the file holds. Should the file have grown since, what lies past the range is cut off;
/// should it have shrunk, the connection ends (`shrank`). Left in `out` for what follows.
fn read_to_end_onto(out: &mut Vec<u8>, body: &FileBody, span: Span) -> io::Result<()> {
    let (mut pos, mut left) = (span.offset, span.len as usize);
    out.reserve(left);
    while left > 0 {
        let before = out.len();
        let n = body.read_at_onto(out, pos)?;
        if n == 0 {
            return Err(shrank());
        }
        let n = n.min(left);
        out.truncate(before + n);
        (pos, left) = (pos + n as u64, left - n);
        if left > 0 {
            out.reserve(left);
        }
    }
    Ok(())
}

#[cfg(all(feature = "sendfile", target_os = "linux"))]
mod sendfile {
    use std::io;
    use std::task::Poll;

    use super::super::send::{Out, send_all_with};
    use super::Span;
    use crate::deadline::{Deadline, Timeout};
    use crate::fs::body::{FileBody, shrank};
    use crate::socket::{SendFile, TcpTransport};
    use crate::transport::Transport;

    /// At most this much per `sendfile` call, so one response cannot hold the thread for long.
    const MAX_PER_CALL: usize = 1 << 20;

    /// Sends what is in `out` (the head), then `span` of `body`'s file, with `sendfile` where
    /// that is allowed: a TCP transport on a thread that holds SIGPIPE blocked. The head goes
    /// with `MSG_MORE`, so it shares segments with the file.
    ///
    /// Returns `false` if it did not send everything: `span` then says what is left, and
    /// `out` holds the head still to send (or is empty if it went); the caller copies the rest.
    pub(super) async fn send<T: Transport>(
        w: &Out<'_, T>,
        out: &mut Vec<u8>,
        body: &FileBody,
        span: &mut Span,
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
            while span.len > 0 {
                let count = usize::try_from(span.len)
                    .unwrap_or(usize::MAX)
                    .min(MAX_PER_CALL);
                match tcp.poll_send_file(cx, &body.file, &mut span.offset, count) {
                    Poll::Ready(Ok(SendFile::Sent(0))) => return Poll::Ready(Err(shrank())),
                    Poll::Ready(Ok(SendFile::Sent(n))) => {
                        w.metrics.zero_copy(n);
                        span.len -= n as u64;
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
    use super::Span;
    use crate::fs::body::FileBody;
    use crate::transport::Transport;

    pub(super) async fn send<T: Transport>(
        _w: &Out<'_, T>,
        _out: &mut Vec<u8>,
        _body: &FileBody,
        _span: &mut Span,
    ) -> io::Result<bool> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(bytes: &[u8], tag: &str) -> (std::fs::File, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("smolweb-onto-{tag}-{}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        (std::fs::File::open(&path).unwrap(), path)
    }

    #[test]
    fn a_small_range_at_the_end_is_read_exactly_even_if_the_file_changed() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        // As made: the whole file after a head already in the buffer.
        let (file, path) = file_with(&bytes, "exact");
        let body = FileBody::range(file, 5000, (0, 5000), 64 * 1024);
        let mut out = b"HEAD".to_vec();
        read_to_end_onto(
            &mut out,
            &body,
            Span {
                offset: 0,
                len: 5000,
            },
        )
        .unwrap();
        assert_eq!(&out[..4], b"HEAD");
        assert_eq!(&out[4..], &bytes[..]);
        // The file grew after the response was made (5,000 bytes then, more now): nothing
        // past the announced range is sent.
        let (file, grown) = file_with(&bytes, "grown");
        let body = FileBody::range(file, 3000, (1000, 2000), 64 * 1024);
        let mut out = Vec::new();
        read_to_end_onto(
            &mut out,
            &body,
            Span {
                offset: 1000,
                len: 2000,
            },
        )
        .unwrap();
        assert_eq!(out, &bytes[1000..3000]);
        // It shrank: an error, not a short body.
        let (file, shrunk) = file_with(&bytes[..100], "shrunk");
        let body = FileBody::range(file, 5000, (0, 5000), 64 * 1024);
        let err = read_to_end_onto(
            &mut Vec::new(),
            &body,
            Span {
                offset: 0,
                len: 5000,
            },
        );
        assert_eq!(err.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        for p in [path, grown, shrunk] {
            let _ = std::fs::remove_file(p);
        }
    }
}
