//! Streaming responses: bodies produced over time, sent as they are produced.
//!
//! * `/count` — a chunked response fed through a smol channel by a task that sends one line
//!   every 200 ms. The body has no length, so smolweb sends it with
//!   `Transfer-Encoding: chunked`, one chunk per read, as soon as each line arrives.
//! * `/events?count=N` — server-sent events (`text/event-stream`): N events (default 3, at
//!   most 100) one second apart, produced by an async stream with no task at all.
//!
//! `/count` is `smolweb::body_from_stream` over the channel's receiver; `/events` is
//! `smolweb::sse::Sse` over a stream of `Event`s. If the client goes away, the next send
//! fails, the body is dropped, and so is the stream (the channel's sender then sees a closed
//! channel and the producing task stops).
//!
//! ```sh
//! cargo run --example streaming
//! curl -N http://127.0.0.1:8080/count
//! curl -N 'http://127.0.0.1:8080/events?count=5'
//! ```
//!
//! The address comes from the first argument (default `127.0.0.1:8080`).

mod support;

use std::time::Duration;

use async_io::Timer;
use futures_lite::{Stream, StreamExt, stream};
use serde::Deserialize;
use smolweb::sse::{Event, Sse};
use smolweb::{Body, Request, Result, Router, body_from_stream};

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
    let mut body = body_from_stream(rx.map(Ok::<_, std::io::Error>));
    body.set_mime(smolweb::http::mime::PLAIN);
    body
}

#[derive(Deserialize)]
struct EventsQuery {
    count: Option<u32>,
}

/// Server-sent events: `count` events one second apart, then the stream ends.
async fn events(req: Request) -> Result<Sse<impl Stream<Item = Event> + Send + 'static>> {
    let query: EventsQuery = req.query_as()?;
    let count = query.count.unwrap_or(3).min(100);
    let events = stream::unfold(0, move |n| async move {
        if n == count {
            return None;
        }
        if n > 0 {
            Timer::after(Duration::from_secs(1)).await;
        }
        let event = Event::data(format!("tick {n}"))
            .event("tick")
            .id(n.to_string());
        Some((event, n + 1))
    });
    Ok(Sse::new(events))
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
