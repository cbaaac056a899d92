//! Streaming responses: bodies produced over time, sent as they are produced.
//!
//! * `/count` — a chunked response fed through a smol channel by a task that sends one line
//!   every 200 ms. The body has no length, so smolweb sends it with
//!   `Transfer-Encoding: chunked`, one chunk per read, as soon as each line arrives.
//! * `/events?count=N` — server-sent events (`text/event-stream`): N events (default 3, at
//!   most 100) one second apart, produced by an async stream with no task at all.
//!
//! Both turn a `Stream` of byte vectors into an `AsyncBufRead` (`StreamReader` below, plus
//! `futures_lite::io::BufReader`) and hand it to `Body::from_reader(reader, None)`. If the
//! client goes away, the next send fails, the body is dropped, and so is the stream (the
//! channel's sender then sees a closed channel and the producing task stops).
//!
//! ```sh
//! cargo run --example streaming
//! curl -N http://127.0.0.1:8080/count
//! curl -N 'http://127.0.0.1:8080/events?count=5'
//! ```
//!
//! The address comes from the first argument (default `127.0.0.1:8080`).

mod support;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::Timer;
use futures_lite::io::BufReader;
use futures_lite::{AsyncRead, Stream, stream};
use serde::Deserialize;
use smolweb::{Body, Error, Request, Response, Result, Router, StatusCode};

/// Reads the byte vectors a stream yields, in order; end of stream is end of file.
struct StreamReader<S> {
    stream: S,
    chunk: Vec<u8>,
    pos: usize,
}

impl<S> StreamReader<S> {
    fn new(stream: S) -> Self {
        StreamReader {
            stream,
            chunk: Vec::new(),
            pos: 0,
        }
    }
}

impl<S: Stream<Item = Vec<u8>> + Unpin> AsyncRead for StreamReader<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        while this.pos == this.chunk.len() {
            match std::task::ready!(Pin::new(&mut this.stream).poll_next(cx)) {
                Some(chunk) => (this.chunk, this.pos) = (chunk, 0),
                None => return Poll::Ready(Ok(0)),
            }
        }
        let n = buf.len().min(this.chunk.len() - this.pos);
        buf[..n].copy_from_slice(&this.chunk[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(n))
    }
}

/// A body of unknown length read from `stream`: sent chunked, each piece as it comes.
fn streamed_body<S>(stream: S) -> Body
where
    S: Stream<Item = Vec<u8>> + Unpin + Send + Sync + 'static,
{
    Body::from_reader(BufReader::new(StreamReader::new(stream)), None)
}

/// Five lines, 200 ms apart, produced by a separate task through a channel.
async fn count(_req: Request) -> Body {
    let (tx, rx) = smol::channel::bounded::<Vec<u8>>(1);
    smol::spawn(async move {
        for i in 1..=5 {
            if tx.send(format!("line {i}\n").into_bytes()).await.is_err() {
                return; // the client went away and the body was dropped
            }
            Timer::after(Duration::from_millis(200)).await;
        }
        // Dropping `tx` ends the stream, which ends the response.
    })
    .detach();
    let mut body = streamed_body(Box::pin(rx));
    body.set_mime(smolweb::http::mime::PLAIN);
    body
}

#[derive(Deserialize)]
struct EventsQuery {
    count: Option<u32>,
}

/// Server-sent events: `count` events one second apart, then the stream ends.
async fn events(req: Request) -> Result<Response> {
    let query: EventsQuery = req
        .as_http()
        .query()
        .map_err(|e| Error::new(StatusCode::BadRequest, format!("bad query: {e}")))?;
    let count = query.count.unwrap_or(3).min(100);
    let events = stream::unfold(0, move |n| async move {
        if n == count {
            return None;
        }
        if n > 0 {
            Timer::after(Duration::from_secs(1)).await;
        }
        let event = format!("id: {n}\nevent: tick\ndata: tick {n}\n\n");
        Some((event.into_bytes(), n + 1))
    });
    let mut res = Response::new(StatusCode::Ok);
    res.set_body(streamed_body(Box::pin(events)));
    res.insert_header("content-type", "text/event-stream");
    res.insert_header("cache-control", "no-cache");
    Ok(res)
}

const USAGE: support::Usage = support::Usage {
    name: "streaming",
    args: "[ADDR]",
    about: "Streamed responses on ADDR (default 127.0.0.1:8080): open http://127.0.0.1:8080/count
(chunked) and http://127.0.0.1:8080/events?count=5 (server-sent events).",
};

fn main() {
    let args = USAGE.parse(1);
    let app = Router::new()
        .get("/", |_| async { "try /count and /events\n" })
        .get("/count", count)
        .get("/events", events);

    let server = USAGE.bind(args.first().map_or(support::DEFAULT_ADDR, String::as_str));
    println!("listening on http://{}", server.local_addr());
    USAGE.exit(server.run(app));
}
