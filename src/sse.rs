//! Server-sent events (the WHATWG `text/event-stream` format): [`Sse`], a response made from
//! a stream of [`Event`]s, each sent as soon as it is produced.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::Timer;
use futures_lite::{Stream, StreamExt};
use http_types::{Response, StatusCode};

use crate::response::IntoResponse;
use crate::stream::body_from_stream;

/// How often an idle stream sends a comment, unless [`Sse::keep_alive`] says otherwise.
///
/// **Default:** 15 s. **Unit:** time.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One event: its data, and optionally a type, an id and a reconnection delay.
///
/// ```
/// use smolweb::sse::Event;
/// let e = Event::data("line one\nline two").event("note").id("7");
/// assert_eq!(e.to_string(), "event: note\nid: 7\ndata: line one\ndata: line two\n\n");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    data: String,
    event: Option<String>,
    id: Option<String>,
    retry: Option<Duration>,
}

/// `value` with its line breaks removed (a type or an id is one line).
fn one_line(value: impl Into<String>) -> String {
    let value: String = value.into();
    value.replace(['\r', '\n', '\0'], "")
}

impl Event {
    /// An event carrying `data`; a multi-line value is sent as several `data:` lines, which
    /// the browser joins back with `\n`.
    pub fn data(data: impl Into<String>) -> Self {
        Event {
            data: data.into(),
            ..Event::default()
        }
    }

    /// An event whose data is `value` as JSON.
    ///
    /// ```
    /// use smolweb::sse::Event;
    /// let e = Event::json(&serde_json::json!({"id": 1})).unwrap();
    /// assert_eq!(e.to_string(), "data: {\"id\":1}\n\n");
    /// ```
    pub fn json(value: &impl serde::Serialize) -> serde_json::Result<Self> {
        Ok(Event::data(serde_json::to_string(value)?))
    }

    /// The event's type (`event:`; the browser's `addEventListener(type, ..)`). Line breaks
    /// are removed.
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(one_line(event));
        self
    }

    /// The event's id (`id:`; sent back by a reconnecting browser as `Last-Event-ID`). Line
    /// breaks and NUL are removed.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(one_line(id));
        self
    }

    /// How long the browser waits before reconnecting (`retry:`, in milliseconds).
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }
}

/// The event in the wire format, ending with its blank line.
impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(event) = &self.event {
            writeln!(f, "event: {event}")?;
        }
        if let Some(id) = &self.id {
            writeln!(f, "id: {id}")?;
        }
        if let Some(retry) = self.retry {
            writeln!(f, "retry: {}", retry.as_millis())?;
        }
        // CR LF, CR and LF all end a line in the format.
        for line in self.data.replace("\r\n", "\n").split(['\n', '\r']) {
            writeln!(f, "data: {line}")?;
        }
        writeln!(f)
    }
}

/// A `text/event-stream` response from a stream of events, each sent as soon as the stream
/// yields it; a comment goes out when the stream has been quiet for the
/// [`keep_alive`](Self::keep_alive) interval, which keeps proxies from closing the
/// connection and finds a client that went away (its write fails, and the stream is dropped).
///
/// ```
/// use futures_lite::stream;
/// use smolweb::sse::{Event, Sse};
/// use smolweb::{Router, test::TestClient};
///
/// let app = Router::new().get("/events", |_| async {
///     Sse::new(stream::iter((1..=2).map(|n| Event::data(format!("tick {n}")))))
/// });
/// smol::block_on(async {
///     let res = TestClient::new(app).get("/events").send().await;
///     assert_eq!(res.header("content-type"), Some("text/event-stream"));
///     assert_eq!(res.text().await, "data: tick 1\n\ndata: tick 2\n\n");
/// });
/// ```
#[derive(Debug)]
pub struct Sse<S> {
    events: S,
    keep_alive: Option<Duration>,
}

impl<S> Sse<S>
where
    S: Stream<Item = Event> + Send + 'static,
{
    /// The response for `events`.
    pub fn new(events: S) -> Self {
        Sse {
            events,
            keep_alive: Some(KEEP_ALIVE),
        }
    }

    /// How long the stream may be quiet before a comment is sent; `None` for never.
    ///
    /// **Default:** 15 s ([`KEEP_ALIVE`]). **Unit:** time.
    pub fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval;
        self
    }
}

impl<S> IntoResponse for Sse<S>
where
    S: Stream<Item = Event> + Send + 'static,
{
    fn into_response(self) -> Response {
        let chunks = Framed {
            events: Box::pin(self.events),
            keep_alive: self.keep_alive.map(|every| (every, Timer::after(every))),
        };
        let mut res = Response::new(StatusCode::Ok);
        res.set_body(body_from_stream(chunks.map(Ok::<_, io::Error>)));
        res.insert_header("content-type", "text/event-stream");
        res.insert_header("cache-control", "no-cache");
        // nginx would otherwise buffer the stream.
        res.insert_header("x-accel-buffering", "no");
        res
    }
}

/// The events as wire-format chunks, with keep-alive comments in the quiet spells.
struct Framed {
    events: Pin<Box<dyn Stream<Item = Event> + Send>>,
    /// The keep-alive interval, and the timer of the current quiet spell.
    keep_alive: Option<(Duration, Timer)>,
}

impl Stream for Framed {
    type Item = Vec<u8>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
        let this = &mut *self;
        if let Poll::Ready(next) = this.events.as_mut().poll_next(cx) {
            if let Some((every, timer)) = &mut this.keep_alive {
                timer.set_after(*every);
            }
            return Poll::Ready(next.map(|event| event.to_string().into_bytes()));
        }
        if let Some((every, timer)) = &mut this.keep_alive {
            if Pin::new(&mut *timer).poll(cx).is_ready() {
                timer.set_after(*every);
                return Poll::Ready(Some(b": keep-alive\n\n".to_vec()));
            }
        }
        Poll::Pending
    }
}
