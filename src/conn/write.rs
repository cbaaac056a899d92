//! Writing responses: the head encoded into the connection's write buffer, then the body —
//! copied behind the head for a known length (a small response is one `send`), one chunk per
//! read for an unknown length, or a file (`file.rs`).
//!
//! Every byte goes out through `send.rs`, that is through `Transport::poll_send`.

use std::io;
use std::task::Poll;
use std::time::Duration;

use futures_lite::{AsyncRead, AsyncReadExt};
use http_types::Response;

use super::file::send_file;
use super::send::Out;
use crate::fs::body::FileBody;
use crate::h1::HeadError;
use crate::h1::encode::{self, CHUNK_HEADER_LEN, LAST_CHUNK, Persistence, ResponseFraming};
use crate::metrics::Metrics;
use crate::response::text_response;
use crate::transport::Transport;

/// A response body with a known length is copied into the write buffer and sent in pieces of
/// at most this much.
const SEND_CHUNK: usize = 64 * 1024;
/// Read size for bodies of unknown length, each sent as one chunk as soon as it is read.
const STREAM_CHUNK: usize = 16 * 1024;

/// How a response is written: what the request asked and allows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reply<'a> {
    /// A `HEAD` request: the head only.
    pub(crate) head_only: bool,
    /// An HTTP/1.0 client: no chunked framing.
    pub(crate) http10: bool,
    /// What the connection may do after this response.
    pub(crate) after: Persistence,
    /// How long a write may make no progress.
    pub(crate) timeout: Duration,
    /// Counts the bytes sent.
    pub(crate) metrics: &'a Metrics,
}

/// Writes `res` (head and body) into `out` and through `transport`; returns what becomes of
/// the connection (the response or its framing may close one that could stay open).
///
/// A function returning an `async move` block, not an `async fn`: an `async fn`'s future
/// keeps its arguments twice (as given, and moved into its body), and the response is 344
/// bytes of a future that every exchange moves into its pooled room.
#[allow(clippy::manual_async_fn)] // the point: see above
pub(crate) fn write_response<'a, T: Transport>(
    transport: &'a T,
    out: &'a mut Vec<u8>,
    mut res: Response,
    reply: Reply<'a>,
) -> impl std::future::Future<Output = io::Result<Persistence>> + 'a {
    async move {
        let w = Out {
            transport,
            timeout: reply.timeout,
            metrics: reply.metrics,
        };
        // A body set on a file response replaces the file; only an empty one leaves it to be sent.
        let file = res
            .ext_mut()
            .remove::<FileBody>()
            .filter(|_| res.len() == Some(0));
        // The body is read through the response itself (it is an `AsyncRead`): taking it out
        // would make http-types invent a content type.
        let len = match &file {
            Some(file) => Some(file.len()),
            None => res.len().map(|n| n as u64),
        };
        let mut after = reply.after;
        let framing = match len {
            _ if !encode::status_has_body(res.status()) => ResponseFraming::NoBody,
            Some(n) => ResponseFraming::Length(n),
            None if !reply.http10 => ResponseFraming::Chunked,
            None => {
                after = Persistence::Close;
                ResponseFraming::Close
            }
        };
        out.clear();
        let after = encode::write_head(out, &res, framing, after, reply.http10);
        if reply.head_only || framing == ResponseFraming::NoBody {
            w.send(out).await?;
            return Ok(after);
        }
        match (file, framing) {
            (Some(file), _) => send_file(&w, out, file).await?,
            (None, ResponseFraming::Length(n)) => send_sized(&w, out, &mut res, n).await?,
            (None, framing) => {
                let chunked = framing == ResponseFraming::Chunked;
                send_streamed(&w, out, &mut res, chunked).await?
            }
        }
        Ok(after)
    }
}

/// Answers a refused head: its status, a one-line reason, `Connection: close`.
pub(crate) async fn refuse<T: Transport>(
    transport: &T,
    out: &mut Vec<u8>,
    e: HeadError,
    timeout: Duration,
    metrics: &Metrics,
) -> io::Result<()> {
    metrics.rejected(e.status);
    let res = text_response(e.status, format!("{}\n", e.reason));
    let reply = Reply {
        head_only: false,
        http10: false,
        after: Persistence::Close,
        timeout,
        metrics,
    };
    write_response(transport, out, res, reply).await.map(drop)
}

/// Reads up to `max` bytes of `body` onto the end of `out`; returns how many.
/// One poll of `body` for at most `max` bytes after what `out` holds.
fn poll_read_onto(
    cx: &mut std::task::Context<'_>,
    body: &mut (impl AsyncRead + Unpin),
    out: &mut Vec<u8>,
    max: usize,
) -> Poll<io::Result<usize>> {
    let start = out.len();
    out.resize(start + max, 0);
    let read = std::pin::Pin::new(body).poll_read(cx, &mut out[start..]);
    let n = match &read {
        Poll::Ready(Ok(n)) => *n,
        _ => 0,
    };
    out.truncate(start + n);
    read
}

async fn read_onto(
    body: &mut (impl AsyncRead + Unpin),
    out: &mut Vec<u8>,
    max: usize,
) -> io::Result<usize> {
    let start = out.len();
    out.resize(start + max, 0);
    let result = body.read(&mut out[start..]).await;
    out.truncate(start + *result.as_ref().unwrap_or(&0));
    result
}

/// A body of known length: head and body share sends; small responses take one `send`.
async fn send_sized<T: Transport>(
    w: &Out<'_, T>,
    out: &mut Vec<u8>,
    body: &mut (impl AsyncRead + Unpin),
    len: u64,
) -> io::Result<()> {
    let mut left = len;
    while left > 0 {
        let room = SEND_CHUNK.saturating_sub(out.len()).max(4096);
        let n = read_onto(
            body,
            out,
            room.min(usize::try_from(left).unwrap_or(usize::MAX)),
        )
        .await?;
        if n == 0 {
            // The framing promised more: the only honest ending is closing the connection.
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "response body shorter than its length",
            ));
        }
        left -= n as u64;
        if out.len() >= SEND_CHUNK || left == 0 {
            w.send(out).await?;
            out.clear();
        }
    }
    if !out.is_empty() {
        w.send(out).await?;
    }
    Ok(())
}

/// A body of unknown length: each read is sent at once, as a chunk or (HTTP/1.0) raw.
async fn send_streamed<T: Transport>(
    w: &Out<'_, T>,
    out: &mut Vec<u8>,
    body: &mut (impl AsyncRead + Unpin),
    chunked: bool,
) -> io::Result<()> {
    loop {
        let slot = out.len();
        if chunked {
            out.resize(slot + CHUNK_HEADER_LEN, 0);
        }
        // The head waits in `out` for the first piece of the body only if that piece is
        // ready now: a body that takes its time (server-sent events) has its head sent
        // first, so the client sees the response begin.
        let read = std::future::poll_fn(|cx| match poll_read_onto(cx, body, out, STREAM_CHUNK) {
            Poll::Pending if slot > 0 => Poll::Ready(None),
            read => read.map(Some),
        })
        .await;
        let Some(n) = read.transpose()? else {
            out.truncate(slot);
            w.send(out).await?;
            out.clear();
            continue;
        };
        if n == 0 {
            out.truncate(slot);
            if chunked {
                out.extend_from_slice(LAST_CHUNK);
            }
            w.send(out).await?;
            return Ok(());
        }
        if chunked {
            encode::write_chunk_header(&mut out[slot..slot + CHUNK_HEADER_LEN], n);
            out.extend_from_slice(b"\r\n");
        }
        w.send(out).await?;
        out.clear();
    }
}
