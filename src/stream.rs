//! A `Stream` of byte chunks as a response body: [`body_from_stream`].

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures_lite::{AsyncRead, Stream};
use http_types::Body;

/// How many bytes of a chunk the body gives out per read of it, at most.
const READ_BUFFER: usize = 16 * 1024;

/// A body read from `stream`, each chunk as it comes: the connection sends every chunk as
/// soon as it arrives (chunked framing, or raw to HTTP/1.0 clients), never waiting to fill a
/// buffer. An error from the stream ends the response (the connection is closed: the framing
/// cannot say "failed"). The stream is dropped when the response is, also when the client
/// goes away (the next write fails).
///
/// ```
/// use futures_lite::stream;
/// use smolweb::{Router, body_from_stream, test::TestClient};
///
/// let app = Router::new().get("/count", |_| async {
///     let chunks = stream::iter((1..=3).map(|n| Ok(format!("{n}\n").into_bytes())));
///     body_from_stream(chunks)
/// });
/// smol::block_on(async {
///     let res = TestClient::new(app).get("/count").send().await;
///     assert_eq!(res.header("transfer-encoding"), Some("chunked"));
///     assert_eq!(res.text().await, "1\n2\n3\n");
/// });
/// ```
pub fn body_from_stream<S>(stream: S) -> Body
where
    S: Stream<Item = io::Result<Vec<u8>>> + Send + 'static,
{
    let reader = StreamReader {
        stream: Mutex::new(Box::pin(stream)),
        chunk: Vec::new(),
        at: 0,
    };
    Body::from_reader(
        futures_lite::io::BufReader::with_capacity(READ_BUFFER, reader),
        None,
    )
}

/// A stream of byte chunks, boxed.
type Chunks = Pin<Box<dyn Stream<Item = io::Result<Vec<u8>>> + Send>>;

/// The chunks of a stream as an `AsyncRead`. The stream is behind a `Mutex` only so that the
/// body is `Sync`, as http-types asks; it is reached with `get_mut`, never locked.
struct StreamReader {
    stream: Mutex<Chunks>,
    /// The chunk being given out, and how far.
    chunk: Vec<u8>,
    at: usize,
}

impl AsyncRead for StreamReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // Each pass gives out bytes, ends the body, or takes the next chunk (empty ones are
        // skipped).
        loop {
            if let Some(n) = give_out(&this.chunk, &mut this.at, buf) {
                return Poll::Ready(Ok(n));
            }
            let stream = this.stream.get_mut().unwrap_or_else(|p| p.into_inner());
            match std::task::ready!(stream.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => {
                    this.chunk = chunk;
                    this.at = 0;
                }
                Some(Err(e)) => return Poll::Ready(Err(e)),
                None => return Poll::Ready(Ok(0)),
            }
        }
    }
}

/// Copies what `pending` holds after `*at` into `buf`, as much as fits, and moves `*at` past
/// it; `None` when nothing is left: the step every reader over a chunk of bytes repeats.
pub(crate) fn give_out(pending: &[u8], at: &mut usize, buf: &mut [u8]) -> Option<usize> {
    let rest = pending.get(*at..).filter(|rest| !rest.is_empty())?;
    let n = buf.len().min(rest.len());
    buf[..n].copy_from_slice(&rest[..n]);
    *at += n;
    Some(n)
}
